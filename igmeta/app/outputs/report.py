"""A single self-contained HTML report of one analysis.

The report opens offline in any browser: plotly.js is inlined (``include_plotlyjs=True``
for the first figure), there are no external scripts, styles, fonts or images, and a
Content-Security-Policy forbids every network request. It holds the interactive forest
and funnel plots, the pooled result, heterogeneity and subgroups, the number needed to
treat (binary comparisons), every setting, the engine's warnings, the methods paragraph
with references, the study table, a provenance note, the R script that reproduces the
numbers with metafor, and the analysis itself as JSON (to load it again).

The content is :func:`igmeta.app.outputs.report_content.report_content` (shared with the Word
report,
:mod:`igmeta.app.outputs.report_docx`); this module only renders its blocks as HTML. All user text
(study labels, column names, subgroup names, source, titles) goes through
:func:`html.escape`; figure labels are escaped by the plot builders. Nothing from the
table becomes markup.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.io as pio

from igmeta.app.outputs.report_content import (
    Block,
    Code,
    Figure,
    Heading,
    Metrics,
    Paragraph,
    References,
    Table,
    report_content,
)
from igmeta.app.pipeline.analysis import AnalysisSettings

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


def _e(value: str) -> str:
    """Escaped text for HTML content and attribute values."""
    return html.escape(value, quote=True)


def _table(block: Table) -> str:
    if not block.rows:
        return "<p>(none)</p>"
    parts = ["<table><thead><tr>"]
    parts += [f"<th>{_e(h)}</th>" for h in block.headers]
    parts.append("</tr></thead><tbody>")
    for row in block.rows:
        parts.append("<tr>")
        parts += [
            f'<td class="num">{_e(c.text)}</td>' if c.numeric else f"<td>{_e(c.text)}</td>"
            for c in row
        ]
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _metrics(block: Metrics) -> str:
    return (
        '<div class="headline">'
        + "".join(
            f'<div class="metric"><div class="label">{_e(label)}</div>'
            f'<div class="value">{_e(value)}</div></div>'
            for label, value in block.items
        )
        + "</div>"
    )


def _paragraph(block: Paragraph) -> str:
    if block.kind in ("note", "warning"):
        return f'<div class="{block.kind}">{_e(block.text)}</div>'
    if block.kind == "meta":
        return f'<p class="meta">{_e(block.text)}</p>'
    return f"<p>{_e(block.text)}</p>"


def _figure(block: Figure, include_js: bool) -> str:
    plot = pio.to_html(
        block.figure,
        full_html=False,
        include_plotlyjs=include_js,
        config=_PLOT_CONFIG,
        div_id=f"{block.name}-plot",
        validate=False,
    )
    return f'<div class="figure" id="{block.name}">{plot}</div>'


def _block(block: Block, include_js: bool) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{_e(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return _paragraph(block)
    if isinstance(block, Metrics):
        return _metrics(block)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return _figure(block, include_js)
    if isinstance(block, References):
        return '<ol class="refs">' + "".join(f"<li>{_e(r)}</li>" for r in block.items) + "</ol>"
    if isinstance(block, Code):
        return f"<details><summary>{_e(block.title)}</summary><pre>{_e(block.text)}</pre></details>"
    raise TypeError(f"Unknown report block {type(block).__name__}")


def report_html(table: pd.DataFrame, settings: AnalysisSettings, **options) -> str:
    """The analysis as one self-contained HTML page.

    Parameters
    ----------
    table : DataFrame
        The study table.
    settings : AnalysisSettings
    **options
        ``bundle``, ``title``, ``source``, ``scenario_name``, ``link``, ``baseline_risk``,
        ``event_is_good``, ``generated_at`` and ``grade``, as in
        :func:`igmeta.app.outputs.report_content.report_content`.

    Returns
    -------
    str
        A complete HTML document (UTF-8).
    """
    content = report_content(table, settings, **options)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="igmeta">',
        f"<title>{_e(content.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
    ]
    plotly_js_included = False
    for block in content.blocks:
        parts.append(_block(block, include_js=not plotly_js_included))
        plotly_js_included = plotly_js_included or isinstance(block, Figure)
    parts.append("</body></html>")
    return "\n".join(parts)
