"""Mantel-Haenszel pooling of incidence rates (igmeta.mantel_haenszel_rates) against
metafor 3.8-1 ``rma.mh(measure = "IRR" / "IRD")`` (tests/data/mh_rates_metafor.R writes the
reference values: dat.hart1999, zero counts, no events in one group, a missing count)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from igmeta.mantel_haenszel_rates import meta_analysis_mh_rates
from igmeta.warnings import DroppedStudiesWarning

DATA = Path(__file__).parent / "data" / "mh_rates_metafor.json"
CASES = json.loads(DATA.read_text())["cases"]
RTOL, ATOL = 1e-10, 1e-12


def _fit(case):
    given = {key: [np.nan if v is None else v for v in vals] for key, vals in case["input"].items()}
    measure = "IRR" if case["name"].endswith("IRR") else "IRD"
    level = 0.9 if case["name"].startswith("level90") else 0.95
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return meta_analysis_mh_rates(measure, level=level, **given)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_metafor(case):
    res, exp = _fit(case), case["expected"]
    for ours, key in [
        (res.estimate, "beta"),
        (res.se, "se"),
        (res.statistic, "zval"),
        (res.pval, "pval"),
        (res.ci_lower, "ci_lb"),
        (res.ci_upper, "ci_ub"),
        (res.q, "QE"),
        (res.q_pval, "QEp"),
        (res.i2, "I2"),
        (res.h2, "H2"),
        (res.loglik_ml, "logLik"),
        (res.loglik_reml, "logLik_REML"),
        (res.extra["MH"], "MH"),
        (res.extra["MHp"], "MHp"),
    ]:
        if exp[key] is None:  # metafor's NA
            assert ours is None or not np.isfinite(ours), key
        else:
            np.testing.assert_allclose(ours, exp[key], rtol=RTOL, atol=ATOL, err_msg=key)
    assert res.k == exp["k"] and res.extra["k.yi"] == exp["k_yi"]


def test_missing_counts_are_dropped_with_a_named_warning():
    with pytest.warns(DroppedStudiesWarning, match=r"Left out .*: B\."):
        res = meta_analysis_mh_rates(
            "IRR", x1i=[4, "", 6], t1i=[120, 100, 300], x2i=[8, 3, 9], t2i=[130, 90, 280],
            study=["A", "B", "C"],
        )  # fmt: skip
    assert res.study == ("A", "C") and res.k == 2


def test_no_events_in_a_group_is_not_estimable_and_says_why():
    with pytest.warns(UserWarning, match="cannot be estimated"):
        res = meta_analysis_mh_rates("IRR", x1i=[0, 0], t1i=[10, 20], x2i=[1, 2], t2i=[10, 20])
    assert np.isnan(res.estimate) and np.isnan(res.se)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x1i": [1, 2], "t1i": [10, 0], "x2i": [1, 2], "t2i": [10, 20]}, "not positive"),
        ({"x1i": [-1, 2], "t1i": [10, 5], "x2i": [1, 2], "t2i": [10, 20]}, "Negative"),
        ({"x1i": [1, 2], "t1i": [10], "x2i": [1, 2], "t2i": [10, 20]}, "same"),
        ({"x1i": [None], "t1i": [10], "x2i": [1], "t2i": [10]}, "nothing to pool"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        meta_analysis_mh_rates("IRD", **kwargs)
    with pytest.raises(ValueError, match="IRR' or 'IRD"):
        meta_analysis_mh_rates("RR", x1i=[1], t1i=[1], x2i=[1], t2i=[1])
