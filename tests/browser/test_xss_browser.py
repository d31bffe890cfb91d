"""Hostile text stays text, in Chromium: pages, plots (labels and hover), downloads, report.

The hostile corpus table (``tests/corpus/hostile_names.csv``: HTML, ``<script>``,
``javascript:`` links, ``<img onerror>``, Markdown links and images, Streamlit directives,
plotly markup and templates, TeX, spreadsheet formulas, quotes that try to break out of
generated code) is uploaded through the Data page under a hostile *file name*, its hostile
column is chosen as the subgroup column, and every page of the app is opened. On every
page: no JavaScript dialog ever opens, no element from the data exists in the DOM (no
``img[src=x]``, no ``on*`` attribute, no ``javascript:`` URL, no ``<b>``/``<i>`` made from
a name, no link made from Markdown), and no request goes to the Markdown image's address.
Every download button on every page is clicked: CSV and Excel files hold no formulas,
HTML files (the report) are opened in the browser and checked the same way.

The server's XSRF protection is checked too: an upload request without the token is
refused.

Screenshots: ``artifacts/screenshots/xss_<page>.png`` -- look at them.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from conftest import chart_texts, screenshot, wait_for_app
from lxml import etree
from test_nothing_lost_browser import choose, go_to, open_app, upload

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
sys.path.insert(0, str(CORPUS))
from make_corpus import HOSTILE_COLUMN, HOSTILE_NAMES  # noqa: E402

HOSTILE_FILE = "<img src=x onerror=alert(4)> [f](javascript:alert(5)).csv"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
EXCEPTION = "[data-testid='stException']"

#: What hostile text could have become that *runs*: event-handler attributes,
#: javascript: URLs, injected images/SVG/scripts (the XSS guarantees).
SCRIPT_CHECK = r"""
() => {
  const bad = [];
  const urlAttrs = ['href', 'src', 'xlink:href', 'action', 'formaction', 'data', 'srcdoc'];
  for (const el of document.querySelectorAll('*')) {
    for (const a of Array.from(el.attributes)) {
      const name = a.name.toLowerCase();
      if (name.startsWith('on')) bad.push(`${el.tagName} ${name}=${a.value}`);
      if (urlAttrs.includes(name) && /^\s*(javascript|vbscript|data:text\/html)/i.test(a.value))
        bad.push(`${el.tagName} ${name}=${a.value}`);
    }
  }
  if (document.querySelector('img[src="x"], svg[onload]')) bad.push('injected img/svg');
  // A script made from a name holds just that name's code (the app's and the report's
  // own scripts may carry the names inside escaped JSON strings, which is fine).
  for (const s of document.querySelectorAll('script'))
    if (/^\s*alert\(/.test(s.textContent) || s.getAttribute('src') === 'x')
      bad.push('injected script');
  for (const f of document.querySelectorAll('iframe'))
    if ((f.getAttribute('srcdoc') || '').includes('alert(')) bad.push('iframe srcdoc');
  return bad;
}
"""
#: What hostile text could have become as *markup*: bold/italic from <b>/<i>, links and
#: images from Markdown (harmless to run, but content spoofing and outside requests).
MARKUP_CHECK = r"""
() => {
  const bad = [];
  for (const el of document.querySelectorAll('b, i, strong, em, tspan'))
    if (el.children.length === 0 && /^(Bold|RCT)$/.test(el.textContent.trim()))
      bad.push(`<${el.tagName.toLowerCase()}> from a name`);
  for (const a of document.querySelectorAll('a'))
    if (/^(click|click me|grp|open|f|pixel)$/.test(a.textContent.trim()))
      bad.push(`link "${a.textContent}" -> ${a.getAttribute('href')}`);
  for (const img of document.querySelectorAll('img'))
    if ((img.getAttribute('src') || '').includes('pixel.png')) bad.push('image from Markdown');
  return bad;
}
"""


#: Element names inside the chart's SVG images (the forest's text columns): text only.
_IMAGE_TAGS = r"""
(chart) => {
  const tags = new Set();
  for (const image of chart.querySelectorAll('svg.main-svg image')) {
    const href = image.getAttribute('href') || '';
    if (!href.startsWith('data:image/svg+xml')) continue;
    const source = decodeURIComponent(href.slice(href.indexOf(',') + 1));
    const doc = new DOMParser().parseFromString(source, 'image/svg+xml');
    for (const el of doc.querySelectorAll('*')) tags.add(el.tagName);
  }
  return Array.from(tags).sort();
}
"""


def _watch(page) -> tuple[list[str], list[str]]:
    """Record every dialog (dismissed) and every request to the Markdown image's host."""
    dialogs: list[str] = []
    requests: list[str] = []

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: requests.append(r.url) if "pixel.png" in r.url else None)
    return dialogs, requests


