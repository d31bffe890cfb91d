"""Risk of bias in a real browser: a CSV with RoB 2 columns ("D1" .. "Overall") is uploaded,
the forest shows the risk-of-bias block beside the studies and the Risk of bias page the
traffic light; study names and bad cells stay text.

Screenshots (1280 x 720 viewport): artifacts/screenshots/rob_forest.png, rob_traffic_light.png.
"""

from __future__ import annotations

import pytest
from conftest import chart_texts, cut_metric_values, screenshot, wait_for_app

pytestmark = pytest.mark.browser

SLOW = 120_000
CHART = "[data-testid='stPlotlyChart']"

ROB_CSV = (
    "Study,Year,tpos,tneg,cpos,cneg,D1,D2,D3,D4,D5,Overall\n"
    "Aronson 1948,1948,4,119,11,128,Low,Low,Low,Low,Low,Low\n"
    "Ferguson 1949,1949,6,300,29,274,L,some,low,+,Low,Some concerns\n"
    "<b>Bold</b> 1960,1960,3,228,11,209,High,maybe,Low,Low,Low,High\n"
    "Hart 1977,1977,62,13536,248,12619,Low,Low,Low,High,Low,High\n"
)


def _svg_texts(page, index: int = 0) -> str:
    """The chart's text, including the forest's text columns drawn as images."""
    return chart_texts(page.locator(CHART).nth(index))


def test_uploaded_rob_columns_show_in_the_forest_and_the_traffic_light(page, server_url, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.set_default_timeout(SLOW)
    page.goto(server_url)
    wait_for_app(page)
    page.get_by_role("link", name="Data").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Study data").wait_for()
    path = tmp_path / "rob.csv"
    path.write_bytes(ROB_CSV.encode())
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    page.get_by_role("button", name="Use this table").click(timeout=SLOW)
    page.get_by_text("Loaded 'rob.csv'").first.wait_for(timeout=SLOW)
    wait_for_app(page)

    page.get_by_role("link", name="Analysis").first.click()
    wait_for_app(page)
    page.locator(CHART).first.wait_for(timeout=SLOW)
    wait_for_app(page)
    texts = _svg_texts(page)
    for part in ("D1", "D5", "Overall", "Risk of bias (RoB 2)", "D3 Bias due to missing outcome"):
        assert part in texts, part
    # Symbols drawn: 4 studies x 6 columns, one not assessed (no symbol) -> 23 symbols.
    symbols = (
        page.locator(CHART)
        .first.locator("g.textpoint text")
        .evaluate_all(
            "(ts) => ts.map(t => t.textContent).filter(t => ['+','!','\u00d7'].includes(t))"
        )
    )
    assert len(symbols) == 23
    assert symbols.count("\u00d7") == 4
    # The study named with markup is shown as text, never as an HTML element.
    assert "<b>Bold</b> 1960" in texts
    assert page.locator(f"{CHART} svg b").count() == 0
    # The headline's longest values ("< 0.0001") are whole in a 1280 px window.
    cut = cut_metric_values(page)
    assert cut == [], f"metric values cut at 1280 px: {cut}"
    shot = screenshot(page, "rob_forest")
    assert shot.exists()

    page.get_by_role("link", name="Risk of bias").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Risk of bias", exact=True).wait_for()
    page.locator(CHART).first.wait_for(timeout=SLOW)
    wait_for_app(page)
    light = _svg_texts(page, 0)
    assert "Risk of bias (RoB 2) by study" in light and "<b>Bold</b> 1960" in light
    assert "weighted by study weight" in _svg_texts(page, 1)
    assert page.get_by_text("1 RoB 2 cell(s) hold a value that is not a judgement").count() == 1
    shot = screenshot(page, "rob_traffic_light")
    assert shot.exists()
