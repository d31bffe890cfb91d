"""Browser smoke tests: every page renders without an exception; screenshots of each.

Run against a real Streamlit server (``conftest.server_url``) with Debian chromium. The
screenshots land in ``artifacts/screenshots/page_<name>.png``: look at them.
"""

from __future__ import annotations

import pytest
from conftest import cut_metric_values, screenshot, use_metafor_defaults, wait_for_app

pytestmark = pytest.mark.browser

PAGES = (
    "analysis",
    "data",
    "bias",
    "sensitivity",
    "methods",
    "conventions",
    "scenarios",
    "metareg",
    "risk-of-bias",
    "grade",
    "present",
)
#: Projector and laptop sizes every page is checked and photographed at.
SIZES = ((1280, 720), (1920, 1080))
#: Pages that must show at least one figure once loaded.
PLOTTED = {"analysis": 1, "bias": 1, "sensitivity": 1, "present": 1}
EXCEPTION = "[data-testid='stException']"
SKELETON = "[data-testid='stSkeleton']"
CHART = "[data-testid='stPlotlyChart'] .main-svg"


#: URL paths of the pages; the default page (Analysis) is served at the root.
PATHS = {"analysis": ""}


def _open(page, server_url: str, name: str) -> None:
    page.goto(f"{server_url}/{PATHS.get(name, name)}")
    # The first request of a server process may run the page in Streamlit's legacy
    # pages/ mode, which reruns through app.py (ui.bootstrap): wait for the real page.
    page.wait_for_selector("h1", state="visible")
    wait_for_app(page)
    _settled(page)
    if name in PLOTTED:
        # Any drawn chart (the presenter draws one per screen size and hides the others).
        page.wait_for_function(
            "(sel) => Array.from(document.querySelectorAll(sel))"
            ".some(e => e.getBoundingClientRect().width > 0)",
            arg=CHART,
        )
        page.wait_for_timeout(500)


def _settled(page) -> None:
    """Wait until no element is a loading placeholder (lazily loaded widgets)."""
    page.wait_for_function(f"() => document.querySelectorAll({SKELETON!r}).length === 0")
    page.wait_for_timeout(300)


def _no_exception(page) -> None:
    errors = page.locator(EXCEPTION)
    assert errors.count() == 0, errors.first.inner_text()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("name", PAGES)
def test_page_renders(page, server_url, name, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    _open(page, server_url, name)
    screenshot(page, f"page_{name}_{size[0]}x{size[1]}")
    _no_exception(page)
    assert page.locator("h1").count() >= 1
    assert page.get_by_text("Page not found").count() == 0
    assert cut_metric_values(page) == []


def test_analysis_opens_on_the_paper(page, server_url):
    """A new user sees the published analysis and the paper's numbers beside the app's."""
    page.set_viewport_size({"width": 1280, "height": 720})
    _open(page, server_url, "analysis")
    strip = page.locator(".st-key-published_strip")
    strip.wait_for()
    text = strip.inner_text()
    assert "Paper: 2.9 (1.6\u20135.2), p = 0.0003" in text
    assert "2.90 (1.62\u20135.19), p = 0.00035" in text
    assert text.count("agrees at the paper's precision") == 2
    assert page.get_by_text("2 of 5 studies are not in this analysis").count() == 1


def test_bias_page_toggles(page, server_url):
    _open(page, server_url, "bias")
    use_metafor_defaults(page)  # trim-and-fill needs an inverse-variance model
    _settled(page)
    funnel = page.locator("[data-testid='stPlotlyChart']").first
    assert funnel.locator("text=Imputed (trim-and-fill)").count() >= 1
    page.get_by_text("Show trim-and-fill studies").click()
    wait_for_app(page)
    page.wait_for_timeout(500)
    _no_exception(page)
    assert funnel.locator("text=Imputed (trim-and-fill)").count() == 0
    screenshot(page, "page_bias_no_trimfill")


def _tab(page, label: str) -> None:
    """Open a tab; only the open tab's panel is computed, so this reruns the page."""
    page.get_by_role("tab", name=label).click()
    page.wait_for_timeout(300)
    wait_for_app(page)


def test_sensitivity_tabs_and_buttons(page, server_url):
    _open(page, server_url, "sensitivity")
    use_metafor_defaults(page)  # influence, GOSH and permutations need inverse variance
    _settled(page)
    for label, name in (("Cumulative", "cumulative"), ("Influence & Baujat", "influence")):
        _tab(page, label)
        _no_exception(page)
        screenshot(page, f"page_sensitivity_{name}")
    _tab(page, "GOSH plot")
    page.get_by_role("button", name="Compute GOSH plot").click()
    page.get_by_text("GOSH analysis finished").wait_for()
    wait_for_app(page)
    page.wait_for_timeout(800)
    _no_exception(page)
    screenshot(page, "page_sensitivity_gosh")
    _tab(page, "Permutation test")
    page.get_by_role("button", name="Run permutation test").click()
    page.get_by_text("Permutation test finished").wait_for()
    page.get_by_text("Permutation p-value").wait_for()
    wait_for_app(page)
    _no_exception(page)
    screenshot(page, "page_sensitivity_permutation")
    _tab(page, "GOSH plot")
    assert page.get_by_text("GOSH analysis finished").count() >= 1
