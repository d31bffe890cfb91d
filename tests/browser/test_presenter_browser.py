"""Presenter mode in a real browser, at projector sizes, light and dark.

At 1024x768, 1280x720, 1920x1080 and 3840x2160, in both themes, on the first and a later
step: every headline number reads exactly as the engine computes it for that step (no cut,
no ellipsis, nothing overflowing its box), the forest plot's column headers do not
overlap, type grows with the screen, and the dark theme covers the whole window.
Screenshots: ``artifacts/screenshots/presenter_<theme>_<w>x<h>_step<n>.png`` (look at them).
The keyboard test steps with ArrowRight/PageDown/space and back with ArrowLeft/PageUp.
"""

from __future__ import annotations

import re

import pytest
from conftest import screenshot, wait_for_app

from igmeta.app.evidence.clinical import nnt_from_bundle
from igmeta.app.outputs.presenter import DEFAULT_STEPS, build_steps, headline_items
from igmeta.app.pipeline.analysis import run_analysis
from igmeta.app.store.records import BUILTIN_PUBLISHED, builtin_scenario
from igmeta.app.store.scenarios import applicable_variations
from ui import state

pytestmark = pytest.mark.browser

SIZES = [(1024, 768), (1280, 720), (1920, 1080), (3840, 2160)]
HEADLINE = f".st-key-{state.journal_key('present_headline')}"
INDICATOR = f".st-key-{state.journal_key('present_indicator')}"
FOREST = f"[class*='st-key-{state.journal_key('present_band_')}'][class*='_forest']"
FOREST_HEADERS = {"Study", "Events / total", "Estimate [95% CI]", "Weight"}


def _talk():
    """The default talk: the published analysis, then the default variations."""
    start = builtin_scenario(BUILTIN_PUBLISHED)
    names = applicable_variations(start.settings, start.table)
    chosen = [f"var:{n}" for n in DEFAULT_STEPS if n in names]
    return build_steps(start.name, start.table, start.settings, chosen)


def _expected_headline(step: int):
    talk = _talk()
    bundle = run_analysis(talk[step].table, talk[step].settings)
    return headline_items(bundle, nnt_from_bundle(bundle, None, event_is_good=True)), len(talk)


def _indicator(page) -> str:
    return " ".join(page.locator(INDICATOR).inner_text().split())


def _wait_for_step(page, number: int, total: int) -> None:
    page.locator(INDICATOR).get_by_text(f"Step {number} of {total}:").wait_for(timeout=90_000)
    wait_for_app(page)


def _wait_for_page(page) -> None:
    """The whole page has been drawn: headline, a visible forest plot, the last expander."""
    page.locator(f"{HEADLINE} .igp-card").first.wait_for(timeout=90_000)
    page.locator(f"{FOREST} .js-plotly-plot .main-svg >> visible=true").first.wait_for(
        timeout=90_000
    )
    page.get_by_text("Methods paragraph (copy)").wait_for(timeout=90_000)
    wait_for_app(page)
    # The run is over when no element is stale (faded) any more.
    page.wait_for_function(
        '() => !document.querySelector(\'[data-testid="stMain"] [data-stale="true"]\')',
        timeout=90_000,
    )


