"""Browser test of the Certainty (GRADE) page: open it at 1280x720, move the size slider
of the hypothetical trial with the keyboard and see the pooled result with the new trial
change. Screenshot: artifacts/screenshots/grade_1280x720.png (look at it)."""

from __future__ import annotations

import pytest
from conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser

EXCEPTION = "[data-testid='stException']"


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def test_grade_page_slider_moves_the_result(page, server_url):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server_url}/grade")
    page.get_by_role("heading", name="Certainty of evidence (GRADE)").wait_for()
    wait_for_app(page)
    page.locator("[data-testid='stMetric']").filter(has_text="With the new trial").wait_for()
    assert page.locator(EXCEPTION).count() == 0
    assert _metric(page, "Certainty of evidence") == "\u2295\u2295\u25ef\u25ef Low"
    assert _metric(page, "Pooled now") == "2.90 [1.62, 5.19]"
    before = _metric(page, "With the new trial")

    slider = page.locator("[data-testid='stSlider']").filter(has_text="Participants per arm")
    thumb = slider.get_by_role("slider")
    shown = slider.locator("[data-testid='stSliderThumbValue']")
    assert shown.inner_text() == "100"
    thumb.focus()
    for _ in range(20):
        thumb.press("ArrowRight")
    wait_for_app(page)
    page.wait_for_function(
        "(old) => Array.from(document.querySelectorAll('[data-testid=\"stMetric\"]'))"
        ".some(m => m.innerText.includes('With the new trial') && !m.innerText.includes(old))",
        arg=before,
    )
    wait_for_app(page)
    # Each key press is one step of 5 (a press during a rerun may be absorbed).
    assert 150 <= int(shown.inner_text()) <= 200
    after = _metric(page, "With the new trial")
    assert after != before
    assert page.locator(EXCEPTION).count() == 0
    page.get_by_text("Cumulative Z by participants").first.wait_for()
    cut = page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid="stMetricValue"]'))
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"""
    )
    assert cut == [], f"metric values cut at 1280 px: {cut}"
    screenshot(page, "grade_1280x720")
