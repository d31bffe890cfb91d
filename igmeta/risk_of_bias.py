"""Risk of bias: the RoB 2 and ROBINS-I tools, their judgements and summaries.

A study table may carry risk-of-bias judgements as optional text columns:

- **RoB 2** (randomised trials; Sterne et al. 2019): ``rob_d1`` .. ``rob_d5`` and
  ``rob_overall``, judged "Low", "Some concerns" or "High".
- **ROBINS-I** (non-randomised studies; Sterne et al. 2016): ``robins_d1`` .. ``robins_d7``
  and ``robins_overall``, judged "Low", "Moderate", "Serious", "Critical" or
  "No information".

Cells are read leniently (:func:`normalise_judgement`): case and spacing do not matter, and
the short forms of RevMan and robvis tables are accepted ("L", "low risk", "some",
"high risk", RevMan's "+" low, "-" high, "?" unclear). A cell outside the vocabulary is
never changed or dropped: :func:`invalid_judgements` lists it so that
:func:`igmeta.app.intake.validation.validate_table` flags it with its row and column, and the plots
show it as not assessed.

The drawn symbols carry the judgement without colour (as robvis): RoB 2 "+" low,
"!" some concerns, "×" high; ROBINS-I "+" low, "!" moderate, "×" serious, "××" critical,
"?" no information. "-" is read as *high* (RevMan's convention), so no symbol is drawn
with two meanings.

References
----------
Sterne JAC, Savović J, Page MJ, et al. (2019). RoB 2: a revised tool for assessing risk of
bias in randomised trials. BMJ 366:l4898. doi:10.1136/bmj.l4898

Sterne JAC, Hernán MA, Reeves BC, et al. (2016). ROBINS-I: a tool for assessing risk of bias
in non-randomised studies of interventions. BMJ 355:i4919. doi:10.1136/bmj.i4919

McGuinness LA, Higgins JPT (2021). Risk-of-bias VISualization (robvis). Res Synth Methods
12(1):55-61. doi:10.1002/jrsm.1411
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "NOT_ASSESSED",
    "ROB2",
    "ROBINS_I",
    "ROB_COLUMNS",
    "ROB_SYNONYMS",
    "TOOLS",
    "RobTool",
    "invalid_judgements",
    "judgement_frame",
    "low_risk_mask",
    "normalise_judgement",
    "overall_for_grade",
    "overall_judgements",
    "restrict_to_low_risk",
    "suggest_overall",
    "table_tools",
    "weighted_summary",
]

#: Category of an empty cell or a value outside the tool's vocabulary.
NOT_ASSESSED = "Not assessed"


@dataclass(frozen=True, slots=True)
class RobTool:
    """One risk-of-bias tool: its columns, domains, judgements, symbols and colours.

    Attributes
    ----------
    key : str
        ``"rob2"`` or ``"robins_i"``.
    name : str
        Display name, e.g. ``"RoB 2"``.
    domain_columns : tuple of str
        Table columns of the domains, in order.
    overall_column : str
        Table column of the overall judgement.
    domain_names : tuple of str
        What each domain assesses, in the order of ``domain_columns``.
    judgements : tuple of str
        The vocabulary, best first.
    symbols : dict of str to str
        Drawn symbol per judgement (meaning without colour).
    colours : dict of str to str
        Fill colour per judgement (colour-blind safe, distinct in greyscale lightness).
    aliases : dict of str to str
        Accepted spellings (already reduced by :func:`_key`) -> judgement.
    """

    key: str
    name: str
    domain_columns: tuple[str, ...]
    overall_column: str
    domain_names: tuple[str, ...]
    judgements: tuple[str, ...]
    symbols: dict[str, str]
    colours: dict[str, str]
    aliases: dict[str, str]

    @property
    def columns(self) -> tuple[str, ...]:
        """Domain columns then the overall column."""
        return (*self.domain_columns, self.overall_column)

    @property
    def short_names(self) -> tuple[str, ...]:
        """Column headers: ``D1`` .. ``Dn`` and ``Overall``."""
        return (*(f"D{i + 1}" for i in range(len(self.domain_columns))), "Overall")

    @property
    def long_names(self) -> tuple[str, ...]:
        """Domain names and ``Overall``, in the order of :attr:`columns`."""
        return (*self.domain_names, "Overall")


def _key(text: str) -> str:
    """Lower case, single spaces, no surrounding spaces or trailing full stop."""
    return " ".join(str(text).casefold().replace("_", " ").split()).rstrip(".")


def _aliases(groups: dict[str, Sequence[str]]) -> dict[str, str]:
    return {_key(alias): judgement for judgement, spelled in groups.items() for alias in spelled}


ROB2 = RobTool(
    key="rob2",
    name="RoB 2",
    domain_columns=tuple(f"rob_d{i}" for i in range(1, 6)),
    overall_column="rob_overall",
    domain_names=(
        "Bias arising from the randomisation process",
        "Bias due to deviations from intended interventions",
        "Bias due to missing outcome data",
        "Bias in measurement of the outcome",
        "Bias in selection of the reported result",
    ),
    judgements=("Low", "Some concerns", "High"),
    symbols={"Low": "+", "Some concerns": "!", "High": "\u00d7"},
    colours={"Low": "#5AAE61", "Some concerns": "#F0E442", "High": "#A51C30"},
    aliases=_aliases(
        {
            "Low": ("low", "l", "low risk", "low risk of bias", "low rob", "+"),
            "Some concerns": (
                "some concerns",
                "some concern",
                "some",
                "s",
                "sc",
                "unclear",
                "unclear risk",
                "?",
                "!",
            ),
            "High": (
                "high",
                "h",
                "high risk",
                "high risk of bias",
                "high rob",
                "-",
                "\u2212",
                "x",
                "\u00d7",
            ),
        }
    ),
)

ROBINS_I = RobTool(
    key="robins_i",
    name="ROBINS-I",
    domain_columns=tuple(f"robins_d{i}" for i in range(1, 8)),
    overall_column="robins_overall",
    domain_names=(
        "Bias due to confounding",
        "Bias in selection of participants",
        "Bias in classification of interventions",
        "Bias due to deviations from intended interventions",
        "Bias due to missing data",
        "Bias in measurement of outcomes",
        "Bias in selection of the reported result",
    ),
    judgements=("Low", "Moderate", "Serious", "Critical", "No information"),
    symbols={
        "Low": "+",
        "Moderate": "!",
        "Serious": "\u00d7",
        "Critical": "\u00d7\u00d7",
        "No information": "?",
    },
    colours={
        "Low": "#5AAE61",
        "Moderate": "#F0E442",
        "Serious": "#D55E00",
        "Critical": "#4B0055",
        "No information": "#56B4E9",
    },
    aliases=_aliases(
        {
            "Low": ("low", "l", "low risk", "low risk of bias", "+"),
            "Moderate": ("moderate", "m", "mod", "moderate risk", "moderate risk of bias"),
            "Serious": ("serious", "s", "ser", "serious risk", "serious risk of bias"),
            "Critical": ("critical", "c", "crit", "critical risk", "critical risk of bias"),
            "No information": ("no information", "no info", "ni", "n/i", "?", "unclear"),
        }
    ),
)

#: The tools, RoB 2 first.
TOOLS: tuple[RobTool, ...] = (ROB2, ROBINS_I)
#: Every risk-of-bias column of every tool.
ROB_COLUMNS: tuple[str, ...] = tuple(column for tool in TOOLS for column in tool.columns)
_TOOL_OF_COLUMN = {column: tool for tool in TOOLS for column in tool.columns}


def _spellings(tool: RobTool) -> dict[str, tuple[str, ...]]:
    """Header spellings per column (normalised as ``igmeta.app.intake.schema.normalise_name``)."""
    prefix = "rob2" if tool is ROB2 else "robinsi"
    table: dict[str, tuple[str, ...]] = {}
    for i, (column, name) in enumerate(
        zip(tool.domain_columns, tool.domain_names, strict=True), start=1
    ):
        words = re.sub(r"[^0-9a-z]+", "", name.casefold())
        plain = words.removeprefix("bias").removeprefix("arisingfrom").removeprefix("in")
        plain = plain.removeprefix("dueto").removeprefix("the")
        american = plain.replace("randomisation", "randomization")
        own = (column.replace("_", ""), f"{prefix}d{i}", f"{prefix}domain{i}")
        generic = (f"d{i}", f"domain{i}") if tool is ROB2 else ()
        table[column] = tuple(dict.fromkeys((*own, *generic, words, plain, american)))
    overall = (tool.overall_column.replace("_", ""), f"{prefix}overall", f"{prefix}overallrisk")
    generic_overall = ("overall", "overallrisk", "overallriskofbias", "overallrob", "rob")
    table[tool.overall_column] = overall + (generic_overall if tool is ROB2 else ())
    return table


#: Canonical risk-of-bias column -> accepted header spellings (normalised), e.g. ``"D1"``,
#: ``"Overall"``, ``"Randomization process"`` for RoB 2 and ``"ROBINS-I D1"`` or
#: ``"Confounding"`` for ROBINS-I.
def _unambiguous_spellings() -> dict[str, tuple[str, ...]]:
    """Both tools' spellings without those two columns share (e.g. "Missing data" is
    ROBINS-I only, but "Selection of the reported result" is in both tools: not mapped)."""
    spelled = {column: s for tool in TOOLS for column, s in _spellings(tool).items()}
    counts: dict[str, int] = {}
    for names in spelled.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return {column: tuple(n for n in names if counts[n] == 1) for column, names in spelled.items()}


ROB_SYNONYMS: dict[str, tuple[str, ...]] = _unambiguous_spellings()


def normalise_judgement(value: object, tool: RobTool = ROB2) -> str | None:
    """The canonical judgement of a cell, or None when it is empty or not in the vocabulary.

    Parameters
    ----------
    value : object
        A cell as typed, e.g. ``"low risk"``, ``"L"``, ``"+"``, ``" Some Concerns "``.
    tool : RobTool, default ROB2
        The tool whose vocabulary applies.

    Returns
    -------
    str or None
        One of ``tool.judgements``; None for an empty cell or an unknown value (see
        :func:`invalid_judgements` to tell the two apart).
    """
    if _is_empty(value):
        return None
    return tool.aliases.get(_key(value))


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def table_tools(columns) -> tuple[RobTool, ...]:
    """The tools a table uses: those with at least one of their columns present.

    Parameters
    ----------
    columns : iterable
        Column labels of a canonical table (or the table itself).

    Returns
    -------
    tuple of RobTool
        RoB 2 first; empty when the table has no risk-of-bias column.
    """
    present = set(columns.columns if isinstance(columns, pd.DataFrame) else columns)
    return tuple(tool for tool in TOOLS if present & set(tool.columns))


def _cells(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The cells of a column as objects (the first one when a name repeats)."""
    cells = frame[column]
    if isinstance(cells, pd.DataFrame):
        cells = cells.iloc[:, 0]
    return cells.to_numpy(dtype=object)


