"""metafor 3.8-1 reference values and data shared by the tau^2 estimator, profile-CI and
model-comparison tests (``test_estimators.py``, ``test_profile_ci.py``,
``test_model_comparison.py``).

tests/data/tau2_more_metafor.R prints metafor's answers (the R call of each case is on its
CALL line); tests/data/tau2_more_metafor.txt holds the output, so R is not needed here.
Data: metadat's dat.bcg (log risk ratios), a homogeneous set ``flat`` (every estimator at 0)
and three very different studies ``wide`` (flat REML profile likelihood).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from igmeta.effects import effect_sizes
from igmeta.warnings import MetaAnalysisWarning

ITERATIVE = {"rtol": 1e-6, "atol": 1e-9}
CLOSED = {"rtol": 1e-10, "atol": 1e-9}


def read_reference() -> dict:
    """Parse tests/data/tau2_more_metafor.txt.

    Returns
    -------
    dict
        Per tag: ``values`` (name -> float, NaN for R's NA), ``signs`` (the PL interval's
        bound signs), ``error`` (metafor's error message), ``warn`` (its warnings) and
        ``call`` (the R call).
    """
    path = Path(__file__).parent / "data" / "tau2_more_metafor.txt"
    cases: dict = {}
    for line in path.read_text().splitlines():
        tag, kind, *rest = line.split(" ", 2) + [""]
        entry = cases.setdefault(tag, {"values": {}, "signs": None, "error": None, "warn": []})
        text = " ".join(rest).strip()
        if kind == "CALL":
            entry["call"] = text
        elif kind == "ERROR":
            entry["error"] = text
        elif kind == "WARN":
            entry["warn"].append(text)
        elif kind == "SIGNS":
            entry["signs"] = tuple(tok.strip("[]") for tok in text.split())
        else:
            for token in line.split()[1:]:
                name, value = token.split("=")
                entry["values"][name] = float("nan") if value == "NA" else float(value)
    return cases


REF = read_reference()

BCG = {
    "ai": [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
    "bi": [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886],
    "ci": [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
    "di": [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825],
}  # fmt: skip
ABLAT = np.array([44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33], float)
YEAR = np.array([1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976.0])
NI = np.sum([BCG[c] for c in ("ai", "bi", "ci", "di")], axis=0).astype(float)
ES = effect_sizes("RR", **BCG)
FLAT = {"yi": [0.10, 0.12, 0.09, 0.11, 0.10], "vi": [0.04, 0.05, 0.03, 0.06, 0.05]}
WIDE = {"yi": [-10.0, 0.0, 10.0], "vi": [1.0, 1.0, 1.0]}
TIGHT = {"threshold": 1e-13, "tol": 1e-15, "maxiter": 10000}


def quiet(func, *args, **kwargs):
    """Call ``func`` with igmeta's MetaAnalysisWarning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetaAnalysisWarning)
        return func(*args, **kwargs)


def moderators(names):
    """The dat.bcg moderator columns called ``names`` ("ablat", "year"), as a dict."""
    cols = {"ablat": ABLAT, "year": YEAR}
    return {name: cols[name] for name in names}
