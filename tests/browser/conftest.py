"""Fixtures for browser tests: a real Streamlit server and headless Debian Chromium.

The server runs ``app.py`` on a free loopback port for the whole session; each test gets a
fresh browser context. Screenshots go to ``artifacts/screenshots/`` (look at them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.local_server import CHROMIUM, CHROMIUM_ARGS, ROOT, start_server, stop_server

__all__ = [
    "cut_metric_values",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "screenshot",
    "start_server",
    "stop_server",
    "use_metafor_defaults",
    "wait_for_app",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def server_url():
    proc, url = start_server()
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian chromium not found at {CHROMIUM}: run the README's test command")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


#: No script run (whole app or fragment) is going on or requested.
_IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-script-state');
    return !!app && state !== 'running' && state !== 'rerunRequested'
        && !document.querySelector('[data-testid="stStatusWidget"]');
}"""


def wait_for_app(page) -> None:
    """Wait until Streamlit has finished running the script (or a fragment of it).

    Checked twice, 300 ms apart, so that a run that the last input starts only after the
    first check (a fragment rerun shows no status widget at first) is waited for too.
    """
    page.wait_for_selector("[data-testid='stApp']")
    for _ in range(2):
        page.wait_for_function(_IDLE, timeout=90_000)
        page.wait_for_timeout(300)


def use_metafor_defaults(page) -> None:
    """Switch from the published analysis (what a new session opens on) to metafor's
    defaults (random effects, REML) with the sidebar preset, and wait for the rerun."""
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("button", name="metafor defaults").click()
    sidebar.get_by_role("combobox", name="Model", exact=True).wait_for()
    wait_for_app(page)


def screenshot(page, name: str) -> Path:
    """Save a screenshot of the whole page under artifacts/screenshots and return its path.

    Streamlit scrolls inside its main container, so the viewport is stretched to the
    content's height for the shot and restored afterwards.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size or {"width": 1440, "height": 1000}
    height = page.evaluate(
        "() => Math.max(...Array.from(document.querySelectorAll("
        '\'[data-testid="stMain"], [data-testid="stMainBlockContainer"], section.main\'))'
        ".map(e => e.scrollHeight), document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 80, 12000)})
    page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


#: JavaScript: the texts of a chart's SVG plus the texts drawn inside its SVG images (the
#: dashboard draws the forest's text columns as images, igmeta.plots.text_images), and
#: where each image text sits on the page (``x`` at its anchor, ``y`` at its middle).
_IMAGE_TEXTS = """(chart) => {
  const found = [];
  for (const image of chart.querySelectorAll('svg.main-svg image')) {
    const href = image.getAttribute('href') || image.getAttribute('xlink:href') || '';
    if (!href.startsWith('data:image/svg+xml')) continue;
    const source = decodeURIComponent(href.slice(href.indexOf(',') + 1));
    const svg = new DOMParser().parseFromString(source, 'image/svg+xml').documentElement;
    // Texts sit at per cents of the image's box (igmeta.plots.text_images).
    const box = image.getBoundingClientRect();
    const group = svg.querySelector('g').getAttribute('text-anchor');
    for (const node of svg.querySelectorAll('text')) {
      found.push({
        text: node.textContent,
        x: box.left + parseFloat(node.getAttribute('x')) / 100 * box.width,
        y: box.top + parseFloat(node.getAttribute('y')) / 100 * box.height,
        anchor: node.getAttribute('text-anchor') || group,
      });
    }
  }
  const own = Array.from(chart.querySelectorAll('svg.main-svg')).map(s => s.textContent);
  return {svg: own.join(' '), images: found};
}"""


#: Metric values whose text is wider than the room it has: the natural width of each text
#: (canvas ``measureText`` in the element's computed font) against the content width of
#: the narrowest clipping box between the text and the metric. Streamlit cuts a metric
#: value with an ellipsis inside a child element, where ``scrollWidth`` does not show it.
_CUT_METRICS = """() => {
  const context = document.createElement('canvas').getContext('2d');
  const cut = [];
  for (const metric of document.querySelectorAll('[data-testid="stMetricValue"]')) {
    const leaves = [metric, ...metric.querySelectorAll('*')]
      .filter(e => e.childElementCount === 0 && e.textContent.trim());
    for (const leaf of leaves) {
      const style = getComputedStyle(leaf);
      context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const needed = context.measureText(leaf.textContent.trim()).width;
      let room = Infinity;
      for (let node = leaf; node && node !== metric.parentElement; node = node.parentElement) {
        const s = getComputedStyle(node);
        const clips = s.overflowX !== 'visible' || s.textOverflow === 'ellipsis';
        if (clips) {
          const width = node.getBoundingClientRect().width - parseFloat(s.paddingLeft)
            - parseFloat(s.paddingRight) - parseFloat(s.borderLeftWidth)
            - parseFloat(s.borderRightWidth);
          room = Math.min(room, width);
        }
      }
      if (needed > room + 0.5)
        cut.push(`${metric.innerText} (${needed.toFixed(1)} > ${room.toFixed(1)} px)`);
    }
  }
  return cut;
}"""


def cut_metric_values(page) -> list[str]:
    """Metric values drawn cut (wider than their box), with the widths; [] when all fit."""
    return page.evaluate(_CUT_METRICS)


def chart_texts(chart) -> str:
    """All text a plotly chart shows: its SVG text and the texts drawn in its images.

    Parameters
    ----------
    chart : playwright.sync_api.Locator
        The ``stPlotlyChart`` element.
    """
    found = chart.evaluate(_IMAGE_TEXTS)
    return " ".join([found["svg"], *(item["text"] for item in found["images"])])


def image_text_position(chart, text: str) -> dict:
    """Page position of ``text`` drawn in one of the chart's images (first match).

    Returns ``{"x", "y", "anchor"}``: ``x`` is where the text starts (anchor "start") or
    ends ("end"), ``y`` its vertical middle, in viewport pixels, after scrolling the text
    into view.
    """
    for _attempt in range(3):
        found = chart.evaluate(_IMAGE_TEXTS)
        item = next((i for i in found["images"] if i["text"].strip() == text), None)
        if item is None:
            raise AssertionError(f"{text!r} is not drawn in the chart")
        height = chart.page.evaluate("() => window.innerHeight")
        if 40 <= item["y"] <= height - 40:  # mouse clicks land only inside the viewport
            return item
        # The page scrolls in the main block, not the window: scroll what holds the chart.
        chart.evaluate(
            """(chart, dy) => {
                let node = chart.parentElement;
                while (node && node.scrollHeight <= node.clientHeight) node = node.parentElement;
                (node || document.scrollingElement).scrollBy(0, dy);
            }""",
            item["y"] - height / 2,
        )
        chart.page.wait_for_timeout(200)
    raise AssertionError(f"{text!r} could not be scrolled into view")
