"""Self-contained HTML report and exports (figures via kaleido + Debian chromium, tables)."""

from __future__ import annotations

import io
import re
import struct

import numpy as np
import openpyxl
import pandas as pd
import pytest

from igmeta.app.outputs.exports import (
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    ExportError,
    analysis_figures,
    browser_path,
    enlarge_figure,
    figure_bytes,
    figures_bytes,
    forest_for,
    result_tables,
    slide_factor,
    tables_csv,
    tables_excel,
)
from igmeta.app.outputs.methods_text import methods_paragraph
from igmeta.app.outputs.report import CSP, report_html
from igmeta.app.pipeline.analysis import (
    PUBLISHED_COMPARISON,
    PUBLISHED_SINGLE_ARM,
    AnalysisSettings,
    run_analysis,
)
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.effects import author_year_label

XSS = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.example","x")'


def _table(name: str = XSS) -> pd.DataFrame:
    table = load_ig_pnp_canonical()
    table.loc[0, "study"] = name
    table.loc[1, "study"] = FORMULA
    return table


@pytest.fixture(scope="module")
def report() -> str:
    table = _table()
    return report_html(
        table,
        PUBLISHED_COMPARISON,
        source=f"upload {XSS}",
        title=f"Journal club {XSS}",
        scenario_name=f"scn {XSS}",
        link="http://127.0.0.1:8501/?scenario=abc",
    )


# ----------------------------------------------------------------------------- report


def test_report_is_self_contained(report):
    assert report.startswith("<!DOCTYPE html>")
    scripts = re.findall(r"<script\b[^>]*>", report, flags=re.I)
    assert scripts, "plotly.js must be inlined"
    assert not any(re.search(r"\bsrc\s*=", tag, flags=re.I) for tag in scripts)
    assert not re.search(r"<script[^>]+src\s*=\s*[\"']?https?:", report, flags=re.I)
    assert not re.search(r"<link\b", report, flags=re.I)
    assert not re.search(r"<(img|iframe|object|embed)\b", report, flags=re.I)
    assert len(report) > 3_000_000  # plotly.js (several MB) is inside
    assert CSP.replace("'", "&#x27;") in report
    assert "connect-src 'none'" in CSP and "default-src 'none'" in CSP


def test_report_escapes_all_user_text(report):
    assert XSS not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    assert "Journal club &lt;script&gt;" in report
    # The only script tags are plotly's own.
    for tag in re.findall(r"<script\b[^>]*>", report, flags=re.I):
        assert tag.lower() in (
            '<script type="text/javascript">',
            "<script>",
            '<script charset="utf-8">',
        )


def test_report_contents(report):
    table = _table()
    bundle = run_analysis(table, PUBLISHED_COMPARISON)
    text, refs = methods_paragraph(
        bundle, bias_tests=False, heterogeneity_ci=False, funnel_plot=True
    )
    import html

    assert html.escape(text) in report
    assert html.escape(refs[0]) in report
    assert 'id="forest-plot"' in report and 'id="funnel-plot"' in report
    assert "2.90 [1.62, 5.19]" in report
    assert "Number needed to treat" in report and "NNTB 3 (95% CI NNTB 2 to 10)" in report
    assert "Mantel-Haenszel" in report and "RevMan" in report  # settings
    assert "reconstructed" in report  # provenance
    assert "metafor 3.8-1" in report
    assert "rma.mh(" in report  # the R script
    assert "Warnings" in report and "Continuity correction" in report
    assert "?scenario=abc" in report


def test_report_without_a_result_still_renders():
    table = load_ig_pnp_canonical().assign(include=False)
    page = report_html(table, PUBLISHED_COMPARISON)
    assert "No pooled result" in page and 'id="forest-plot"' not in page


def test_report_for_single_arm_and_random_effects():
    table = load_ig_pnp_canonical()
    page = report_html(table, PUBLISHED_SINGLE_ARM.with_changes(model="random"))
    assert "Prediction interval" in page and "Subgroups by design" in page
    assert "Number needed to treat" not in page


# ----------------------------------------------------------------------------- figures


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_figures_export_as_png_svg_pdf():
    table = _table()
    bundle = run_analysis(table, PUBLISHED_COMPARISON)
    figures = analysis_figures(bundle, table, theme="dark")
    assert set(figures) == {"forest", "funnel"}
    out = figures_bytes(figures)
    assert set(out) == {(n, f) for n in figures for f in ("png", "svg", "pdf")}
    for name in figures:
        assert out[(name, "png")].startswith(b"\x89PNG")
        assert _png_size(out[(name, "png")]) == (SLIDE_WIDTH, SLIDE_HEIGHT)
        assert out[(name, "svg")].lstrip().startswith(b"<svg")
        assert out[(name, "pdf")].startswith(b"%PDF")
    # The label is text in the SVG, escaped (no live markup).
    assert b"<script>alert" not in out[("forest", "svg")]


