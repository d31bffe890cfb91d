"""Default study labels are made on demand and behave as the tuple of the labels."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import igmeta as im
from igmeta.effects import DefaultStudyLabels, labels_at, study_labels

LABELS = ("Study 1", "Study 2", "Study 3", "Study 4")


def test_default_labels_behave_as_a_tuple():
    labels = study_labels(None, 4)
    assert isinstance(labels, DefaultStudyLabels)
    assert len(labels) == 4
    assert labels == LABELS and labels == list(LABELS)
    assert LABELS == labels  # noqa: SIM300 - the reflected comparison is what is tested
    assert labels != LABELS[:3] and labels != DefaultStudyLabels(3)
    assert tuple(labels) == LABELS and list(labels) == list(LABELS)
    assert labels[0] == "Study 1" and labels[-1] == "Study 4"
    assert labels[1:3] == ("Study 2", "Study 3") and labels[::-1] == LABELS[::-1]
    assert hash(labels) == hash(LABELS)
    assert "Study 3" in labels and labels.index("Study 2") == 1
    assert np.asarray(labels, dtype=object).tolist() == list(LABELS)
    assert pickle.loads(pickle.dumps(labels)) == labels
    with pytest.raises(IndexError):
        labels[4]


def test_labels_at_masks_and_positions():
    labels = study_labels(None, 4)
    assert labels_at(labels, np.array([True, False, False, True])) == ("Study 1", "Study 4")
    assert labels_at(labels, np.array([2, 0])) == ("Study 3", "Study 1")
    assert labels_at(("a", "b"), np.array([False, False])) == ()


def test_given_labels_stay_a_tuple_with_blanks_filled():
    assert study_labels(["A", "", None], 3) == ("A", "Study 2", "Study 3")


def test_unnamed_fit_names_dropped_studies_and_refits():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = im.meta_analysis(yi=[0.1, 0.2, np.nan, 0.4], vi=[0.1, 0.1, 0.1, 0.1])
    assert res.study == ("Study 1", "Study 2", "Study 4")
    assert res.dropped == ("Study 3",)
    assert im.leave_one_out(res)["study"].tolist() == ["Study 1", "Study 2", "Study 4"]
    big = im.meta_analysis(yi=np.zeros(100_000), vi=np.ones(100_000), method="DL")
    assert isinstance(big.study, DefaultStudyLabels) and big.study[-1] == "Study 100000"
