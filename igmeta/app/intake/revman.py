"""Reading RevMan 5 review files (``.rm5``) without trusting them.

A ``.rm5`` file is the XML document Review Manager 5 saves: a ``COCHRANE_REVIEW`` whose
``ANALYSES_AND_DATA`` holds ``COMPARISON`` elements (number ``NO``, child ``NAME``), each
with ``DICH_OUTCOME`` (events and totals) and ``CONT_OUTCOME`` (means, SDs and totals)
elements. An outcome has a ``NAME`` child and either ``DICH_DATA``/``CONT_DATA`` rows
directly or ``DICH_SUBGROUP``/``CONT_SUBGROUP`` elements (``NAME`` child) holding them.
A data row names its study by ``STUDY_ID``; the study's name and year are the ``NAME`` and
``YEAR`` attributes of the ``STUDY`` element with that ``ID`` under
``STUDIES_AND_REFERENCES/STUDIES/INCLUDED_STUDIES``.

:func:`read_rm5` lists the outcomes; :func:`outcome_table` turns one into a study table
with the canonical columns of :mod:`igmeta.app.intake.schema`, cells kept as RevMan wrote
them (text), so the usual checks of :func:`igmeta.app.intake.validation.validate_table` flag
bad cells by row and column and nothing is dropped. Generic inverse-variance and
individual-patient-data outcomes (``IV_OUTCOME``, ``IPD_OUTCOME``) are listed as skipped.

Security: the file is parsed with :mod:`xml.parsers.expat` directly. A document type
declaration (``<!DOCTYPE``), and with it every entity declaration ("billion laughs",
external entities), is refused before any entity is read; undeclared entities are a
parse error. Files larger than :data:`igmeta.app.intake.io.MAX_UPLOAD_BYTES` are refused unread.

References
----------
Schwarzer G (2007). meta: An R package for meta-analysis. R News 7(3):40-45
(``read.rm5`` reads the same elements and attributes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.parsers import expat

import pandas as pd

from igmeta.app.intake.io import MAX_UPLOAD_BYTES, too_large_message
from igmeta.app.intake.schema import GROUP_COLUMN, STUDY_COLUMN, YEAR_COLUMN

__all__ = [
    "OUTCOME_KINDS",
    "RevManOutcome",
    "RevManReview",
    "outcome_table",
    "read_rm5",
    "revman_settings",
]

#: RevMan outcome element prefix -> (igmeta data type, RevMan attribute -> canonical column).
OUTCOME_KINDS: dict[str, tuple[str, dict[str, str]]] = {
    "DICH": (
        "binary",
        {"EVENTS_1": "ai", "TOTAL_1": "n1i", "EVENTS_2": "ci", "TOTAL_2": "n2i"},
    ),
    "CONT": (
        "continuous",
        {
            "MEAN_1": "m1i",
            "SD_1": "sd1i",
            "TOTAL_1": "n1i",
            "MEAN_2": "m2i",
            "SD_2": "sd2i",
            "TOTAL_2": "n2i",
        },
    ),
}
_SKIPPED_KINDS = {"IV": "generic inverse variance", "IPD": "individual patient data"}
_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_ESCAPED = re.compile(r"_x([0-9a-fA-F]{4})_")


class _Refused(Exception):
    """The document declares a DTD or entities, which are never processed."""


@dataclass(frozen=True, slots=True)
class RevManOutcome:
    """One dichotomous or continuous outcome of a RevMan review.

    Attributes
    ----------
    key : str
        ``"comparison.outcome"`` numbers as RevMan shows them, e.g. ``"1.2"``.
    comparison, name : str
        Names of the comparison and of the outcome.
    data_type : str
        ``"binary"`` or ``"continuous"`` (:data:`igmeta.app.intake.schema.DATA_TYPES`).
    effect_measure : str
        RevMan's ``EFFECT_MEASURE`` (e.g. ``"RR"``, ``"OR"``, ``"PETO_OR"``, ``"MD"``).
    method, random : str
        RevMan's ``METHOD`` (``"MH"``, ``"IV"``, ``"PETO"``) and ``RANDOM`` (``"YES"``/``"NO"``),
        as written (``""`` when absent).
    subgroups : tuple of str
        Subgroup names, empty when the outcome has none.
    rows : tuple of dict
        One dict per study row: ``study_id``, ``subgroup`` and the RevMan data attributes
        exactly as written (missing attributes are absent).
    """

    key: str
    comparison: str
    name: str
    data_type: str
    effect_measure: str
    subgroups: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    method: str = ""
    random: str = ""

    @property
    def n_studies(self) -> int:
        """Number of study rows."""
        return len(self.rows)

    @property
    def label(self) -> str:
        """``"1.2 Comparison: Outcome (dichotomous, 7 studies)"``."""
        kind = "dichotomous" if self.data_type == "binary" else "continuous"
        count = f"{self.n_studies} stud{'y' if self.n_studies == 1 else 'ies'}"
        return f"{self.key} {self.comparison}: {self.name} ({kind}, {count})"


@dataclass(frozen=True, slots=True)
class RevManReview:
    """The analyses of a RevMan file and what happened reading it.

    Attributes
    ----------
    title : str
    outcomes : tuple of RevManOutcome
    studies : dict
        ``STUDY`` ID -> (name, year) as written.
    messages : tuple of (str, str)
        ``(severity, text)`` with severity ``"error"``, ``"warning"`` or ``"info"``.
    """

    title: str
    outcomes: tuple[RevManOutcome, ...]
    studies: dict[str, tuple[str, str]]
    messages: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """True when no message has severity ``"error"``."""
        return not any(severity == "error" for severity, _ in self.messages)

    def outcome(self, key: str) -> RevManOutcome:
        """The outcome with this key (``KeyError`` when there is none)."""
        for outcome in self.outcomes:
            if outcome.key == key:
                return outcome
        raise KeyError(key)


def _failure(text: str) -> RevManReview:
    return RevManReview(title="", outcomes=(), studies={}, messages=(("error", text),))


def _refuse(*_args: object) -> None:
    raise _Refused


def _parse(payload: bytes) -> ElementTree.Element:
    """Parse XML bytes into an element tree, refusing any DTD or entity declaration."""
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.Parse(payload, True)
    return builder.close()


def read_rm5(data: bytes | bytearray | memoryview | None) -> RevManReview:
    """Read a RevMan 5 file and list its dichotomous and continuous outcomes.

    Parameters
    ----------
    data : bytes
        The file content.

    Returns
    -------
    RevManReview
        Never raises on user data: a file that cannot be read has no outcomes and an
        ``"error"`` message saying why.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        return _failure("No file content was received.")
    payload = bytes(data)
    if len(payload) > MAX_UPLOAD_BYTES:
        return _failure(too_large_message(len(payload)))
    if not payload.strip():
        return _failure("The file is empty.")
    try:
        root = _parse(payload)
    except _Refused:
        return _failure(
            "The file declares a document type or entities (<!DOCTYPE ...>), which RevMan "
            "files never do; it was not read, for safety. Save it again from RevMan 5."
        )
    except expat.ExpatError as exc:
        return _failure(
            f"The file is not well-formed XML ({expat.errors.messages.get(exc.code, exc)} "
            f"at line {exc.lineno}, column {exc.offset + 1}), so it was not read. "
            "Is it a RevMan 5 (.rm5) file?"
        )
    except (ValueError, UnicodeError) as exc:
        return _failure(f"The file could not be read as XML ({exc}).")
    if root.tag != "COCHRANE_REVIEW":
        return _failure(
            f"The file is XML but not a RevMan 5 review: its top element is <{root.tag}>, "
            "not <COCHRANE_REVIEW>."
        )
    return _review(root)