def invalid_judgements(frame: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray, str]]:
    """Cells of the risk-of-bias columns that hold something outside the vocabulary.

    Parameters
    ----------
    frame : pandas.DataFrame
        A canonical table.

    Returns
    -------
    list of (column, mask, raw, allowed)
        Per present column with at least one bad cell: the column name, a boolean mask of
        the bad rows, the raw cells (object array) and the allowed judgements as text.
    """
    found = []
    for column in ROB_COLUMNS:
        if column not in frame.columns:
            continue
        tool = _TOOL_OF_COLUMN[column]
        raw = _cells(frame, column)
        bad = np.array(
            [not _is_empty(v) and normalise_judgement(v, tool) is None for v in raw], dtype=bool
        )
        if bad.any():
            allowed = ", ".join(f"'{j}'" for j in tool.judgements)
            found.append((column, bad, raw, allowed))
    return found


def judgement_frame(frame: pd.DataFrame, tool: RobTool) -> pd.DataFrame:
    """The tool's columns read as canonical judgements, :data:`NOT_ASSESSED` otherwise.

    Parameters
    ----------
    frame : pandas.DataFrame
        A canonical table.
    tool : RobTool

    Returns
    -------
    pandas.DataFrame
        Same index as ``frame``, one column per column of ``tool.columns`` (absent columns
        are all not assessed); empty and invalid cells are :data:`NOT_ASSESSED`.
    """
    out = {}
    for column in tool.columns:
        if column in frame.columns:
            cells = _cells(frame, column)
            out[column] = [normalise_judgement(v, tool) or NOT_ASSESSED for v in cells]
        else:
            out[column] = [NOT_ASSESSED] * len(frame)
    return pd.DataFrame(out, index=frame.index, dtype=object)