def test_single_figure_export_and_custom_size():
    table = load_ig_pnp_canonical()
    bundle = run_analysis(table, PUBLISHED_SINGLE_ARM)
    fig = forest_for(bundle, table)
    png = figure_bytes(fig, "png", width=800, height=600, scale=2)
    assert _png_size(png) == (1600, 1200)
    with pytest.raises(ExportError):
        figure_bytes(fig, "gif")


def test_exports_reuse_one_browser_and_restart_it_after_close():
    import igmeta.app.outputs.exports as exports

    table = load_ig_pnp_canonical()
    fig = forest_for(run_analysis(table, PUBLISHED_COMPARISON), table)
    assert _png_size(figure_bytes(fig, "png", width=400, height=300)) == (400, 300)
    browser = exports._RENDERER._kaleido
    assert browser is not None  # kept open after the export
    assert _png_size(figure_bytes(fig, "png", width=500, height=300)) == (500, 300)
    assert exports._RENDERER._kaleido is browser
    exports._RENDERER.close()
    assert exports._RENDERER._kaleido is None
    assert _png_size(figure_bytes(fig, "png", width=600, height=300)) == (600, 300)
    assert exports._RENDERER._kaleido is not None  # a new browser, started on demand


def test_browser_is_never_downloaded(monkeypatch, tmp_path):
    assert browser_path()
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "missing-chromium"))
    with pytest.raises(ExportError, match="BROWSER_PATH"):
        browser_path()
    fig = forest_for(
        run_analysis(load_ig_pnp_canonical(), PUBLISHED_COMPARISON), load_ig_pnp_canonical()
    )
    with pytest.raises(ExportError):
        figure_bytes(fig, "png")


def test_enlarge_figure_scales_text_and_size():
    table = load_ig_pnp_canonical()
    fig = forest_for(run_analysis(table, PUBLISHED_COMPARISON), table)
    big = enlarge_figure(fig, 1.5)
    assert big.layout.width == int(fig.layout.width * 1.5)
    sizes = [t.textfont.size for t in fig.data if t.textfont and t.textfont.size]
    big_sizes = [t.textfont.size for t in big.data if t.textfont and t.textfont.size]
    assert big_sizes == pytest.approx([s * 1.5 for s in sizes])
    assert fig.layout.width != big.layout.width  # the original is untouched
    assert 1.0 <= slide_factor(fig) <= 1.6


# ----------------------------------------------------------------------------- tables


def test_tables_are_formula_safe_csv_and_excel():
    table = _table()
    bundle = run_analysis(table, PUBLISHED_COMPARISON)
    tables = result_tables(bundle, table)
    assert {"results", "studies", "settings", "warnings", "data"} <= set(tables)
    csv = tables_csv(bundle, table, "studies").decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and "\n=HYPERLINK" not in csv
    studies = pd.read_csv(io.StringIO(csv))
    assert studies["weight_percent"].sum() == pytest.approx(100.0)
    # Jann 2020 (zero cell, 0.5 added): RR = (7.5 / 12) / (0.5 / 13); labelled name + year
    label = author_year_label(XSS, table.loc[0, "year"])
    assert label == f"{XSS} 2020"
    assert studies.loc[studies["study"] == label, "estimate"].iloc[0] == pytest.approx(
        (7.5 / 12) / (0.5 / 13), rel=1e-12
    )
    workbook = openpyxl.load_workbook(io.BytesIO(tables_excel(bundle, table)))
    assert {"results", "studies", "settings", "warnings", "data"} <= set(workbook.sheetnames)
    cells = [c.value for row in workbook["studies"].iter_rows() for c in row]
    assert all(not (isinstance(v, str) and v.startswith("=")) for v in cells)
    assert any(isinstance(v, float) for v in cells)


def test_subgroup_table_in_exports():
    table = load_ig_pnp_canonical()
    bundle = run_analysis(table, AnalysisSettings(analysis="single_arm", proportion_measure="PFT"))
    subgroups = result_tables(bundle, table)["subgroups"]
    assert list(subgroups["subgroup"][:2]) == ["RCT", "open-label"]
    assert subgroups["p_value"].iloc[-1] == pytest.approx(bundle.subgroups.test.pval)
    assert np.isfinite(subgroups["estimate"]).all()
