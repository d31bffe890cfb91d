"""What a report of one analysis says, as plain data shared by every report format.

:func:`report_content` assembles the report once -- title, provenance, headline result,
subgroups, forest and funnel plots, studies, number needed to treat, warnings, settings,
the methods paragraph with its references, the input table, the R script and the
analysis as JSON -- as a sequence of blocks (:class:`Heading`, :class:`Paragraph`,
:class:`Metrics`, :class:`Table`, :class:`Figure`, :class:`References`, :class:`Code`).
The HTML report (:mod:`igmeta.app.outputs.report`) and the Word report
(:mod:`igmeta.app.outputs.report_docx`) only render these blocks, so both always hold the same
content.

Every text in a block is plain text (user text included, unescaped): each renderer
makes it safe for its format (HTML escaping; Word text runs).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from igmeta.app.evidence.clinical import nnt_from_bundle
from igmeta.app.evidence.grade import grade_suggestions, summary_of_findings
from igmeta.app.outputs.codegen import CodegenError, r_script
from igmeta.app.outputs.exports import forest_for, funnel_for, result_tables
from igmeta.app.outputs.methods_text import methods_paragraph
from igmeta.app.outputs.tables import result_summary_frame, subgroup_frame
from igmeta.app.pipeline.analysis import AnalysisBundle, AnalysisSettings, run_analysis
from igmeta.app.pipeline.coverage import left_out_rows, left_out_sentence
from igmeta.app.store.scenarios import describe_settings, settings_to_json, summarise, table_to_json
from igmeta.effects import measure_info
from igmeta.formatting import format_ci_column, format_number, format_percent, format_pvalue

__all__ = [
    "Block",
    "Cell",
    "Code",
    "Figure",
    "Heading",
    "Metrics",
    "Paragraph",
    "References",
    "ReportContent",
    "Table",
    "cell_text",
    "report_content",
    "table_block",
]


class Cell(NamedTuple):
    """One table cell: its text and whether it holds a number (right-aligned)."""

    text: str
    numeric: bool = False


@dataclass(frozen=True, slots=True)
class Heading:
    """A section heading; ``level`` 1 is the report title."""

    text: str
    level: int = 2


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph; ``kind`` is ``"plain"``, ``"meta"`` (the line under the title),
    ``"note"`` or ``"warning"``."""

    text: str
    kind: str = "plain"


@dataclass(frozen=True, slots=True)
class Metrics:
    """Headline numbers as (label, value) pairs."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table of text cells (no rows: the renderers say "(none)")."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Figure:
    """A plotly figure; ``name`` is ``"forest"`` or ``"funnel"``."""

    name: str
    figure: object


@dataclass(frozen=True, slots=True)
class References:
    """A numbered list of references."""

    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Code:
    """A block of monospace text (the R script, the analysis as JSON) under a title."""

    title: str
    text: str


Block = Heading | Paragraph | Metrics | Table | Figure | References | Code


@dataclass(frozen=True, slots=True)
class ReportContent:
    """A whole report: its title and its blocks in order (the title is also the first
    block, a level-1 :class:`Heading`)."""

    title: str
    blocks: tuple[Block, ...]


def cell_text(value: object) -> str:
    """A table value as text: booleans as yes/no, floats with 6 significant digits,
    missing values as the empty string."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        return f"{value:.6g}" if np.isfinite(value) else str(value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def table_block(frame: pd.DataFrame | None, headers: Sequence[str] | None = None) -> Table:
    """A :class:`Table` of ``frame`` (headers default to its column names)."""
    if frame is None or frame.empty:
        return Table(tuple(headers or ()), ())
    heads = tuple(headers) if headers is not None else tuple(str(c) for c in frame.columns)
    rows = tuple(
        tuple(Cell(cell_text(v), _is_number(v)) for v in row)
        for row in frame.itertuples(index=False)
    )
    return Table(heads, rows)


def _warnings(items: Iterable[str]) -> list[Paragraph]:
    return [Paragraph(item, "warning") for item in items]


def _headline(bundle: AnalysisBundle) -> Metrics:
    s = summarise(bundle)
    res = bundle.result
    items = [
        (f"Pooled {s['measure'].lower()} ({res.level:.0%} CI)", s["text"]),
        ("p-value", format_pvalue(s["pval"])),
        ("Studies (k)", str(s["k"])),
        ("I\u00b2", format_percent(s["i2"])),
    ]
    if res.is_random_effects:
        items.append(("tau\u00b2", format_number(s["tau2"], 4)))
        if np.isfinite(s["pi_lower"]) and bundle.settings.show_prediction:
            items.append(
                (
                    "Prediction interval",
                    f"{format_number(s['pi_lower'])} to {format_number(s['pi_upper'])}",
                )
            )
    if np.isfinite(s["subgroup_pval"]):
        items.append(("Subgroup difference", format_pvalue(s["subgroup_pval"])))
    return Metrics(tuple(items))


