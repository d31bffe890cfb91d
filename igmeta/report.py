"""A single self-contained HTML report of one analysis.

The report opens offline in any browser: plotly.js is inlined (``include_plotlyjs=True``
for the first figure), there are no external scripts, styles, fonts or images, and a
Content-Security-Policy forbids every network request. It holds the interactive forest
and funnel plots, the pooled result, heterogeneity and subgroups, the number needed to
treat (binary comparisons), the GRADE summary of findings, every setting, the engine's
warnings, the methods paragraph with references, the study table, a provenance note, the
R script that reproduces the numbers with metafor, and the analysis itself as JSON (to
load it again).

All user text (study labels, column names, subgroup names, source, titles) goes through
:func:`html.escape`; figure labels are escaped by the plot builders. Nothing from the
table becomes markup.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.io as pio

from igmeta.analysis import AnalysisBundle, AnalysisSettings, run_analysis
from igmeta.clinical import nnt_from_bundle
from igmeta.codegen import CodegenError, r_script
from igmeta.coverage import left_out_rows, left_out_sentence
from igmeta.effects import measure_info
from igmeta.exports import forest_for, funnel_for
from igmeta.formatting import (
    format_ci_column,
    format_number,
    format_percent,
    format_pvalue,
)
from igmeta.grade import grade_suggestions, summary_of_findings
from igmeta.methods_text import methods_paragraph
from igmeta.scenarios import describe_settings, settings_to_json, summarise, table_to_json
from igmeta.tables import result_summary_frame, subgroup_frame

__all__ = ["CSP", "report_html"]

#: No network at all; inline scripts and styles only (plotly.js is inlined).
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; form-action 'none'; "
    "base-uri 'none'"
)

# Constant stylesheet (no user text is ever interpolated into it).
_CSS = """
:root { color-scheme: light; }
body { font-family: Arial, "Helvetica Neue", Helvetica, "Liberation Sans", sans-serif;
       color: #1a1a1a; background: #fff; margin: 0 auto; max-width: 1480px;
       padding: 24px 32px 64px; line-height: 1.45; font-size: 16px; }
h1 { font-size: 30px; margin: 0 0 4px; }
h2 { font-size: 22px; margin: 36px 0 10px; border-bottom: 2px solid #1a1a1a;
     padding-bottom: 4px; }