def suggest_overall(domains: Sequence[str | None], tool: RobTool = ROB2) -> str | None:
    """The overall judgement the tool's algorithm suggests from the domain judgements.

    Parameters
    ----------
    domains : sequence of str or None
        Canonical domain judgements; None or :data:`NOT_ASSESSED` for a missing one.
    tool : RobTool, default ROB2

    Returns
    -------
    str or None
        RoB 2: "High" if any domain is high, else "Low" if all are low, else
        "Some concerns" (Sterne 2019 also allows "High" for several domains with some
        concerns: that is the reviewer's call, so it is not suggested). ROBINS-I: the worst
        domain among Low < Moderate < Serious < Critical (Sterne 2016); "No information"
        when a domain has no information and none is serious or critical. None when a
        domain is missing and the rule cannot decide.
    """
    known = [d for d in domains if d in tool.judgements]
    complete = len(known) == len(tool.domain_columns)
    if tool is ROB2:
        if "High" in known:
            return "High"
        if not complete:
            return None
        return "Low" if all(d == "Low" for d in known) else "Some concerns"
    ranked = ("Low", "Moderate", "Serious", "Critical")
    graded = [ranked.index(d) for d in known if d in ranked]
    if graded and max(graded) >= 2:
        return ranked[max(graded)]
    if not complete:
        return None
    if "No information" in known:
        return "No information"
    return ranked[max(graded)]