def _text(element: ElementTree.Element | None) -> str:
    """Whitespace-normalised text of an element and its children."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _studies(root: ElementTree.Element) -> dict[str, tuple[str, str]]:
    studies: dict[str, tuple[str, str]] = {}
    for study in root.iterfind("STUDIES_AND_REFERENCES/STUDIES/INCLUDED_STUDIES/STUDY"):
        study_id = study.get("ID")
        if study_id:
            studies[study_id] = (study.get("NAME", "").strip(), study.get("YEAR", "").strip())
    return studies


def _data_rows(parent: ElementTree.Element, kind: str, subgroup: str) -> list[dict[str, str]]:
    columns = OUTCOME_KINDS[kind][1]
    rows = []
    for element in parent.iterfind(f"{kind}_DATA"):
        row = {"study_id": element.get("STUDY_ID", ""), "subgroup": subgroup}
        row.update({name: element.get(name) for name in columns if element.get(name) is not None})
        rows.append(row)
    return rows


def _review(root: ElementTree.Element) -> RevManReview:
    messages: list[tuple[str, str]] = []
    outcomes: list[RevManOutcome] = []
    analyses = root.find("ANALYSES_AND_DATA")
    comparisons = [] if analyses is None else analyses.findall("COMPARISON")
    for c_pos, comparison in enumerate(comparisons, start=1):
        c_no = comparison.get("NO") or str(c_pos)
        c_name = _text(comparison.find("NAME")) or f"Comparison {c_no}"
        for child in comparison:
            kind = child.tag.removesuffix("_OUTCOME")
            if not child.tag.endswith("_OUTCOME"):
                continue
            o_no = child.get("NO") or "?"
            o_name = _text(child.find("NAME")) or f"Outcome {o_no}"
            if kind not in OUTCOME_KINDS:
                what = _SKIPPED_KINDS.get(kind, kind.lower())
                messages.append(
                    ("info", f"Outcome {c_no}.{o_no} '{o_name}' ({what} data) is not imported.")
                )
                continue
            rows = _data_rows(child, kind, "")
            subgroups = []
            for s_pos, subgroup in enumerate(child.iterfind(f"{kind}_SUBGROUP"), start=1):
                s_name = _text(subgroup.find("NAME")) or f"Subgroup {subgroup.get('NO', s_pos)}"
                subgroups.append(s_name)
                rows.extend(_data_rows(subgroup, kind, s_name))
            outcomes.append(
                RevManOutcome(
                    key=f"{c_no}.{o_no}",
                    comparison=c_name,
                    name=o_name,
                    data_type=OUTCOME_KINDS[kind][0],
                    effect_measure=child.get("EFFECT_MEASURE", "").upper(),
                    subgroups=tuple(subgroups),
                    rows=tuple(rows),
                    method=child.get("METHOD", "").upper(),
                    random=child.get("RANDOM", "").upper(),
                )
            )
    if not outcomes:
        messages.append(
            (
                "error",
                "The review has no dichotomous or continuous outcome with data "
                "(no DICH_OUTCOME or CONT_OUTCOME under ANALYSES_AND_DATA).",
            )
        )
    title = _text(root.find("COVER_SHEET/TITLE"))
    return RevManReview(title, tuple(outcomes), _studies(root), tuple(messages))


def _readable_id(study_id: str) -> str:
    """A STUDY_ID as a name: ``"STD-ISIS_x002d_2"`` -> ``"ISIS-2"``."""
    name = study_id.removeprefix("STD-")
    name = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), name)
    return name.replace("_", " ").strip()


def outcome_table(review: RevManReview, key: str) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The study table of one outcome, cells as written, and messages about it.

    Parameters
    ----------
    review : RevManReview
    key : str
        :attr:`RevManOutcome.key` of the outcome.

    Returns
    -------
    table : DataFrame
        Columns ``study``, ``year``, ``design`` (only when the outcome has subgroups) and
        the numeric columns of the data type (``ai, n1i, ci, n2i`` or
        ``m1i, sd1i, n1i, m2i, sd2i, n2i``), all as text exactly as in the file (``""``
        where RevMan wrote nothing). Every data row of the file is one row.
    messages : list of (str, str)
        ``(severity, text)`` naming the outcome, study and field of each problem: a study
        not in the list of included studies, a missing or non-numeric number.
    """
    outcome = review.outcome(key)
    columns = OUTCOME_KINDS["DICH" if outcome.data_type == "binary" else "CONT"][1]
    where = f"Outcome {outcome.key} '{outcome.name}'"
    messages: list[tuple[str, str]] = []
    records = []
    for position, row in enumerate(outcome.rows, start=1):
        study_id = row["study_id"]
        name, year = review.studies.get(study_id, ("", ""))
        if not study_id:
            messages.append(("warning", f"{where}, row {position}: the data row has no STUDY_ID."))
        elif study_id not in review.studies:
            name = _readable_id(study_id)
            messages.append(
                (
                    "warning",
                    f"{where}, row {position}: study '{study_id}' is not in the review's list "
                    f"of included studies, so it is named '{name}' and has no year.",
                )
            )
        label = name or _readable_id(study_id)
        record = {STUDY_COLUMN: label, YEAR_COLUMN: year}
        if outcome.subgroups:
            record[GROUP_COLUMN] = row["subgroup"]
        for attribute, column in columns.items():
            value = row.get(attribute)
            record[column] = "" if value is None else value
            if value is None or not value.strip():
                problem = "is missing"
            elif not _NUMBER.fullmatch(value):
                shown = value if len(value) <= 40 else value[:39] + "\u2026"
                problem = f"is '{shown}', not a number"
            else:
                continue
            messages.append(
                (
                    "warning",
                    f"{where}, row {position} (study '{label or study_id}'): {attribute} "
                    f"({column}) {problem}; the row is kept and flagged in the checks.",
                )
            )
        records.append(record)
    order = [STUDY_COLUMN, YEAR_COLUMN]
    if outcome.subgroups:
        order.append(GROUP_COLUMN)
    order.extend(columns.values())
    return pd.DataFrame(records, columns=order, dtype=object), messages


