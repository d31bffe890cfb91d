"""The scenario comparison as text (the Scenarios page's table).

Formatting only: the numbers are :func:`igmeta.app.store.scenarios.comparison_frame`'s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from igmeta.formatting import format_ci, format_number, format_percent, format_pvalue

__all__ = ["comparison_display"]


def _ci(row, lo, hi) -> str:
    """``estimate (lower to upper)``, or "no result"."""
    return (
        format_ci(row["estimate"], row[lo], row[hi])
        if np.isfinite(row["estimate"])
        else "no result"
    )


def comparison_display(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per scenario: estimate (CI), prediction interval, tau², I², p, subgroup p and
    the differences from the baseline, as text (natural scale)."""
    return pd.DataFrame(
        {
            "Scenario": frame["scenario"],
            "Measure": frame["measure"],
            "k": frame["k"],
            "Estimate (CI)": [_ci(r, "ci_lower", "ci_upper") for _, r in frame.iterrows()],
            "Prediction interval": [
                f"{format_number(r['pi_lower'])} to {format_number(r['pi_upper'])}"
                if np.isfinite(r["pi_lower"])
                else "\u2014"
                for _, r in frame.iterrows()
            ],
            "tau\u00b2": [
                format_number(v, 4) if np.isfinite(v) else "\u2014" for v in frame["tau2"]
            ],
            "I\u00b2": [format_percent(v) for v in frame["i2"]],
            "p": [format_pvalue(v).removeprefix("p ").removeprefix("= ") for v in frame["pval"]],
            "Subgroup p": [
                format_pvalue(v).removeprefix("p ").removeprefix("= ")
                if np.isfinite(v)
                else "\u2014"
                for v in frame["subgroup_pval"]
            ],
            "\u0394 estimate": [
                f"{v:+.3f}" if np.isfinite(v) else "\u2014" for v in frame["d_estimate"]
            ],
            "\u0394 k": [f"{int(v):+d}" for v in frame["d_k"]],
            "Changes vs baseline": frame["changes"],
        }
    )