def overall_judgements(frame: pd.DataFrame, tool: RobTool) -> pd.DataFrame:
    """The user's overall judgement, the suggested one and the one used, per row.

    Parameters
    ----------
    frame : pandas.DataFrame
        A canonical table.
    tool : RobTool

    Returns
    -------
    pandas.DataFrame
        Columns ``given`` (the user's overall, :data:`NOT_ASSESSED` if empty or invalid),
        ``suggested`` (:func:`suggest_overall` of the domains, :data:`NOT_ASSESSED` if it
        cannot decide), ``used`` (the user's when given, else the suggestion) and
        ``differs`` (True where both exist and disagree). Index of ``frame``.
    """
    judged = judgement_frame(frame, tool)
    domains = judged[list(tool.domain_columns)].to_numpy(dtype=object)
    suggested = [suggest_overall(list(row), tool) or NOT_ASSESSED for row in domains]
    given = judged[tool.overall_column].to_numpy(dtype=object)
    used = np.where(given != NOT_ASSESSED, given, suggested)
    differs = (given != NOT_ASSESSED) & (np.array(suggested) != NOT_ASSESSED)
    differs &= given != np.array(suggested, dtype=object)
    return pd.DataFrame(
        {"given": given, "suggested": suggested, "used": used, "differs": differs},
        index=frame.index,
    )


def overall_for_grade(frame: pd.DataFrame) -> pd.Series | None:
    """Overall judgement per row for GRADE's risk-of-bias domain (None without RoB columns).

    The first tool the table uses (RoB 2 before ROBINS-I), its overall column where the
    user filled it in, else the judgement the tool's algorithm suggests from the domains
    (:func:`overall_judgements`, column ``used``); empty where neither exists.

    Parameters
    ----------
    frame : pandas.DataFrame
        A canonical table.

    Returns
    -------
    pandas.Series or None
        Canonical judgement words, index of ``frame``.
    """
    tools = table_tools(frame)
    if not tools:
        return None
    used = overall_judgements(frame, tools[0])["used"]
    return used.where(used != NOT_ASSESSED, "")


