"""Runners for ``escalc`` and ``rma`` cases."""

from __future__ import annotations

from oracle_runners import runner
from oracle_runners.common import array, effects_from_raw, fit_fields, fit_from_case, predict_fields


@runner("escalc")
def run_escalc(case: dict) -> dict:
    """escalc: per-study yi and vi from the raw columns."""
    es = effects_from_raw(case)
    return {"yi": array(es.yi), "vi": array(es.vi)}


@runner("rma")
def run_rma(case: dict) -> dict:
    """rma on yi/vi plus predict() and the back-transformed predict()."""
    res = fit_from_case(case)
    return {**fit_fields(res), **predict_fields(res, case["settings"].get("transform"))}
