"""PET-PEESE (igmeta.bias.pet_peese) against R's lm(..., weights = 1/vi) and metafor 3.8-1.

Reference values: tests/data/bias_more_metafor.R (the R calls) and its output
tests/data/bias_more_metafor.txt.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import igmeta as im
from igmeta.bias import PetPeeseResult, egger_test, pet_peese

DATA = Path(__file__).parent / "data" / "bias_more_metafor.txt"
RTOL = 1e-10
ATOL = 1e-9


def read_reference() -> dict[str, dict]:
    """The R output by case and key: arrays of numbers (R's NA as NaN), or an R error
    message (keys ending in ``_ERROR``)."""
    out: dict[str, dict] = {}
    for line in DATA.read_text().splitlines():
        case, key, *values = line.split()
        out.setdefault(case, {})[key] = (
            " ".join(values)
            if key.endswith("_ERROR")
            else np.array([float("nan") if v == "NA" else float(v) for v in values])
        )
    return out


REF = read_reference()
CASES = sorted(case for case in REF if "PET" in REF[case])


def _fit(case: str, method: str = "REML") -> im.MetaResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return im.meta_analysis(yi=REF[case]["yi"], vi=REF[case]["vi"], method=method)


def _close(actual, expected) -> None:
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


def test_reference_file_has_the_expected_cases():
    assert CASES == ["bcg", "hackshaw", "small", "small_peese"]
    assert all(len(REF[c]["PET"]) == 12 and len(REF[c]["PET_FE"]) == 10 for c in CASES)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", ["PET", "PEESE"])
def test_wls_regressions_match_r_lm(case, name):
    out = pet_peese(_fit(case))
    reg = out.pet if name == "PET" else out.peese
    b0, b1, se0, se1, _, t1, _, p1, lb, ub, sigma, df = REF[case][name]
    _close(reg.beta, [b0, b1])
    _close(reg.se, [se0, se1])
    _close([reg.zval, reg.pval], [t1, p1])
    _close([reg.est, reg.ci_lower, reg.ci_upper], [b0, lb, ub])
    _close([reg.sigma, reg.dfs], [sigma, df])
    assert reg.predictor == ("sei" if name == "PET" else "vi")


@pytest.mark.parametrize("case", CASES)
def test_pet_intercept_test_matches_r(case):
    out = pet_peese(_fit(case))
    _, _, _, _, t0, _, p0, *_ = REF[case]["PET"]
    _close([out.pet_tval, out.pet_pval], [t0, p0])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", ["PET", "PEESE"])
def test_same_coefficients_as_metafor_fe_meta_regression(case, name):
    # rma(yi, vi, mods = ~ sqrt(vi) / ~ vi, method = "FE"): same line; its standard errors
    # lack the dispersion factor, so they are the WLS ones divided by sigma.
    out = pet_peese(_fit(case))
    reg = out.pet if name == "PET" else out.peese
    fe = REF[case][f"{name}_FE"]
    _close(reg.beta, fe[0:2])
    _close(reg.se / reg.sigma, fe[2:4])
    rma = egger_test(_fit(case, "FE"), model="rma", predictor=reg.predictor)
    _close(rma.beta, fe[0:2])
    _close(rma.se, fe[2:4])


@pytest.mark.parametrize("case", CASES)
def test_conditional_rule_uses_two_sided_ten_percent(case):
    out = pet_peese(_fit(case))
    p0 = REF[case]["PET"][6]
    assert out.use_peese is bool(p0 < 0.10)
    assert out.chosen is (out.peese if p0 < 0.10 else out.pet)
    assert out.chosen_name == ("PEESE" if p0 < 0.10 else "PET")
    assert out.summary()["est"] == out.chosen.est


def test_both_branches_are_exercised_by_the_references():
    chosen = {case: pet_peese(_fit(case)).chosen_name for case in CASES}
    assert chosen == {"bcg": "PET", "hackshaw": "PET", "small": "PET", "small_peese": "PEESE"}


def test_alpha_changes_the_choice():
    res = _fit("small")  # PET intercept p = 0.199
    assert not pet_peese(res).use_peese
    assert pet_peese(res, alpha=0.25).use_peese
    with pytest.raises(ValueError, match="alpha"):
        pet_peese(res, alpha=1.5)


def test_result_does_not_depend_on_tau2_estimator():
    a, b = pet_peese(_fit("bcg", "REML")), pet_peese(_fit("bcg", "DL"))
    _close(a.pet.beta, b.pet.beta)
    _close(a.peese.se, b.peese.se)


def test_too_few_studies_is_a_clear_error():
    res = im.meta_analysis(yi=[0.1, 0.4], vi=[0.01, 0.05], method="FE")
    with pytest.raises(ValueError, match="at least 3 studies"):
        pet_peese(res)


def test_equal_variances_is_a_clear_error():
    res = im.meta_analysis(yi=[0.1, 0.4, 0.2, 0.3], vi=[0.02] * 4, method="FE")
    with pytest.raises(ValueError, match="same variance"):
        pet_peese(res)


def test_result_type_and_level():
    res = im.meta_analysis(yi=REF["bcg"]["yi"], vi=REF["bcg"]["vi"], method="FE", level=90)
    out = pet_peese(res)
    assert isinstance(out, PetPeeseResult)
    assert out.pet.level == pytest.approx(0.90)
    assert out.pet.ci_upper - out.pet.ci_lower < REF["bcg"]["PET"][9] - REF["bcg"]["PET"][8]
