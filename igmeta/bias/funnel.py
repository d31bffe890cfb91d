"""Tidy data for a funnel plot: one row per study (observed, and filled by trim-and-fill)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from igmeta.bias._common import check_result
from igmeta.bias.trimfill import TrimFillResult
from igmeta.effects import EffectSizes
from igmeta.results import MetaResult

__all__ = ["FUNNEL_COLUMNS", "funnel_frame"]

#: Columns of :func:`funnel_frame`, in order.
FUNNEL_COLUMNS = ("label", "study_id", "estimate", "se", "filled", "included")


def funnel_frame(
    res: MetaResult,
    *,
    trimfill: TrimFillResult | None = None,
    excluded: EffectSizes | None = None,
) -> pd.DataFrame:
    """Rows of a funnel plot (effect on the analysis scale against its standard error).

    Parameters
    ----------
    res : MetaResult
        The pooled model; its studies are the observed points.
    trimfill : TrimFillResult, optional
        Add the studies filled by trim-and-fill (``filled`` True).
    excluded : EffectSizes, optional
        Studies the user left out of the analysis, to be drawn greyed out
        (``included`` False). Rows with an undefined effect are skipped.

    Returns
    -------
    DataFrame
        Columns (:data:`FUNNEL_COLUMNS`):

        * ``label`` (str): study label (``"Filled 1"``... for filled studies);
        * ``study_id`` (str): position of the study in ``res.study`` as a string
          (``"0"``, ``"1"``...); ``"filled-1"``... for filled studies and
          ``"excluded-1"``... for excluded ones. Studies with an undefined effect
          (double-zero tables of a Mantel-Haenszel model) have no row;
        * ``estimate`` (float): the effect ``yi`` on the analysis scale (log scale for
          ratio measures, as metafor's ``funnel``);
        * ``se`` (float): its standard error ``sqrt(vi)``;
        * ``filled`` (bool): True for studies imputed by trim-and-fill;
        * ``included`` (bool): True for studies in the fit (filled ones are in the
          filled model); False for ``excluded`` studies.
    """
    check_result(res, "A funnel plot")
    yi = np.asarray(res.yi, dtype=float)
    vi = np.asarray(res.vi, dtype=float)
    k = len(yi)
    labels = list(res.study) if len(res.study) == k else [f"Study {i + 1}" for i in range(k)]
    # Studies without a defined effect (e.g. double-zero tables in a Mantel-Haenszel
    # model) cannot be drawn; ``study_id`` keeps the position in ``res.study``.
    ok = np.flatnonzero(np.isfinite(yi) & np.isfinite(vi))
    parts = [
        pd.DataFrame(
            {
                "label": [labels[i] for i in ok],
                "study_id": [str(i) for i in ok],
                "estimate": yi[ok],
                "se": np.sqrt(vi[ok]),
                "filled": np.zeros(len(ok), dtype=bool),
                "included": np.ones(len(ok), dtype=bool),
            }
        )
    ]
    if trimfill is not None and trimfill.k0 > 0:
        parts.append(
            pd.DataFrame(
                {
                    "label": list(trimfill.filled_study),
                    "study_id": [f"filled-{j + 1}" for j in range(trimfill.k0)],
                    "estimate": np.asarray(trimfill.filled_yi, dtype=float),
                    "se": np.sqrt(np.asarray(trimfill.filled_vi, dtype=float)),
                    "filled": np.ones(trimfill.k0, dtype=bool),
                    "included": np.ones(trimfill.k0, dtype=bool),
                }
            )
        )
    if excluded is not None:
        ok = np.isfinite(excluded.yi) & np.isfinite(excluded.vi)
        n = int(ok.sum())
        parts.append(
            pd.DataFrame(
                {
                    "label": list(np.asarray(excluded.study, dtype=object)[ok]),
                    "study_id": [f"excluded-{j + 1}" for j in range(n)],
                    "estimate": np.asarray(excluded.yi, dtype=float)[ok],
                    "se": np.sqrt(np.asarray(excluded.vi, dtype=float)[ok]),
                    "filled": np.zeros(n, dtype=bool),
                    "included": np.zeros(n, dtype=bool),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.astype(
        {
            "label": str,
            "study_id": str,
            "estimate": float,
            "se": float,
            "filled": bool,
            "included": bool,
        }
    )
    return frame.loc[:, list(FUNNEL_COLUMNS)]
