"""A long GOSH analysis in a real browser: progress bar, Cancel, and a clean stop.

Twenty studies uploaded as a generic (yi, vi) table give 1,048,575 REML fits: seconds of
work, long enough to see the progress bar and press Cancel. After Cancel the panel says
so, no GOSH plot appears, and the next run starts afresh (nothing half-done was cached).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import screenshot, wait_for_app
from playwright.sync_api import expect
from test_data_browser import SLOW, go_to, open_app

pytestmark = pytest.mark.browser


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
    page.get_by_text("all 1,048,575 subsets of the 20 studies").first.wait_for()
    page.get_by_role("button", name="Compute GOSH plot").click()
    cancel = page.get_by_role("button", name="Cancel")
    expect(cancel).to_be_visible(timeout=SLOW)
    bar = page.locator("[data-testid='stProgress']")
    expect(bar).to_be_visible()
    page.wait_for_timeout(600)
    screenshot(page, "page_sensitivity_gosh_running")
    cancel.click()
    page.get_by_text("The GOSH analysis was cancelled").wait_for(timeout=SLOW)
    wait_for_app(page)
    expect(cancel).to_have_count(0)
    expect(bar).to_have_count(0)
    assert page.get_by_text("GOSH analysis finished").count() == 0
    screenshot(page, "page_sensitivity_gosh_cancelled")