_BINARY_MEASURES = {"RR": "RR", "OR": "OR", "RD": "RD", "PETO_OR": "OR"}
_CONTINUOUS_MEASURES = {"MD": "MD", "SMD": "SMD"}


def revman_settings(outcome: RevManOutcome) -> dict[str, str]:
    """The analysis settings closest to RevMan's analysis of an outcome.

    Parameters
    ----------
    outcome : RevManOutcome

    Returns
    -------
    dict
        :class:`igmeta.app.pipeline.analysis.AnalysisSettings` field -> value, only for what the
        file states (empty when it states nothing usable): the effect measure, ``pooling``
        (``"MH"``/``"PETO"`` for a common-effect Mantel-Haenszel/Peto analysis, else
        ``"IV"``), ``model`` and, for random effects, ``tau2_method="DL"``.

    Notes
    -----
    RevMan 5's random-effects analyses use the DerSimonian-Laird tau² with inverse-variance
    weights; for a Mantel-Haenszel random-effects analysis RevMan computes Q from the
    Mantel-Haenszel common-effect estimate, so its tau² (and pooled result) can differ
    slightly from the inverse-variance DerSimonian-Laird fit suggested here.
    """
    measures = _BINARY_MEASURES if outcome.data_type == "binary" else _CONTINUOUS_MEASURES
    field = "binary_measure" if outcome.data_type == "binary" else "continuous_measure"
    chosen: dict[str, str] = {}
    if outcome.effect_measure in measures:
        chosen[field] = measures[outcome.effect_measure]
    peto = outcome.method == "PETO" or outcome.effect_measure == "PETO_OR"
    if outcome.data_type == "binary" and peto:
        chosen.update(pooling="PETO", model="common")
    elif outcome.random == "YES":
        chosen.update(pooling="IV", model="random", tau2_method="DL")
    elif outcome.random == "NO":
        mantel_haenszel = outcome.data_type == "binary" and outcome.method == "MH"
        chosen.update(pooling="MH" if mantel_haenszel else "IV", model="common")
    return chosen
