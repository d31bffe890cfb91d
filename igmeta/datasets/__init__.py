"""Bundled example data: immunoglobulin (IG) for peripheral neuropathic pain.

Five studies (two sourced, three reconstructed) of the meta-analysis by Liampas et al.
(Reg Anesth Pain Med 2022;47(Suppl 1):A274; Zis P et al., Pain Ther 2022,
doi:10.1007/s40122-022-00416-7). The study-level table of the paper was not public, so
the table is a **partial reconstruction**: the ``provenance`` column says which rows are
``sourced`` and which ``reconstructed``, and :func:`ig_pnp_provenance` gives the full
account. Anything that shows this table must say so.

A second, separate example, :func:`load_rob_demo`, shows the risk-of-bias features: the
BCG vaccine trials (metafor's ``dat.bcg``) with **made-up, illustrative** RoB 2 judgements.
"""

from __future__ import annotations

import io
from importlib import resources

import numpy as np
import pandas as pd

__all__ = [
    "IG_PNP_MAPPING",
    "ig_pnp_provenance",
    "is_reconstructed",
    "load_ig_pnp",
    "load_ig_pnp_canonical",
    "load_rob_demo",
    "ROB_DEMO_SOURCE",
]

_COUNT_COLUMNS = ("year", "ig_events", "ig_total", "placebo_events", "placebo_total")
#: Raw column -> canonical column of the binary layout.
IG_PNP_MAPPING = {
    "ig_events": "ai",
    "ig_total": "n1i",
    "placebo_events": "ci",
    "placebo_total": "n2i",
}
_CANONICAL_ORDER = ("study", "include", "design", "year", "ai", "n1i", "ci", "n2i", "provenance")


def _read_text(name: str) -> str:
    """A bundled file as text."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def load_ig_pnp() -> pd.DataFrame:
    """The IG-for-neuropathic-pain table exactly as bundled.

    Returns
    -------
    pandas.DataFrame
        Columns ``study, year, design, condition, responder_definition, ig_events,
        ig_total, placebo_events, placebo_total, provenance``; year and counts as nullable
        ``Int64`` (open-label studies have no placebo arm, reconstructed rows no year).
        ``provenance`` is ``"sourced"`` or ``"reconstructed"``.
    """
    return pd.read_csv(
        io.StringIO(_read_text("ig_pnp.csv")),
        dtype={column: "Int64" for column in _COUNT_COLUMNS},
        keep_default_na=False,
        na_values={column: [""] for column in _COUNT_COLUMNS},
    )


def load_ig_pnp_canonical() -> pd.DataFrame:
    """The IG table in the canonical binary layout.

    Returns
    -------
    pandas.DataFrame
        Columns ``study, include, design, year, ai, n1i, ci, n2i, provenance`` followed by
        the remaining raw columns (``condition``, ``responder_definition``); ``include`` is
        all True. Open-label rows have empty ``ci``/``n2i`` (single-arm).
    """
    # The raw table has no canonical column and no ``include``: a plain rename is what
    # igmeta.app.intake.schema.apply_mapping does with it (the library never imports the app).
    frame = load_ig_pnp().rename(columns=IG_PNP_MAPPING)
    frame["include"] = True
    others = [column for column in frame.columns if column not in _CANONICAL_ORDER]
    return frame.loc[:, [*_CANONICAL_ORDER, *others]]


def is_reconstructed(frame: pd.DataFrame) -> pd.Series:
    """Which rows of a table are reconstructed rather than sourced.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table with a ``provenance`` column (raw or canonical IG table). Without one,
        no row is reconstructed.

    Returns
    -------
    pandas.Series of bool
        True where ``provenance`` is ``"reconstructed"`` (case and spaces ignored); same
        index as ``frame``.
    """
    if "provenance" not in frame.columns:
        return pd.Series(np.zeros(len(frame), dtype=bool), index=frame.index, name="provenance")
    text = frame["provenance"].astype("string").str.strip().str.casefold()
    return text.eq("reconstructed").fillna(False).astype(bool)


def ig_pnp_provenance() -> str:
    """Where each row of the IG table comes from, as Markdown.

    Returns
    -------
    str
        The bundled ``PROVENANCE.md``: the published results, the status and source of
        every row, and which method choices reproduce the published numbers.
    """
    return _read_text("PROVENANCE.md")


#: How the risk-of-bias demo is named wherever it is shown.
ROB_DEMO_SOURCE = (
    "Risk-of-bias demo: BCG vaccine trials (metafor dat.bcg) with made-up, illustrative "
    "RoB 2 judgements"
)


def load_rob_demo() -> pd.DataFrame:
    """The risk-of-bias demo: 13 BCG vaccine trials with illustrative RoB 2 judgements.

    The counts are metafor's ``dat.bcg`` (Colditz et al. 1994, JAMA 271:698,
    doi:10.1001/jama.1994.03510330076038): ``ai``/``bi`` TB cases and non-cases among the
    vaccinated, ``ci``/``di`` among the controls; ``design`` is the allocation method
    (random, alternate, systematic). The risk-of-bias judgements are **made up for
    illustration**, not an assessment of these trials: D1 follows the allocation method
    (random low, alternate some concerns, systematic high), D2-D5 are invented, and the
    overall judgement is the RoB 2 algorithm's (:func:`igmeta.risk_of_bias.suggest_overall`).

    Returns
    -------
    pandas.DataFrame
        Canonical binary layout: ``study, year, design, ai, bi, ci, di, rob_d1 .. rob_d5,
        rob_overall, include`` (include all True).
    """
    frame = pd.read_csv(io.StringIO(_read_text("rob_demo.csv")), dtype={"study": "str"})
    frame["include"] = True
    return frame
