"""Word report (.docx): re-read with python-docx and compared with the HTML report, which
renders the same content model; hostile study names stay literal text; the Scenarios page
offers it. LibreOffice, where installed, opens the document and converts it to PDF."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest
from lxml import etree
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from igmeta._optional import MissingOptionalDependency
from igmeta.app.outputs import exports
from igmeta.app.outputs.methods_text import methods_paragraph
from igmeta.app.outputs.report import report_html
from igmeta.app.outputs.report_content import Heading, report_content
from igmeta.app.outputs.report_docx import DOCX_MIME, FIGURE_SCALE, report_docx
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.app.store.scenarios import summarise
from igmeta.datasets import load_ig_pnp_canonical
from ui import state

WHEN = dt.datetime(2026, 12, 7, 20, 0, tzinfo=dt.UTC)
XML_NAME = "<w:t>evil</w:t><w:fldSimple w:instr=\"HYPERLINK 'x'\"/>"
FORMULA = '=HYPERLINK("http://evil.example","x")'
FIELD = "{ MERGEFIELD name } \x0b{ DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe }"
FIELD_SHOWN = FIELD.replace("\x0b", "\ufffd")  # XML cannot hold \x0b
TITLE = "Journal club <w:br/> { PAGE }"


def _table() -> pd.DataFrame:
    table = load_ig_pnp_canonical()
    table.loc[0, "study"] = XML_NAME
    table.loc[1, "study"] = FORMULA
    table.loc[2, "study"] = FIELD
    return table


OPTIONS = {
    "title": TITLE,
    "source": "upload =cmd|' /C calc'!A0",
    "scenario_name": "scn <b>",
    "link": "http://127.0.0.1:8501/?scenario=abc",
    "generated_at": WHEN,
}


@pytest.fixture(scope="module")
def docx_bytes() -> bytes:
    return report_docx(_table(), PUBLISHED_COMPARISON, **OPTIONS)


@pytest.fixture(scope="module")
def document(docx_bytes):
    return docx.Document(io.BytesIO(docx_bytes))


@pytest.fixture(scope="module")
def page() -> str:
    return report_html(_table(), PUBLISHED_COMPARISON, **OPTIONS)


def _tables(document) -> list[list[list[str]]]:
    return [[[cell.text for cell in row.cells] for row in t.rows] for t in document.tables]


def _styled(document, prefix: str) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith(prefix)]


def test_headings_are_those_of_the_html_report(document, page):
    assert _styled(document, "Title") == [TITLE]
    sections = _styled(document, "Heading 1")
    assert sections == [html.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", page)]
    for expected in ("Provenance", "Result", "Forest plot (Risk ratio)", "Funnel plot",
                     "Studies", "Number needed to treat", "Warnings", "Settings", "Methods",
                     "Study table (input)", "Reproduce"):  # fmt: skip
        assert expected in sections
    assert _styled(document, "Heading 2") == re.findall(r"<h3>(.*?)</h3>", page)
    assert document.core_properties.title == TITLE


def test_pooled_estimate_equals_the_html_reports(document, page):
    bundle = run_analysis(_table(), PUBLISHED_COMPARISON)
    text = summarise(bundle)["text"]
    assert text == "2.90 [1.62, 5.19]"
    label = "Pooled risk ratio (95% CI)"
    shown = re.search(
        rf'<div class="label">{re.escape(label)}</div><div class="value">(.*?)</div>', page
    ).group(1)
    metrics = next(t for t in _tables(document) if t[0][0] == label)
    assert metrics[0][1] == html.unescape(shown) == text
    assert metrics[1] == ["p-value", "p = 0.0003"]
    nnt = next(t for t in _tables(document) if t[0][0] == "Number needed to treat")
    assert nnt[0][1] == "NNTB 3 (95% CI NNTB 2 to 10)" and nnt[0][1] in page


def test_study_table_has_k_rows_with_the_labels(document):
    table = _table()
    bundle = run_analysis(table, PUBLISHED_COMPARISON)
    studies = exports.result_tables(bundle, table)["studies"]
    shown = next(t for t in _tables(document) if t[0][:3] == ["Study", "Subgroup", "Data"])
    assert len(shown) - 1 == len(studies) == bundle.result.k == 3  # open-label rows left out
    expected = [label.replace("\x0b", "\ufffd") for label in studies["study"]]
    assert [row[0] for row in shown[1:]] == expected
    assert expected[0].startswith(XML_NAME) and expected[2].startswith(FIELD_SHOWN)
    # The input table: every row and column, names verbatim.
    data = next(t for t in _tables(document) if t[0][:2] == ["study", "include"])
    assert data[0] == list(table.columns) and len(data) - 1 == len(table)
    assert [row[0] for row in data[1:3]] == [XML_NAME, FORMULA]


def test_forest_and_funnel_are_embedded_as_pngs(document):
    bundle = run_analysis(_table(), PUBLISHED_COMPARISON)
    figures = exports.analysis_figures(bundle, _table())
    shapes = document.inline_shapes
    assert len(shapes) == 2
    blobs = [
        document.part.related_parts[s._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        for s in shapes
    ]
    for blob, (name, fig) in zip(blobs, figures.items(), strict=True):
        assert blob[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(blob[16:20], "big"), int.from_bytes(blob[20:24], "big")
        assert (width, height) == (
            fig.layout.width * FIGURE_SCALE,
            fig.layout.height * FIGURE_SCALE,
        )
        assert len(blob) > 20_000, name  # a drawn figure, not an empty canvas
    assert [s._inline.docPr.get("descr") for s in shapes] == ["Forest plot", "Funnel plot"]
    for shape in shapes:  # aspect ratio kept, inside the text width
        assert shape.width <= document.sections[-1].page_width


def test_methods_paragraph_and_references(document):
    bundle = run_analysis(_table(), PUBLISHED_COMPARISON)
    text, refs = methods_paragraph(
        bundle, bias_tests=False, heterogeneity_ci=False, funnel_plot=True
    )
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[paragraphs.index("Methods") + 1] == text
    assert _styled(document, "List Number") == refs
    assert any("Viechtbauer" in r and "10.18637/jss.v036.i03" in r for r in refs)
    code = "\n".join(paragraphs)
    assert "rma.mh(" in code and "metafor 3.8-1" in code
    fonts = {r.font.name for p in document.paragraphs for r in p.runs if "rma.mh(" in r.text}
    assert fonts == {"Courier New"}


def test_warnings_settings_provenance(document):
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Warning: Continuity correction" in text
    assert "Data: upload =cmd|' /C calc'!A0." in text
    assert "?scenario=abc" in text and "Scenario: scn <b>" in text
    settings = next(t for t in _tables(document) if t[0] == ["Setting", "Value"])
    assert ["Pooling", "Mantel-Haenszel"] in settings


def test_user_text_is_text_not_fields_links_or_markup(docx_bytes, document):
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as archive:
        parts = {
            n: archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml")
        }
    body = parts["word/document.xml"]
    for name, xml in parts.items():
        tags = {etree.QName(e).localname for e in etree.fromstring(xml.encode()).iter()}
        assert not tags & {"fldSimple", "instrText", "fldChar", "hyperlink"}, name
    assert "&lt;w:t&gt;evil&lt;/w:t&gt;&lt;w:fldSimple" in body
    assert "<w:br/> { PAGE }" not in body and "&lt;w:br/&gt; { PAGE }" in body
    all_text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c for t in _tables(document) for row in t for c in row
    )
    for name in (XML_NAME, FORMULA, FIELD_SHOWN):
        assert name in all_text
    assert "&lt;" not in all_text  # shown as typed, not as escapes


def test_shares_the_content_model_with_the_html_report(page):
    content = report_content(_table(), PUBLISHED_COMPARISON, **OPTIONS)
    headings = [b.text for b in content.blocks if isinstance(b, Heading) and b.level == 2]
    assert headings == [html.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", page)]


def test_without_a_renderer_the_figures_are_named_and_the_report_still_builds(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    out = docx.Document(io.BytesIO(report_docx(load_ig_pnp_canonical(), AnalysisSettings())))
    text = "\n".join(p.text for p in out.paragraphs)
    assert len(out.inline_shapes) == 0
    assert "The forest plot is not shown here: BROWSER_PATH='/nonexistent/chromium'" in text
    assert "The funnel plot is not shown here" in text and "interactive figure" in text
    assert "Forest plot (Risk ratio)" in _styled(out, "Heading 1")


def test_report_without_a_result():
    table = load_ig_pnp_canonical().assign(include=False)
    out = docx.Document(io.BytesIO(report_docx(table, PUBLISHED_COMPARISON)))
    text = "\n".join(p.text for p in out.paragraphs)
    assert "Warning: No pooled result" in text
    assert len(out.inline_shapes) == 0 and "Methods" not in _styled(out, "Heading 1")


def test_missing_python_docx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "docx", None)  # "import docx" now fails
    with pytest.raises(MissingOptionalDependency, match=r"pip install 'igmeta\[export\]'"):
        report_docx(load_ig_pnp_canonical(), PUBLISHED_COMPARISON)


@pytest.mark.slow
def test_word_processor_reads_it(docx_bytes, tmp_path):
    """The re-read checks above always run; LibreOffice, where installed, must also open the
    file: converted to PDF (pages drawn) and to plain text (the names, literal)."""
    path = tmp_path / "report.docx"
    path.write_bytes(docx_bytes)
    with zipfile.ZipFile(path) as archive:  # a well-formed package in any case
        assert archive.testzip() is None
        assert "word/document.xml" in archive.namelist()
    soffice = shutil.which("soffice")
    if soffice is None:
        return  # no word processor here: the python-docx re-read is the test
    for fmt in ("pdf", "txt:Text (encoded):UTF8"):
        subprocess.run(
            [soffice, "--headless", "--norestore", f"-env:UserInstallation={tmp_path.as_uri()}/lo",
             "--convert-to", fmt, "--outdir", str(tmp_path), str(path)],
            check=True, capture_output=True, timeout=240,
        )  # fmt: skip
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 4
    assert pdf.count(b"/Subtype /Image") + pdf.count(b"/Subtype/Image") >= 2
    text = (tmp_path / "report.txt").read_text(encoding="utf-8-sig")
    for expected in ("2.90 [1.62, 5.19]", XML_NAME, FORMULA, "{ MERGEFIELD name }", "rma.mh("):
        assert expected in text


# ----------------------------------------------------------------------------- dashboard

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture()
def deferred(monkeypatch, tmp_path):
    """The callables the page registers for download buttons, by file id."""
    monkeypatch.setenv("IGMETA_DB_PATH", str(tmp_path / "app.sqlite3"))
    original_pages = PagesManager.__init__

    def init(self, *args, **kwargs):  # leave legacy pages/ mode (see test_app_pages.py)
        original_pages(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
    registered: dict[str, object] = {}
    original_add = MediaFileManager.add_deferred

    def add_deferred(self, callable_, mimetype, *args, **kwargs):
        file_id = original_add(self, callable_, mimetype, *args, **kwargs)
        registered[file_id] = (callable_, mimetype, kwargs.get("file_name"))
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return registered


def test_scenarios_page_offers_the_word_report(deferred):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/scenarios.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    buttons = {b.label: b for b in at.get("download_button")}
    assert "HTML report (works offline)" in buttons
    button = buttons["Word report (.docx)"]
    build, mime, file_name = deferred[button.proto.deferred_file_id]
    assert file_name == "igmeta_report.docx" and mime == DOCX_MIME
    data = build()  # built only now, as on a click
    out = docx.Document(io.BytesIO(data))
    expected = summarise(
        run_analysis(at.session_state[state.TABLE], at.session_state[state.SETTINGS])
    )
    metrics = next(t for t in _tables(out) if t[0][0].startswith("Pooled"))
    assert metrics[0][1] == expected["text"]
    assert len(out.inline_shapes) == 2