def _scan(page, where: str, found: dict[str, list[str]]) -> None:
    """Run both DOM checks and the exception check; record what they find."""
    found["script"] += [f"{where}: {b}" for b in page.evaluate(SCRIPT_CHECK)]
    found["markup"] += [f"{where}: {b}" for b in page.evaluate(MARKUP_CHECK)]
    errors = page.locator(EXCEPTION)
    if errors.count():
        found["exception"].append(f"{where}: {errors.first.inner_text()}")


def _nav_links(page) -> list[str]:
    nav = page.locator("[data-testid='stSidebarNav'] a")
    nav.first.wait_for()
    return [text.split("\n")[-1].strip() for text in nav.all_inner_texts()]


def _open_page(page, label: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a", has_text=label).first.click()
    wait_for_app(page)
    page.locator("h1").first.wait_for()
    wait_for_app(page)
    page.wait_for_timeout(800)  # plotly draws after the script run


def _check_csv(data: bytes, name: str) -> None:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_PREFIXES):
                assert PLAIN_NUMBER.fullmatch(cell), (name, cell)


def _check_xlsx(data: bytes, name: str) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (name, sheet.title, cell.coordinate)
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES):
                    assert PLAIN_NUMBER.fullmatch(cell.value), (name, cell.value)


def _check_docx(data: bytes, name: str) -> None:
    """A Word file: user text only in text runs (no field, hyperlink or instruction)."""
    assert docx.Document(io.BytesIO(data)).paragraphs, name  # a file Word can open
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for part in [n for n in archive.namelist() if n.endswith(".xml")]:
            root = etree.fromstring(archive.read(part))
            tags = {etree.QName(e).localname for e in root.iter()}
            assert not tags & {"fldSimple", "instrText", "fldChar", "hyperlink"}, (name, part)


def _check_html(browser, data: bytes, name: str, found: dict[str, list[str]]) -> None:
    """Open a downloaded HTML file (the report) in Chromium and check it like a page."""
    context = browser.new_context()
    try:
        report = context.new_page()
        dialogs, requests = _watch(report)
        report.set_content(data.decode("utf-8"), wait_until="load")
        report.wait_for_timeout(1500)
        found["dialogs"] += [f"{name}: {d}" for d in dialogs]
        found["requests"] += [f"{name}: {r}" for r in requests]
        _scan(report, name, found)
        text = report.evaluate("() => document.body.textContent")
        assert "<img src=x onerror=alert(1)>" in text, name  # shown literally
    finally:
        context.close()


def _check_downloads(browser, page, found: dict[str, list[str]]) -> None:
    """Click every download button of the page and check what it gives."""
    buttons = page.locator("[data-testid='stDownloadButton'] button")
    for index in range(buttons.count()):
        button = buttons.nth(index)
        if not button.is_visible() or not button.is_enabled():
            continue
        with page.expect_download(timeout=120_000) as info:
            button.click()
        download = info.value
        name = download.suggested_filename
        data = Path(download.path()).read_bytes()
        suffix = Path(name).suffix.lower()
        if suffix in (".csv", ".tsv"):
            _check_csv(data, name)
        elif suffix == ".xlsx":
            _check_xlsx(data, name)
        elif suffix == ".docx":
            _check_docx(data, name)
        elif suffix in (".html", ".htm"):
            _check_html(browser, data, name, found)
        found["downloads"].append(name)
        wait_for_app(page)


def _hover_every_point(page, chart, found: dict[str, list[str]]) -> str:
    """Hover the study markers; return the text of the hover labels."""
    points = chart.locator(".scatterlayer .trace .points path")
    shown = []
    for index in range(min(points.count(), 16)):
        box = points.nth(index).bounding_box()
        if not box:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(150)
        hover = chart.locator(".hoverlayer")
        if hover.count():
            html = hover.inner_html()
            for tag in ("<a", "<img", "<b>", "<i>", "<script", "<svg"):
                if tag in html:
                    found["markup"].append(f"hover label: {tag}")
            shown.append(hover.text_content())
        _scan(page, "forest hover", found)
    return " ".join(shown)