def _subgroups(bundle: AnalysisBundle) -> list[Block]:
    groups = bundle.subgroups
    if groups is None:
        return []
    fits = subgroup_frame(bundle)
    shown = pd.DataFrame(
        {
            "Subgroup": fits["subgroup"],
            "k": fits["k"],
            "Estimate (CI)": format_ci_column(fits),
            "p": [format_pvalue(p) for p in fits["pval"]],
            "I\u00b2": [format_percent(v) for v in fits["i2"]],
        }
    )
    test = groups.test
    what = (
        "Q on the subgroup estimates (separate tau\u00b2)"
        if test.name == "separate_tau2"
        else "common-effect Q-between"
    )
    return [
        Heading(f"Subgroups by {groups.column}", 3),
        table_block(shown),
        Paragraph(
            f"Test for subgroup differences ({what}): Q = {format_number(test.statistic)}, "
            f"df = {test.df[0]:g}, {format_pvalue(test.pval)}."
        ),
    ]


def _studies(bundle: AnalysisBundle, table: pd.DataFrame) -> Table:
    studies = result_tables(bundle, table).get("studies")
    if studies is None:
        return table_block(None)
    shown = pd.DataFrame(
        {
            "Study": studies["study"],
            "Subgroup": studies["subgroup"].fillna(""),
            "Data": studies["data"],
            "Estimate (CI)": format_ci_column(studies),
            "Weight": [
                format_percent(w) if inc and np.isfinite(w) else "excluded" if not inc else ""
                for w, inc in zip(studies["weight_percent"], studies["included"], strict=True)
            ],
            "Reconstructed": studies["reconstructed"],
        }
    )
    return table_block(shown)


def _nnt(bundle: AnalysisBundle, baseline_risk: float | None, event_is_good: bool) -> list[Block]:
    result = nnt_from_bundle(bundle, baseline_risk, event_is_good=event_is_good)
    if result is None:
        return []
    source = (
        "the pooled control-group risk of the analysed studies (sum of control events "
        "/ sum of control participants)"
        if baseline_risk is None
        else "a baseline risk chosen by the presenter"
    )
    return [
        Heading("Number needed to treat"),
        Metrics(
            (
                ("Number needed to treat", result.text()),
                ("Control-group risk", f"{result.baseline_risk:.1%}"),
                ("Treated risk", f"{result.treated_risk:.1%}"),
            )
        ),
        Paragraph(
            f"{result.sentence()} Baseline risk: {source}. NNTs are rounded up; "
            "an interval through \u221e follows Altman (BMJ 1998;317:1309, "
            "doi:10.1136/bmj.317.7168.1309)."
        ),
        *_warnings(result.warnings),
    ]


def _grade(bundle: AnalysisBundle, sof: tuple[pd.DataFrame, Sequence[str]] | None) -> list[Block]:
    """The GRADE summary-of-findings row and its footnotes.

    Without ``sof`` the row is built from the data-driven suggestions and says so.
    """
    note: list[Block] = []
    if sof is None:
        try:
            suggestions = grade_suggestions(bundle)
            judgements = {d: s.level for d, s in suggestions.items() if s.level}
            sof = summary_of_findings(bundle, judgements, suggestions=suggestions)
        except ValueError:
            return []
        note = [
            Paragraph(
                "Domain levels are the data-driven suggestions, not reviewed judgements: "
                "rate each domain on the Certainty (GRADE) page.",
                "note",
            )
        ]
    frame, notes = sof
    footnotes = [Paragraph(f"{i}. {text}") for i, text in enumerate(notes, start=1)]
    return [Heading("Certainty of evidence (GRADE)"), *note, table_block(frame), *footnotes]


def _provenance(table: pd.DataFrame, source: str | None, link: str | None) -> list[Block]:
    notes = [f"Data: {source}." if source else "Data: supplied by the user."]
    if "provenance" in table:
        flags = table["provenance"].astype("string").str.strip().str.lower()
        n_rec = int((flags == "reconstructed").sum())
        if n_rec:
            notes.append(
                f"{n_rec} of {len(table)} rows are reconstructed (marked \u2020): "
                "counts chosen to reproduce published pooled results, not taken "
                "from the original papers."
            )
    notes.append(
        "Numbers computed with igmeta, whose results agree with the R package "
        "metafor 3.8-1; the R script at the end of this report reproduces them."
    )
    if link:
        notes.append(f"Open this analysis in the dashboard: {link}")
    return [Heading("Provenance"), *(Paragraph(n, "note") for n in notes)]


