"""RevMan 5 import in a real browser: upload a .rm5 file, pick an outcome, see its forest.

Screenshots: artifacts/screenshots/revman_outcome.png and revman_forest.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import chart_texts, screenshot, wait_for_app

pytestmark = pytest.mark.browser

SLOW = 30_000
CHART = "[data-testid='stPlotlyChart']"
REVMAN = Path(__file__).resolve().parents[1] / "data" / "revman" / "ig_review.rm5"
OUTCOME_1_3 = (
    "1.3 Immunoglobulin versus placebo: Change in pain score (NRS) (continuous, 3 studies)"
)


def test_upload_rm5_choose_outcome_and_see_forest(page, server_url):
    page.set_default_timeout(SLOW)
    page.goto(server_url)
    wait_for_app(page)
    page.get_by_role("heading", name="Meta-analysis").wait_for()
    page.get_by_role("link", name="Data").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Study data").wait_for()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(REVMAN))
    wait_for_app(page)
    box = page.get_by_role("combobox", name="Comparison and outcome")
    box.wait_for()
    box.click()
    if box.get_attribute("aria-expanded") != "true":
        box.press("ArrowDown")
    page.get_by_role("option", name=OUTCOME_1_3, exact=True).click()
    wait_for_app(page)
    page.get_by_text("3 studies", exact=True).wait_for()
    page.get_by_text("Preview").first.wait_for()
    screenshot(page, "revman_outcome")
    page.get_by_role("button", name="Use this table").click()
    page.get_by_text("Loaded 'ig_review.rm5: 1.3 Change in pain score (NRS)'").first.wait_for()
    wait_for_app(page)
    page.get_by_role("link", name="Analysis").first.click()
    wait_for_app(page)
    page.get_by_role("heading", name="Meta-analysis").wait_for()
    chart = page.locator(CHART).first
    chart.wait_for()
    wait_for_app(page)
    texts = chart_texts(chart)
    # study labels as "Author Year", the year not repeated when the name has it
    for label in ("Alder 2001", "Brook 2004", "Costa 2015"):
        assert label in texts, label
    assert "Alder 2001 2001" not in texts
    chart.scroll_into_view_if_needed()
    screenshot(page, "revman_forest")
