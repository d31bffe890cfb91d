"""User-weighted fits (metafor's ``rma(yi, vi, weights = a, ...)``) against metafor 3.8-1.

Reference values: ``tests/data/weighted_fit_metafor.json``, made by
``tests/data/weighted_fit_metafor.R`` (the R call of every case is stored beside its
numbers).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from igmeta.bias import beta_selection_model, egger_test, step_selection_model, trim_and_fill
from igmeta.gosh import gosh
from igmeta.permutation import permutation_test
from igmeta.pooling import meta_analysis, meta_regression
from igmeta.sensitivity import cumulative, influence, leave_one_out

REF = json.loads((Path(__file__).parent / "data" / "weighted_fit_metafor.json").read_text())
CLOSED = {"rtol": 1e-10, "atol": 1e-12}
ITERATIVE = {"rtol": 1e-6, "atol": 1e-8}
FIELDS = {
    "estimate": "estimate",
    "se": "se",
    "zval": "statistic",
    "pval": "pval",
    "ci_lb": "ci_lower",
    "ci_ub": "ci_upper",
    "tau2": "tau2",
    "se_tau2": "se_tau2",
    "QE": "q",
    "QEp": "q_pval",
    "I2": "i2",
    "H2": "h2",
    "s2w": "s2w",
    "ll_ml": "loglik_ml",
    "ll_reml": "loglik_reml",
    "study_weights": "weights",
}


def _weights(case: dict, data: dict) -> np.ndarray:
    """The R expression of the case's weights, evaluated on the stored data."""
    expr = case["weights"]
    k = len(data["yi"])
    known = {
        "ni": lambda: data.get("ni"),
        "a": lambda: data.get("a"),
        "1 / sqrt(vi)": lambda: 1 / np.sqrt(data["vi"]),
        f"rep(1, {k})": lambda: np.ones(k),
    }
    return np.asarray(known[expr](), dtype=float)


def _case(tag: str):
    case = REF["cases"][tag]
    data = {key: np.asarray(val, dtype=float) for key, val in REF["data"][case["data"]].items()}
    return case, data, _weights(case, data)


def _tol(case: dict) -> dict:
    return ITERATIVE if case["method"] in ("REML", "PM") else CLOSED


def _check(res, case: dict, names: dict) -> None:
    for ref_name, attr in names.items():
        expected = case[ref_name]
        if expected is None:
            continue
        got = np.ravel(getattr(res, attr))
        np.testing.assert_allclose(got, np.ravel(expected), **_tol(case), err_msg=ref_name)


INTERCEPT = [tag for tag, case in REF["cases"].items() if case["mods"] is None]


@pytest.mark.parametrize("tag", INTERCEPT)
def test_weighted_fit_matches_metafor(tag):
    case, data, a = _case(tag)
    res = meta_analysis(
        yi=data["yi"],
        vi=data["vi"],
        method=case["method"],
        test=case["test"],
        level=case["level"],
        weights=a,
    )
    names = dict(FIELDS)
    if case["method"] == "FE":
        names.pop("se_tau2")
    else:
        names.update(pi_lb="pi_lower", pi_ub="pi_upper")
    _check(res, case, names)
    np.testing.assert_allclose(res.user_weights, a, **CLOSED)


@pytest.mark.parametrize("tag", ["bcg_ablat_GENQ_z", "bcg_ablat_GENQ_knha"])
def test_weighted_meta_regression_matches_metafor(tag):
    case, data, a = _case(tag)
    res = meta_regression(
        yi=data["yi"],
        vi=data["vi"],
        mods={"ablat": data["ablat"]},
        method="GENQ",
        test=case["test"],
        weights=a,
    )
    names = {k: v for k, v in FIELDS.items() if k not in ("ll_ml", "ll_reml")}
    names["R2"] = "r2"
    _check(res, case, names)


def test_weighted_estimate_is_the_weighted_mean():
    case, data, a = _case("bcg_GENQ_z")
    res = meta_analysis(yi=data["yi"], vi=data["vi"], method="GENQ", weights=a)
    np.testing.assert_allclose(res.estimate, np.sum(a * data["yi"]) / a.sum(), **CLOSED)
    var = np.sum(a**2 * (data["vi"] + res.tau2)) / a.sum() ** 2
    np.testing.assert_allclose(res.se, np.sqrt(var), **CLOSED)