def _open_presenter(browser, server_url, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{server_url}/present")
    wait_for_app(page)
    _wait_for_page(page)
    return context, page


def _check_headline(page, step: int) -> None:
    expected, _ = _expected_headline(step)
    cards = page.locator(f"{HEADLINE} .igp-card")
    assert cards.count() == len(expected)
    for item in expected:
        card = page.locator(f'{HEADLINE} [data-headline="{item.key}"]')
        label = " ".join(card.locator(".igp-label").inner_text().split())
        value = " ".join(card.locator(".igp-value").inner_text().split())
        assert (label, value) == (item.label, item.text)
    text = page.locator(HEADLINE).inner_text()
    assert "\u2026" not in text and "..." not in text
    overflowing = page.locator(HEADLINE).evaluate(
        """region => {
            const box = region.getBoundingClientRect();
            const inside = (r, b) => r.left >= b.left - 1 && r.right <= b.right + 1
                && r.top >= b.top - 1 && r.bottom <= b.bottom + 1;
            const bad = [];
            for (const e of region.querySelectorAll('*')) {
                const r = e.getBoundingClientRect();
                const card = e.closest('.igp-card');
                if (e.scrollWidth > e.clientWidth + 1) bad.push(['scrollWidth', e.textContent]);
                if (!inside(r, box)) bad.push(['outside the headline', e.textContent]);
                if (card && card !== e && !inside(r, card.getBoundingClientRect()))
                    bad.push(['outside its card', e.textContent, r.top, r.bottom,
                              card.getBoundingClientRect().bottom]);
            }
            return bad;
        }"""
    )
    assert overflowing == []


def _check_forest_headers(page) -> None:
    forests = page.locator(f"{FOREST} .js-plotly-plot >> visible=true")
    assert forests.count() == 1  # exactly one variant for this width
    boxes = forests.first.evaluate(
        """(plot, headers) => {
            const figure = plot.getBoundingClientRect();
            return Array.from(plot.querySelectorAll('.annotation-text'))
                .filter(e => headers.includes(e.textContent))
                .map(e => { const r = e.getBoundingClientRect();
                    return [e.textContent, r.left, r.right, figure.left, figure.right]; });
        }""",
        sorted(FOREST_HEADERS),
    )
    assert [b[0] for b in boxes][:1] == ["Study"]
    boxes.sort(key=lambda b: b[1])
    for name, left, right, fig_left, fig_right in boxes:
        assert fig_left - 1 <= left and right <= fig_right + 1, name
    for first, second in zip(boxes, boxes[1:], strict=False):
        assert first[2] <= second[1], (first, second)  # no header overlaps the next


def _colour(page, selector: str, prop: str = "backgroundColor") -> str:
    return page.locator(selector).first.evaluate(f"e => getComputedStyle(e).{prop}")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_presenter_headline_whole_at_every_size(browser, server_url, width, height, theme):
    context, page = _open_presenter(browser, server_url, width, height)
    try:
        if theme == "dark":
            page.get_by_text("Dark (high contrast)").click()
            page.wait_for_function(
                "() => getComputedStyle(document.querySelector('[data-testid=\"stSidebar\"]'))"
                ".backgroundColor === 'rgb(20, 20, 20)'",
                timeout=90_000,
            )
            wait_for_app(page)
            _wait_for_page(page)
            assert _colour(page, "[data-testid='stMain']") == "rgb(11, 11, 11)"
            assert _colour(page, "[data-testid='stHeader']") == "rgb(11, 11, 11)"
            assert _colour(page, "[data-testid='stSidebarNavLink'] span", "color") == (
                "rgb(245, 245, 245)"
            )
            assert _colour(page, f"{HEADLINE} .igp-value", "color") == "rgb(245, 245, 245)"
            # Every figure is redrawn dark (plotly draws after the script has run).
            page.wait_for_function(
                """() => {
                    const svgs = Array.from(document.querySelectorAll('.js-plotly-plot'))
                        .map(p => p.querySelector('.main-svg')).filter(Boolean);
                    return svgs.length > 0
                        && svgs.every(s => s.style.background.includes('11, 11, 11'));
                }""",
                timeout=90_000,
            )
        else:
            assert _colour(page, "[data-testid='stMain']") == "rgb(255, 255, 255)"
        _, total = _expected_headline(0)
        for step in (0, 1):
            if step:
                page.get_by_role("button", name="Next \u25b6").click()
                _wait_for_step(page, step + 1, total)
                _wait_for_page(page)
                page.get_by_text("What changed since the previous step").wait_for()
            assert _indicator(page).startswith(f"Step {step + 1} of {total}:")
            _check_headline(page, step)
            _check_forest_headers(page)
            # Type grows with the screen: the headline numbers take about 2.7% of the
            # column's width (at least 24 px, at most 104 px).
            column = page.locator("[data-testid='stMainBlockContainer']").evaluate(
                "e => e.clientWidth"
            )
            size = float(re.sub("px", "", _colour(page, f"{HEADLINE} .igp-value", "fontSize")))
            assert size >= min(max(24.0, 0.02 * column), 100.0), (size, column)
            screenshot(page, f"presenter_{theme}_{width}x{height}_step{step + 1}")
    finally:
        context.close()


def test_keyboard_and_clicker_keys_step_through(browser, server_url):
    context, page = _open_presenter(browser, server_url, 1280, 720)
    try:
        _, total = _expected_headline(0)
        page.locator("h1").first.click()  # focus on the page, not on a widget
        for key, number in (("ArrowRight", 2), ("PageDown", 3), (" ", 4)):
            page.keyboard.press("Space" if key == " " else key)
            _wait_for_step(page, number, total)
        for key, number in (("ArrowLeft", 3), ("PageUp", 2)):
            page.keyboard.press(key)
            _wait_for_step(page, number, total)
        _check_headline(page, 1)
        # In a text field the keys keep their meaning: no step.
        page.get_by_text("Set up the talk").click()
        field = page.get_by_label("Control-group risk for the NNT (%)", exact=True)
        field.click()
        page.keyboard.type("12")
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("Space")
        wait_for_app(page)
        assert _indicator(page).startswith(f"Step 2 of {total}:")
        # After a visit to another page the keys work again (the new frame's listener).
        page.keyboard.press("Tab")  # leave the field: its value is kept, a rerun follows
        wait_for_app(page)
        _wait_for_page(page)
        page.get_by_role("link", name="Analysis (forest)").click()
        page.get_by_role("heading", name="Meta-analysis").wait_for(timeout=90_000)
        wait_for_app(page)
        page.get_by_role("link", name="Presenter mode").click()
        _wait_for_page(page)
        assert _indicator(page).startswith(f"Step 2 of {total}:")
        page.locator("h1").first.click()
        page.keyboard.press("PageDown")
        _wait_for_step(page, 3, total)
    finally:
        context.close()
