"""A long GOSH analysis in a real browser: progress bar, Cancel, and a clean stop.

Twenty studies uploaded as a generic (yi, vi) table give 1,048,575 REML fits: seconds of
work, long enough to see the progress bar and press Cancel. After Cancel the panel says
so and no GOSH plot appears; the next run starts afresh (nothing half-done was cached)
and ends with the plot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SCREENSHOTS, screenshot, wait_for_app
from playwright.sync_api import expect
from test_data_browser import SLOW, go_to, open_app

pytestmark = pytest.mark.browser


def screenshot_path(name: str):
    """Where a quick viewport shot goes (the full-page helper is too slow mid-run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def _twenty_studies(path) -> None:
    rng = np.random.default_rng(20)
    vi = rng.uniform(0.01, 0.2, 20)
    yi = rng.normal(0.3, np.sqrt(vi + 0.05))
    pd.DataFrame({"study": [f"Trial {i + 1}" for i in range(20)], "yi": yi, "vi": vi}).to_csv(
        path, index=False
    )


def test_gosh_progress_bar_and_cancel(page, server_url, tmp_path):
    open_app(page, server_url, "data")
    page.get_by_role("heading", name="Study data").wait_for()
    path = tmp_path / "twenty.csv"
    _twenty_studies(path)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    wait_for_app(page)
    page.get_by_role("button", name="Use this table").click()
    wait_for_app(page)
    page.get_by_text("Loaded 'twenty.csv'").wait_for()
    go_to(page, "Sensitivity", "Sensitivity analyses")
    page.get_by_role("tab", name="GOSH plot").click()
    wait_for_app(page)
    page.get_by_text("all 1,048,575 subsets of the 20 studies").first.wait_for()
    compute = page.get_by_role("button", name="Compute GOSH plot")
    cancel = page.get_by_role("button", name="Cancel")
    bar = page.locator("[data-testid='stProgress']")
    # Cancel as soon as the button shows (the run takes seconds).
    compute.click()
    expect(cancel).to_be_visible(timeout=SLOW)
    expect(bar).to_be_visible()
    cancel.click()
    page.get_by_text("The GOSH analysis was cancelled").wait_for(timeout=SLOW)
    wait_for_app(page)
    expect(cancel).to_have_count(0)
    expect(bar).to_have_count(0)
    assert page.get_by_text("GOSH analysis finished").count() == 0
    screenshot(page, "page_sensitivity_gosh_cancelled")
    # Run again to the end: the bar moves, then the plot replaces it.
    compute.click()
    expect(bar).to_be_visible(timeout=SLOW)
    page.screenshot(path=str(screenshot_path("page_sensitivity_gosh_running")))
    page.get_by_text("GOSH analysis finished").wait_for(timeout=120_000)
    wait_for_app(page)
    expect(bar).to_have_count(0)
    expect(page.locator("[data-testid='stPlotlyChart']")).to_have_count(1)
    page.wait_for_timeout(800)
    screenshot(page, "page_sensitivity_gosh_20_studies")