def test_inverse_variance_weights_give_the_usual_fit():
    case, data, _ = _case("bcg_GENQ_z")
    plain = meta_analysis(yi=data["yi"], vi=data["vi"], method="DL")
    tau2 = plain.tau2
    weighted = meta_analysis(
        yi=data["yi"], vi=data["vi"], method="DL", weights=1 / (data["vi"] + tau2)
    )
    for attr in ("estimate", "se", "ci_lower", "ci_upper", "pi_lower", "loglik_reml"):
        np.testing.assert_allclose(getattr(weighted, attr), getattr(plain, attr), **CLOSED)


def test_bad_user_weights_name_the_row():
    _, data, a = _case("bcg_DL_z")
    a = a.copy()
    a[2] = -5
    with pytest.raises(ValueError, match="row\\) 3"):
        meta_analysis(yi=data["yi"], vi=data["vi"], method="DL", weights=a)
    with pytest.raises(ValueError, match="2 weights for 13 studies"):
        meta_analysis(yi=data["yi"], vi=data["vi"], method="DL", weights=[1.0, 2.0])


def test_weights_follow_the_studies_that_are_kept():
    """A study with an undefined effect is left out together with its weight."""
    _, data, a = _case("bcg_GENQ_z")
    yi = data["yi"].copy()
    yi[0] = np.nan
    with pytest.warns(Warning):
        res = meta_analysis(yi=yi, vi=data["vi"], method="GENQ", weights=a)
    ref = meta_analysis(yi=data["yi"][1:], vi=data["vi"][1:], method="GENQ", weights=a[1:])
    np.testing.assert_allclose(res.estimate, ref.estimate, **CLOSED)


def _bcg_genq():
    _, data, a = _case("bcg_GENQ_z")
    return meta_analysis(yi=data["yi"], vi=data["vi"], method="GENQ", weights=a)


def test_refits_keep_the_user_weights_as_metafor():
    """leave1out, cumul and regtest of a GENQ fit refit with the weights of their studies."""
    ref = REF["refits"]
    res = _bcg_genq()
    loo = leave_one_out(res)
    np.testing.assert_allclose(loo["estimate"], ref["leave1out_estimate"], **CLOSED)
    np.testing.assert_allclose(loo["se"], ref["leave1out_se"], **CLOSED)
    np.testing.assert_allclose(loo["tau2"], ref["leave1out_tau2"], **CLOSED)
    cum = cumulative(res)
    np.testing.assert_allclose(cum["estimate"], ref["cumul_estimate"], **CLOSED)
    np.testing.assert_allclose(cum["se"], ref["cumul_se"], **CLOSED)
    egger = egger_test(res)
    np.testing.assert_allclose(egger.zval, ref["regtest_zval"], **CLOSED)
    np.testing.assert_allclose(egger.pval, ref["regtest_pval"], **CLOSED)
    np.testing.assert_allclose(egger.est, ref["regtest_est"], **CLOSED)


@pytest.mark.parametrize(
    "method",
    [
        lambda res: trim_and_fill(res),
        lambda res: step_selection_model(res, steps=[0.025, 1.0]),
        lambda res: beta_selection_model(res),
    ],
)
def test_methods_without_user_weights_say_so(method):
    with pytest.raises(ValueError, match="not available for a fit with user weights"):
        method(_bcg_genq())


def test_influence_of_a_weighted_fit_says_it_is_not_available():
    with pytest.raises(ValueError, match="influence analysis is not available"):
        influence(_bcg_genq())


def test_weights_all_zero_are_a_clear_error():
    _, data, _ = _case("bcg_GENQ_z")
    with pytest.raises(ValueError, match="all 0"):
        meta_analysis(yi=data["yi"], vi=data["vi"], method="GENQ", weights=np.zeros(13))


def test_gosh_of_a_weighted_fit_matches_metafor():
    ref = REF["refits"]
    _, data, a = _case("norm_GENQ_z")
    res = meta_analysis(yi=data["yi"], vi=data["vi"], method="GENQ", weights=a)
    frame = gosh(res)
    assert len(frame) == 2**9 - 1
    np.testing.assert_allclose(frame["estimate"].mean(), ref["gosh_mean_estimate"], **CLOSED)
    np.testing.assert_allclose(frame["tau2"].mean(), ref["gosh_mean_tau2"], **CLOSED)
    np.testing.assert_allclose(frame["i2"].mean(), ref["gosh_mean_I2"], **CLOSED)


def test_exact_permutation_test_of_a_weighted_fit_matches_metafor():
    _, data, a = _case("norm_GENQ_z")
    res = meta_analysis(yi=data["yi"], vi=data["vi"], method="GENQ", weights=a)
    pval = np.ravel(permutation_test(res, exact=True).pval)[0]
    np.testing.assert_allclose(pval, REF["refits"]["permutest_pval"], **CLOSED)