def low_risk_mask(frame: pd.DataFrame) -> np.ndarray:
    """Rows judged at low risk of bias overall, by RoB 2 or ROBINS-I.

    The overall judgement is the user's (``rob_overall`` / ``robins_overall``); where it
    is empty, the one suggested from complete domains (:func:`overall_judgements`).

    Parameters
    ----------
    frame : pandas.DataFrame
        A canonical table.

    Returns
    -------
    ndarray of bool
        True where some tool's overall judgement is "Low"; all False without risk-of-bias
        columns.
    """
    mask = np.zeros(len(frame), dtype=bool)
    for tool in table_tools(frame):
        mask |= overall_judgements(frame, tool)["used"].to_numpy(dtype=object) == "Low"
    return mask


def restrict_to_low_risk(frame: pd.DataFrame, include_column: str = "include") -> pd.DataFrame:
    """A copy of the table in which only studies at low risk of bias stay included.

    Every row is kept (nothing is lost): rows not at low risk get ``include`` False, and
    rows at low risk keep the user's own ``include`` value, so a study the user excluded
    stays excluded.

    Parameters
    ----------
    frame : pandas.DataFrame
        A canonical table.
    include_column : str, default "include"

    Returns
    -------
    pandas.DataFrame
        The copy; ``include`` is an object column when the original held text.
    """
    low = low_risk_mask(frame)
    out = frame.copy()
    if include_column in out.columns:
        original = out[include_column].to_numpy(dtype=object)
        out[include_column] = np.where(low, original, False)
        if pd.api.types.is_bool_dtype(frame[include_column].dtype):
            out[include_column] = out[include_column].astype(frame[include_column].dtype)
    else:
        out[include_column] = low
    return out


def weighted_summary(
    frame: pd.DataFrame, tool: RobTool, weights: Sequence[float] | np.ndarray
) -> pd.DataFrame:
    """Share of the analysis' weight per judgement per domain (robvis ``weighted = TRUE``).

    Parameters
    ----------
    frame : pandas.DataFrame
        A canonical table.
    tool : RobTool
    weights : array-like of float
        Weight of each row of ``frame`` in the current analysis; NaN or 0 for rows not in
        it (excluded or invalid), which then do not count.

    Returns
    -------
    pandas.DataFrame
        One row per domain and judgement (including :data:`NOT_ASSESSED`), columns
        ``column``, ``domain`` (e.g. ``"D1"``), ``domain_name``, ``judgement``, ``studies``
        (count of studies with weight), ``weight`` and ``percent`` (100 * weight / total
        weight; shares of a domain add up to 100). Empty when no row has positive weight.

    Notes
    -----
    ``percent[d, j] = 100 * sum(w_i for studies i judged j in domain d) / sum(w_i)``.
    """
    w = np.asarray(weights, dtype=float)
    if w.shape != (len(frame),):
        raise ValueError("weights must have one value per row of the table")
    used = np.isfinite(w) & (w > 0)
    total = float(w[used].sum())
    columns = ["column", "domain", "domain_name", "judgement", "studies", "weight", "percent"]
    if total <= 0:
        return pd.DataFrame(columns=columns)
    judged = judgement_frame(frame, tool)
    rows = []
    categories = (*tool.judgements, NOT_ASSESSED)
    for column, short, long in zip(tool.columns, tool.short_names, tool.long_names, strict=True):
        cells = judged[column].to_numpy(dtype=object)
        for judgement in categories:
            chosen = used & (cells == judgement)
            share = float(w[chosen].sum())
            rows.append(
                (column, short, long, judgement, int(chosen.sum()), share, 100 * share / total)
            )
    return pd.DataFrame(rows, columns=columns)