def _reproduce(table: pd.DataFrame, bundle: AnalysisBundle) -> list[Block]:
    blocks: list[Block] = [Heading("Reproduce")]
    try:
        script = r_script(table, bundle.settings, bundle)
    except CodegenError:
        script = None
    if script:
        blocks.append(Code("R script (metafor 3.8-1)", script))
    payload = json.dumps(
        {
            "table": json.loads(table_to_json(table)),
            "settings": json.loads(settings_to_json(bundle.settings)),
        },
        ensure_ascii=False,
        indent=1,
    )
    blocks.append(Code("The analysis as JSON (study table and settings)", payload))
    return blocks


def report_content(
    table: pd.DataFrame,
    settings: AnalysisSettings,
    *,
    bundle: AnalysisBundle | None = None,
    title: str | None = None,
    source: str | None = None,
    scenario_name: str | None = None,
    link: str | None = None,
    baseline_risk: float | None = None,
    event_is_good: bool = True,
    generated_at: _dt.datetime | None = None,
    grade: tuple[pd.DataFrame, Sequence[str]] | None = None,
) -> ReportContent:
    """The report of one analysis as blocks (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        The study table.
    settings : AnalysisSettings
    bundle : AnalysisBundle, optional
        ``run_analysis(table, settings)`` if already computed.
    title, source, scenario_name, link : str, optional
        Report title, where the data came from, scenario name, share link (user text).
    baseline_risk : float, optional
        Control-group risk for the NNT (default: pooled control risk).
    event_is_good : bool
        Whether the counted event is desirable (for NNTB/NNTH).
    generated_at : datetime, optional
        Time stamp shown (default: now, UTC).
    grade : (DataFrame, list of str), optional
        The GRADE summary of findings and its footnotes as rated by the user
        (:func:`igmeta.app.evidence.grade.summary_of_findings`); default: built from the data-driven
        suggestions and labelled as such.

    Returns
    -------
    ReportContent
    """
    bundle = bundle if bundle is not None else run_analysis(table, settings)
    stamp = (generated_at or _dt.datetime.now(_dt.UTC)).strftime("%Y-%m-%d %H:%M %Z").strip()
    title = title or "Meta-analysis report"
    blocks: list[Block] = [
        Heading(title, 1),
        Paragraph(
            f"Generated {stamp} by igmeta"
            + (f" \u00b7 Scenario: {scenario_name}" if scenario_name else ""),
            "meta",
        ),
        *_provenance(table, source, link),
    ]
    funnel = None
    if bundle.result is None:
        blocks += [
            Heading("Result"),
            Paragraph(
                f"No pooled result: {bundle.error or 'nothing could be analysed'}", "warning"
            ),
        ]
    else:
        label = measure_info(bundle.settings.measure).label
        blocks += [
            Heading("Result"),
            _headline(bundle),
            table_block(result_summary_frame(bundle), headers=["Quantity", "Value"]),
            *_subgroups(bundle),
            Heading(f"Forest plot ({label})"),
            Figure("forest", forest_for(bundle, table)),
        ]
        funnel = funnel_for(bundle)
        if funnel is not None:
            blocks += [Heading("Funnel plot"), Figure("funnel", funnel)]
            if bundle.result.k < 10:
                blocks.append(
                    Paragraph(
                        "With fewer than 10 studies a funnel plot cannot show small-study "
                        "effects reliably.",
                        "note",
                    )
                )
        blocks += [Heading("Studies"), _studies(bundle, table)]
        blocks += _nnt(bundle, baseline_risk, event_is_good)
        blocks += _grade(bundle, grade)
    messages = list(bundle.warnings)
    left_out = left_out_sentence(left_out_rows(table, bundle), len(table))
    if left_out:
        messages.append(left_out)
    blocks.append(Heading("Warnings"))
    blocks += _warnings(messages) if messages else [Paragraph("None.")]
    blocks += [
        Heading("Settings"),
        table_block(
            pd.DataFrame(
                list(describe_settings(bundle.settings).items()), columns=["Setting", "Value"]
            )
        ),
    ]
    if bundle.result is not None:
        # The report holds Q, I\u00b2 and tau\u00b2 and a funnel plot, but no Q-profile CIs
        # and no small-study tests: the methods paragraph names only what is here.
        text, refs = methods_paragraph(
            bundle, bias_tests=False, heterogeneity_ci=False, funnel_plot=funnel is not None
        )
        blocks += [Heading("Methods"), Paragraph(text), References(tuple(refs))]
    blocks += [Heading("Study table (input)"), table_block(table.reset_index(drop=True))]
    blocks += _reproduce(table, bundle)
    return ReportContent(title, tuple(blocks))