@pytest.fixture(scope="module")
def tour(browser, server_url, tmp_path_factory):
    """Upload the hostile table, pick its hostile subgroup column, open every page,
    hover the forest plot and click every download button; return what was found."""
    found: dict[str, list[str]] = {
        key: []
        for key in ("script", "markup", "exception", "dialogs", "requests", "downloads", "pages")
    }
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    dialogs, requests = _watch(page)
    try:
        open_app(page, server_url)
        path = tmp_path_factory.mktemp("hostile") / HOSTILE_FILE
        shutil.copyfile(CORPUS / "hostile_names.csv", path)
        upload(page, path)
        _scan(page, "Data page after the upload", found)

        go_to(page, "Analysis (forest)", "Meta-analysis")
        choose(page, "Subgroup column", HOSTILE_COLUMN)
        page.wait_for_timeout(800)
        chart = page.locator("[data-testid='stPlotlyChart']").first
        chart.locator(".main-svg").first.wait_for()
        found["forest_text"] = [chart_texts(chart)]
        found["image_tags"] = chart.evaluate(_IMAGE_TAGS)
        found["hover_text"] = [_hover_every_point(page, chart, found)]
        screenshot(page, "xss_analysis")

        for label in _nav_links(page):
            _open_page(page, label)
            where = f"page '{label}'"
            found["pages"].append(label)
            _scan(page, where, found)
            slug = re.sub(r"[^a-z]+", "_", label.lower()).strip("_")
            screenshot(page, f"xss_{slug}")
            _check_downloads(browser, page, found)
            _scan(page, where + " after downloads", found)
        found["dialogs"] += dialogs
        found["requests"] += requests
    finally:
        context.close()
    return found


def test_no_hostile_text_runs_anywhere(tour):
    """The XSS guarantee: no dialog, no handler attribute, no javascript: URL, no script."""
    assert len(tour["pages"]) >= 5, tour["pages"]
    assert tour["dialogs"] == []
    assert tour["script"] == []
    assert tour["exception"] == []


def test_plots_show_hostile_names_literally(tour):
    labels = tour["forest_text"][0]
    for name in (
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "=cmd|' /C calc'!A1",
        "%{y} $x$",
    ):
        assert name in labels, name
    # The forest's text columns are SVG images holding text elements and nothing else.
    assert tour["image_tags"] == ["g", "svg", "text"], tour["image_tags"]
    hover = tour["hover_text"][0]
    assert any(name in hover for name in HOSTILE_NAMES), hover[:500]


def test_downloads_are_formula_free(tour):
    print("downloads checked:", tour["downloads"])
    suffixes = {Path(name).suffix.lower() for name in tour["downloads"]}
    assert {".csv", ".xlsx", ".docx"} <= suffixes, tour["downloads"]


def test_no_hostile_text_becomes_markup(tour):
    """No link, image or formatting made from user text, no request it makes the browser send."""
    assert tour["markup"] == [], sorted(set(tour["markup"]))
    assert tour["requests"] == [], tour["requests"]


# --------------------------------------------------------------------------- XSRF


def _put(url: str, headers: dict[str, str]) -> int:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\nstudy,yi,vi\r\na,1,1\r\n--b--\r\n"
    )
    request = urllib.request.Request(
        url,
        data=body,
        method="PUT",
        headers={"Content-Type": "multipart/form-data; boundary=b", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_upload_without_xsrf_token_is_refused(server_url):
    url = f"{server_url}/_stcore/upload_file/some-session/some-file"
    assert _put(url, {}) == 403
    assert _put(url, {"X-Xsrftoken": "2|00|00|1", "Cookie": "_streamlit_xsrf=2|11|11|1"}) == 403
    # With the server's own token (cookie and header agree) the XSRF check passes, and the
    # request fails only later, on the made-up session id: the token is what was missing.
    with urllib.request.urlopen(f"{server_url}/_stcore/health", timeout=10) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
    token = next(
        c.split(";")[0].split("=", 1)[1] for c in cookies if c.startswith("_streamlit_xsrf=")
    )
    assert _put(url, {"X-Xsrftoken": token, "Cookie": f"_streamlit_xsrf={token}"}) == 400