h3 { font-size: 18px; margin: 20px 0 8px; }
.meta { color: #444; margin: 0 0 16px; }
.headline { display: flex; flex-wrap: wrap; gap: 16px; margin: 16px 0; }
.metric { border: 1px solid #bbb; border-radius: 6px; padding: 10px 16px; min-width: 150px; }
.metric .label { font-size: 14px; color: #444; }
.metric .value { font-size: 24px; font-weight: bold; }
.note { background: #eef4fb; border-left: 4px solid #0072B2; padding: 10px 14px;
        margin: 12px 0; }
.warning { background: #fff4e5; border-left: 4px solid #D55E00; padding: 8px 14px;
           margin: 8px 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 15px; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.figure { overflow-x: auto; margin: 8px 0 24px; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 10px; overflow-x: auto;
      font-size: 13px; white-space: pre; }
details { margin: 8px 0; }
summary { cursor: pointer; font-weight: bold; }
ol.refs li { margin-bottom: 4px; }
@media print { .figure { overflow: visible; } details { display: none; } }
"""

_PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": False,
    "toImageButtonOptions": {"format": "png", "width": 1920, "height": 1080},
}


def _e(value: object) -> str:
    """Escaped text for HTML content and attribute values."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(value), quote=True)


def _cell(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return "" if np.isnan(value) else _e(value)
        return _e(f"{value:.6g}")
    return _e(value)


def _table(frame: pd.DataFrame, *, headers: Sequence[str] | None = None) -> str:
    if frame is None or frame.empty:
        return "<p>(none)</p>"
    heads = headers if headers is not None else [str(c) for c in frame.columns]
    parts = ["<table><thead><tr>"]
    parts += [f"<th>{_e(h)}</th>" for h in heads]
    parts.append("</tr></thead><tbody>")
    for row in frame.itertuples(index=False):
        parts.append("<tr>")
        for value in row:
            numeric = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
                value, bool | np.bool_
            )
            parts.append(
                f'<td class="num">{_cell(value)}</td>' if numeric else f"<td>{_cell(value)}</td>"
            )
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _metric(label: str, value: str) -> str:
    return (
        f'<div class="metric"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div></div>'
    )


def _list(items: Iterable[str], css: str) -> str:
    return "".join(f'<div class="{css}">{_e(item)}</div>' for item in items)


def _figure_html(fig, div_id: str, include_js: bool) -> str:
    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=include_js,
        config=_PLOT_CONFIG,
        div_id=div_id,
        validate=False,
    )


def _headline(bundle: AnalysisBundle) -> str:
    s = summarise(bundle)
    res = bundle.result
    parts = [
        _metric(f"Pooled {s['measure'].lower()} ({res.level:.0%} CI)", s["text"]),
        _metric("p-value", format_pvalue(s["pval"])),
        _metric("Studies (k)", str(s["k"])),
        _metric("I\u00b2", format_percent(s["i2"])),
    ]
    if res.is_random_effects:
        parts.append(_metric("tau\u00b2", format_number(s["tau2"], 4)))
        if np.isfinite(s["pi_lower"]) and bundle.settings.show_prediction:
            parts.append(
                _metric(
                    "Prediction interval",
                    f"{format_number(s['pi_lower'])} to {format_number(s['pi_upper'])}",
                )
            )
    if np.isfinite(s["subgroup_pval"]):
        parts.append(_metric("Subgroup difference", format_pvalue(s["subgroup_pval"])))
    return '<div class="headline">' + "".join(parts) + "</div>"


def _subgroups(bundle: AnalysisBundle) -> str:
    groups = bundle.subgroups
    if groups is None:
        return ""
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
    return (
        "<h3>Subgroups by "
        + _e(groups.column)
        + "</h3>"
        + _table(shown)
        + f"<p>Test for subgroup differences ({_e(what)}): Q = "
        f"{_e(format_number(test.statistic))}, df = {_e(f'{test.df[0]:g}')}, "
        f"{_e(format_pvalue(test.pval))}.</p>"
    )


def _studies(bundle: AnalysisBundle, table: pd.DataFrame) -> str:
    from igmeta.exports import result_tables

    studies = result_tables(bundle, table).get("studies")
    if studies is None:
        return ""
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
    return _table(shown)


def _nnt(bundle: AnalysisBundle, baseline_risk: float | None, event_is_good: bool) -> str:
    result = nnt_from_bundle(bundle, baseline_risk, event_is_good=event_is_good)
    if result is None:
        return ""
    source = (
        "the pooled control-group risk of the analysed studies (sum of control events "
        "/ sum of control participants)"
        if baseline_risk is None
        else "a baseline risk chosen by the presenter"
    )
    return (
        "<h2>Number needed to treat</h2>"
        f'<div class="headline">{_metric("Number needed to treat", result.text())}'
        f"{_metric('Control-group risk', f'{result.baseline_risk:.1%}')}"
        f"{_metric('Treated risk', f'{result.treated_risk:.1%}')}</div>"
        f"<p>{_e(result.sentence())} Baseline risk: {_e(source)}. NNTs are rounded up; "
        "an interval through \u221e follows Altman (BMJ 1998;317:1309, "
        "doi:10.1136/bmj.317.7168.1309).</p>" + _list(result.warnings, "warning")
    )


def _grade(bundle: AnalysisBundle, sof: tuple[pd.DataFrame, Sequence[str]] | None) -> str:
    """The GRADE summary-of-findings row and its footnotes (user text escaped).

    Without ``sof`` the row is built from the data-driven suggestions and says so.
    """
    note = ""
    if sof is None:
        try:
            suggestions = grade_suggestions(bundle)
            judgements = {d: s.level for d, s in suggestions.items() if s.level}
            sof = summary_of_findings(bundle, judgements, suggestions=suggestions)
        except ValueError:
            return ""
        note = (
            '<div class="note">Domain levels are the data-driven suggestions, not reviewed '
            "judgements: rate each domain on the Certainty (GRADE) page.</div>"
        )
    frame, notes = sof
    items = "".join(f"<li>{_e(n)}</li>" for n in notes)
    return (
        "<h2>Certainty of evidence (GRADE)</h2>"
        + note
        + _table(frame)
        + (f"<ol>{items}</ol>" if items else "")
    )


def report_html(
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
) -> str:
    """The analysis as one self-contained HTML page.

    Parameters
    ----------
    table : DataFrame
        The study table.
    settings : AnalysisSettings
    bundle : AnalysisBundle, optional
        ``run_analysis(table, settings)`` if already computed.
    title, source, scenario_name, link : str, optional
        Shown escaped: report title, where the data came from, scenario name, share link.
    baseline_risk : float, optional
        Control-group risk for the NNT (default: pooled control risk).
    event_is_good : bool
        Whether the counted event is desirable (for NNTB/NNTH).
    generated_at : datetime, optional
        Time stamp shown (default: now, UTC).
    grade : (DataFrame, list of str), optional
        The GRADE summary of findings and footnotes
        (:func:`igmeta.grade.summary_of_findings`); default: built from the data-driven
        suggestions and labelled as such.

    Returns
    -------
    str
        A complete HTML document (UTF-8).
    """
    bundle = bundle if bundle is not None else run_analysis(table, settings)
    stamp = (generated_at or _dt.datetime.now(_dt.UTC)).strftime("%Y-%m-%d %H:%M %Z").strip()
    title = title or "Meta-analysis report"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="igmeta">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Generated {_e(stamp)} by igmeta'
        + (f" \u00b7 Scenario: {_e(scenario_name)}" if scenario_name else "")
        + "</p>",
    ]
    parts.append(_provenance(table, source, link))
    funnel = None
    if bundle.result is None:
        parts.append(
            '<h2>Result</h2><div class="warning">No pooled result: '
            f"{_e(bundle.error or 'nothing could be analysed')}</div>"
        )
    else:
        label = measure_info(bundle.settings.measure).label
        parts += [
            "<h2>Result</h2>",
            _headline(bundle),
            _table(result_summary_frame(bundle), headers=["Quantity", "Value"]),
            _subgroups(bundle),
        ]
        forest = forest_for(bundle, table)
        funnel = funnel_for(bundle)
        parts.append(f"<h2>Forest plot ({_e(label)})</h2>")
        parts.append(
            '<div class="figure" id="forest">'
            + _figure_html(forest, "forest-plot", True)
            + "</div>"
        )
        if funnel is not None:
            parts.append("<h2>Funnel plot</h2>")
            parts.append(
                '<div class="figure" id="funnel">'
                + _figure_html(funnel, "funnel-plot", False)
                + "</div>"
            )
            if bundle.result.k < 10:
                parts.append(
                    '<div class="note">With fewer than 10 studies a funnel plot '
                    "cannot show small-study effects reliably.</div>"
                )
        parts.append("<h2>Studies</h2>" + _studies(bundle, table))
        parts.append(_nnt(bundle, baseline_risk, event_is_good))
        parts.append(_grade(bundle, grade))
    parts.append("<h2>Warnings</h2>")
    messages = list(bundle.warnings)
    left_out = left_out_sentence(left_out_rows(table, bundle), len(table))
    if left_out:
        messages.append(left_out)
    parts.append(_list(messages, "warning") if messages else "<p>None.</p>")
    parts.append("<h2>Settings</h2>")
    parts.append(
        _table(
            pd.DataFrame(
                list(describe_settings(bundle.settings).items()), columns=["Setting", "Value"]
            )
        )
    )
    if bundle.result is not None:
        # The report holds Q, I\u00b2 and tau\u00b2 and a funnel plot, but no Q-profile CIs
        # and no small-study tests: the methods paragraph names only what is here.
        text, refs = methods_paragraph(
            bundle, bias_tests=False, heterogeneity_ci=False, funnel_plot=funnel is not None
        )
        parts.append("<h2>Methods</h2>")
        parts.append(f"<p>{_e(text)}</p>")
        parts.append('<ol class="refs">' + "".join(f"<li>{_e(r)}</li>" for r in refs) + "</ol>")
    parts.append("<h2>Study table (input)</h2>")
    parts.append(_table(table.reset_index(drop=True)))
    parts.append(_reproduce(table, bundle))
    parts.append("</body></html>")
    return "\n".join(parts)


def _provenance(table: pd.DataFrame, source: str | None, link: str | None) -> str:
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
    return "<h2>Provenance</h2>" + "".join(f'<div class="note">{_e(n)}</div>' for n in notes)


def _reproduce(table: pd.DataFrame, bundle: AnalysisBundle) -> str:
    parts = ["<h2>Reproduce</h2>"]
    try:
        script = r_script(table, bundle.settings, bundle)
    except CodegenError:
        script = None
    if script:
        parts.append(
            f"<details><summary>R script (metafor 3.8-1)</summary><pre>{_e(script)}</pre></details>"
        )
    payload = json.dumps(
        {
            "table": json.loads(table_to_json(table)),
            "settings": json.loads(settings_to_json(bundle.settings)),
        },
        ensure_ascii=False,
        indent=1,
    )
    parts.append(
        "<details><summary>The analysis as JSON (study table and settings)"
        f"</summary><pre>{_e(payload)}</pre></details>"
    )
    return "".join(parts)
