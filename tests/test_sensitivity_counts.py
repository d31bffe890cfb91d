"""Leave-one-out and cumulative analyses of Mantel-Haenszel and Peto models vs metafor.

Reference values: ``tests/data/mh_peto_refits_metafor.txt``, written by
``tests/data/mh_peto_refits_metafor.R`` (R 4.2.2, metafor 3.8-1): ``leave1out`` and
``cumul`` of ``rma.mh`` (RR, OR, RD) and ``rma.peto`` on the bundled IG trials and on
``dat.bcg`` with one table made double-zero. Each line: tag, row, estimate, se, zval,
pval, ci.lb, ci.ub, Q, Qp, I2, H2 (NA where metafor gives NA).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import igmeta as im

DATA = Path(__file__).parent / "data" / "mh_peto_refits_metafor.txt"
COLUMNS = ("estimate", "se", "statistic", "pval", "ci_lower", "ci_upper", "q", "q_pval", "i2", "h2")
IG = {"ai": [7, 12, 13], "n1i": [11, 30, 19], "ci": [0, 9, 2], "n2i": [12, 30, 20]}
# dat.bcg (metadat 1.2-0) with trial 3 made double-zero, as in the R script.
BCG = {
    "ai": [4, 6, 0, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
    "bi": [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886],
    "ci": [11, 29, 0, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
    "di": [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825],
}
BCG_YEAR = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]


def _reference() -> dict[str, np.ndarray]:
    rows: dict[str, list] = {}
    for line in DATA.read_text().splitlines():
        parts = line.split()
        values = [np.nan if v == "NA" else float(v) for v in parts[2:]]
        rows.setdefault(parts[0], []).append(values)
    return {tag: np.array(values) for tag, values in rows.items()}


REFERENCE = _reference()


def _fit(data: str, measure: str):
    counts = IG if data == "ig" else BCG
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if measure == "PETO":
            return im.meta_analysis_peto(**counts)
        return im.meta_analysis_mh(measure, **counts)


CASES = [(d, m) for d in ("ig", "bcg") for m in ("RR", "OR", "RD", "PETO")]


@pytest.mark.parametrize(("data", "measure"), CASES)
def test_leave_one_out_equals_metafor(data, measure):
    res = _fit(data, measure)
    frame = im.leave_one_out(res)
    expected = REFERENCE[f"{data}_loo_{measure}"]
    assert len(frame) == len(expected) == len(res.study)
    got = frame[list(COLUMNS)].to_numpy(float)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-9, equal_nan=True)
    assert frame["tau2"].isna().all() and frame["pi_lower"].isna().all()


@pytest.mark.parametrize(("data", "measure"), CASES)
def test_cumulative_equals_metafor(data, measure):
    res = _fit(data, measure)
    order = None if data == "ig" else np.argsort(BCG_YEAR, kind="stable")
    frame = im.cumulative(res, order=order)
    expected = REFERENCE[f"{data}_cum_{measure}"]
    got = frame[list(COLUMNS)].to_numpy(float)
    undefined = np.isnan(expected[:, 0])
    # metafor keeps Q = 0, I2 = 0, H2 = 1 for a step whose pooled estimate is undefined
    # (one table with no events in an arm); igmeta leaves the whole step empty.
    np.testing.assert_allclose(
        got[~undefined], expected[~undefined], rtol=1e-10, atol=1e-9, equal_nan=True
    )
    assert np.isnan(got[undefined, :6]).all()


def test_refits_keep_the_zero_cell_convention():
    """With RevMan's convention each refit adds 0.5 to its zero-cell tables again."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = im.meta_analysis_mh("RR", zero_cells="revman", **IG)
        frame = im.leave_one_out(res)
        for i in range(3):
            keep = [j for j in range(3) if j != i]
            alone = im.meta_analysis_mh(
                "RR", zero_cells="revman", **{key: [v[j] for j in keep] for key, v in IG.items()}
            )
            assert frame["estimate"][i] == pytest.approx(alone.estimate, rel=1e-12)
            assert frame["ci_upper"][i] == pytest.approx(alone.ci_upper, rel=1e-12)


def test_influence_gosh_and_permutation_still_need_inverse_variance():
    res = _fit("ig", "RR")
    for func in (im.influence, im.gosh, im.permutation_test):
        with pytest.raises(ValueError, match="inverse-variance"):
            func(res)


# --------------------------------------------------------------------- random tables


@st.composite
def _tables(draw):
    k = draw(st.integers(2, 7))
    n1 = draw(st.lists(st.integers(1, 40), min_size=k, max_size=k))
    n2 = draw(st.lists(st.integers(1, 40), min_size=k, max_size=k))
    ai = [draw(st.integers(0, n)) for n in n1]
    ci = [draw(st.integers(0, n)) for n in n2]
    return {"ai": ai, "n1i": n1, "ci": ci, "n2i": n2}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=_tables(), measure=st.sampled_from(["RR", "OR", "RD", "PETO"]),
       zero_cells=st.sampled_from(["metafor", "revman"]))  # fmt: skip
def test_refits_of_random_tables_are_numbers_or_empty_rows(tables, measure, zero_cells):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if measure == "PETO":
                res = im.meta_analysis_peto(zero_cells=zero_cells, **tables)
            else:
                res = im.meta_analysis_mh(measure, zero_cells=zero_cells, **tables)
        except ValueError:
            return  # nothing to pool: the engine says so (tested elsewhere)
        for frame in (im.leave_one_out(res), im.cumulative(res)):
            values = frame[["estimate", "se", "ci_lower", "ci_upper"]].to_numpy(float)
            finite = np.isfinite(values).all(axis=1)
            empty = np.isnan(values).all(axis=1)
            assert (finite | empty).all()
            assert (values[finite, 2] <= values[finite, 0]).all()
            assert (values[finite, 0] <= values[finite, 3]).all()
