"""tau^2 estimators (igmeta.estimators) GENQ, HSk and PMM against metafor 3.8-1: alone, in
meta-analyses and meta-regressions, truncated at zero, registered.

Reference values: tests/data/tau2_more_metafor.R (the R call of each case) and its output
tests/data/tau2_more_metafor.txt, read by tests/tau2_reference.py; R is not needed here.
"""

from __future__ import annotations

import numpy as np
import pytest
from tau2_reference import (
    ABLAT,
    CLOSED,
    ES,
    FLAT,
    ITERATIVE,
    NI,
    REF,
    moderators,
    quiet,
)

from igmeta.design import InterceptDesign, MatrixDesign
from igmeta.estimators import ESTIMATORS, estimate_tau2
from igmeta.pooling import meta_analysis, meta_regression
from igmeta.warnings import BoundaryWarning

FIT_CASES = {
    "bcg_HSk": ("HSk", ()),
    "bcg_PMM": ("PMM", ()),
    "bcg_PM": ("PM", ()),
    "bcg_ablat_HSk": ("HSk", ("ablat",)),
    "bcg_ablat_PMM": ("PMM", ("ablat",)),
    "bcg_ablat_year_PMM": ("PMM", ("ablat", "year")),
}


@pytest.mark.parametrize("tag", sorted(FIT_CASES))
def test_hsk_pmm_fits_match_metafor(tag):
    method, mods = FIT_CASES[tag]
    ref = REF[tag]["values"]
    if mods:
        res = quiet(meta_regression, ES, mods=moderators(mods), method=method)
        beta, se = res.estimate[0], res.se[0]
    else:
        res = quiet(meta_analysis, ES, method=method)
        beta, se = res.estimate, res.se
    tol = ITERATIVE if method.startswith("PM") else CLOSED
    np.testing.assert_allclose(res.tau2, ref["tau2"], **tol)
    np.testing.assert_allclose(res.se_tau2, ref["se_tau2"], **tol)
    np.testing.assert_allclose([beta, se], [ref["beta"], ref["se"]], **tol)
    assert res.converged


@pytest.mark.parametrize(
    ("tag", "weights", "mods"),
    [
        ("bcg_GENQ_ni", NI, ()),
        ("bcg_GENQ_invvar", 1 / ES.vi, ()),
        ("bcg_GENQ_unit", np.ones(13), ()),
        ("bcg_ablat_GENQ_ni", NI, ("ablat",)),
    ],
)
def test_genq_matches_metafor(tag, weights, mods):
    ref = REF[tag]["values"]
    if mods:
        design = MatrixDesign(ES.yi, ES.vi, np.column_stack([np.ones(13), ABLAT]))
    else:
        design = InterceptDesign(ES.yi, ES.vi)
    est = estimate_tau2(design, "GENQ", weights=weights)
    np.testing.assert_allclose(est.tau2[0], ref["tau2"], **CLOSED)
    np.testing.assert_allclose(est.se_tau2[0], ref["se_tau2"], **CLOSED)


def test_genq_special_cases_are_dl_and_he():
    design = InterceptDesign(ES.yi, ES.vi)
    for weights, other in ((1 / ES.vi, "DL"), (np.ones(13), "HE")):
        genq = estimate_tau2(design, "GENQ", weights=weights)
        np.testing.assert_allclose(genq.tau2, estimate_tau2(design, other).tau2, **CLOSED)


def test_genq_without_weights_is_a_clear_error():
    with pytest.raises(ValueError, match="needs weights"):
        estimate_tau2(InterceptDesign(ES.yi, ES.vi), "GENQ")
    with pytest.raises(ValueError, match="needs weights"):
        meta_analysis(ES, method="GENQ")


def test_genq_bad_weights_name_the_row():
    design = InterceptDesign(ES.yi, ES.vi)
    weights = NI.copy()
    weights[4] = -1.0
    with pytest.raises(ValueError, match="study \\(row\\) 5"):
        estimate_tau2(design, "GENQ", weights=weights)
    weights[4] = np.nan
    with pytest.raises(ValueError, match="row\\) 5"):
        estimate_tau2(design, "GENQ", weights=weights)
    with pytest.raises(ValueError, match="3 weights for 13 studies"):
        estimate_tau2(design, "GENQ", weights=[1.0, 2.0, 3.0])


@pytest.mark.parametrize(("tag", "method"), [("flat_HSk", "HSk"), ("flat_PMM", "PMM")])
def test_truncated_at_zero_like_metafor(tag, method):
    ref = REF[tag]["values"]
    with pytest.warns(BoundaryWarning, match="boundary"):
        res = meta_analysis(method=method, **FLAT)
    assert res.tau2 == 0.0 == ref["tau2"]
    np.testing.assert_allclose([res.se_tau2, res.estimate], [ref["se_tau2"], ref["beta"]], **CLOSED)


def test_flat_genq_is_truncated_at_zero():
    ref = REF["flat_GENQ_unit"]["values"]
    est = estimate_tau2(InterceptDesign(FLAT["yi"], FLAT["vi"]), "GENQ", weights=np.ones(5))
    assert est.tau2[0] == 0.0 == ref["tau2"]
    np.testing.assert_allclose(est.se_tau2[0], ref["se_tau2"], **CLOSED)


def test_new_codes_are_registered_and_case_insensitive():
    assert {"GENQ", "HSk", "PMM"} <= set(ESTIMATORS)
    design = InterceptDesign(ES.yi, ES.vi)
    assert estimate_tau2(design, "hsk").tau2[0] == estimate_tau2(design, "HSk").tau2[0]
    # Batched like the others: two identical fits give identical numbers.
    both = InterceptDesign(np.vstack([ES.yi, ES.yi]), np.vstack([ES.vi, ES.vi]))
    assert np.ptp(estimate_tau2(both, "PMM").tau2) == 0.0


def test_pmm_is_below_pm_when_q_median_below_df():
    # chi2 median < df, so the PMM root lies above the PM root (Q decreases in tau^2).
    pm = quiet(meta_analysis, ES, method="PM").tau2
    pmm = quiet(meta_analysis, ES, method="PMM").tau2
    assert pmm > pm
