"""The forest plot in a real browser: clicking a study's *name* excludes and re-includes
it, the RevMan parts (arm headers, Favours labels, footer) are drawn, renamed labels show,
and uploaded tables (dat.bcg, means, 2,000 studies) give a readable forest.

Screenshots: artifacts/screenshots/forest_*.png.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import (
    chart_texts,
    image_text_position,
    screenshot,
    use_metafor_defaults,
    wait_for_app,
)

from tests.test_schema import DAT_BCG_CSV

pytestmark = pytest.mark.browser

#: Generous waits: the machine running the tests may be very busy.
SLOW = 120_000
CHART = "[data-testid='stPlotlyChart']"

CONTINUOUS_CSV = (
    "study,m1i,sd1i,n1i,m2i,sd2i,n2i\n"
    "Adams 2001,4.2,1.8,40,5.0,1.9,38\n"
    "Baker 2005,3.9,2.1,25,4.4,2.0,26\n"
    "Clark 2012,5.1,1.6,88,5.8,1.7,90\n"
    "Davis 2015,4.8,2.2,51,5.1,2.3,49\n"
)


def _metric(page, name: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(has_text=name).first
    return metric.locator("[data-testid='stMetricValue']").inner_text()


def _wait_metric_change(page, name: str, before: str) -> str:
    page.wait_for_function(
        """([name, before]) => {
            const m = Array.from(document.querySelectorAll('[data-testid="stMetric"]'))
                .find(e => e.innerText.includes(name));
            const v = m && m.querySelector('[data-testid="stMetricValue"]');
            return v && v.innerText !== before;
        }""",
        arg=[name, before],
        timeout=SLOW,
    )
    wait_for_app(page)
    return _metric(page, name)


def _svg_texts(page) -> str:
    return chart_texts(page.locator(CHART).first)


def _open(page, server_url: str) -> None:
    page.set_default_timeout(SLOW)
    page.goto(server_url)
    wait_for_app(page)
    page.get_by_role("heading", name="Meta-analysis").wait_for()
    page.locator(CHART).first.wait_for()
    wait_for_app(page)


def _upload(page, server_url: str, tmp_path, name: str, content: bytes) -> None:
    """Upload ``content`` on the Data page, accept the mapping, return to the forest."""
    page.get_by_role("link", name="Data").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Study data").wait_for()
    path = tmp_path / name
    path.write_bytes(content)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    page.get_by_role("button", name="Use this table").click(timeout=SLOW)
    page.get_by_text(f"Loaded '{name}'").first.wait_for(timeout=SLOW)
    wait_for_app(page)
    page.get_by_role("link", name="Analysis").first.click()
    wait_for_app(page)
    page.get_by_role("heading", name="Meta-analysis").wait_for()
    page.locator(CHART).first.wait_for(timeout=SLOW)
    wait_for_app(page)


def test_clicking_a_study_name_excludes_and_includes_it(page, server_url):
    _open(page, server_url)
    published = _metric(page, "Pooled")
    assert published == "2.90 [1.62, 5.19]"  # a new session opens on the published analysis
    assert _metric(page, "Studies") == "3"
    texts = _svg_texts(page)
    for part in (
        "IG (treatment)",
        "Placebo (control)",
        "Events",
        "Total",
        "Favours IG",
        "Favours placebo",
        "Heterogeneity: Q = ",
        "Test for overall effect: Z = ",
        "Total events",
    ):
        assert part in texts, part
    assert "Events / total" not in texts
    plot = page.locator(CHART).first
    plot.scroll_into_view_if_needed()
    screenshot(page, "forest_ig_published")

    # Click the middle of the study's name (not its square): it is excluded. The name is
    # drawn in the label column's image; a transparent bar over the row takes the click.
    name = image_text_position(plot, "Geerts 2021")
    assert name["anchor"] == "start"
    page.mouse.click(name["x"] + 45, name["y"])
    excluded = _wait_metric_change(page, "Pooled", published)
    assert _metric(page, "Studies") == "2"
    assert excluded != published
    screenshot(page, "forest_ig_name_clicked")

    # Clicking the name again includes the study again.
    name = image_text_position(page.locator(CHART).first, "Geerts 2021")
    page.mouse.click(name["x"] + 25, name["y"])
    assert _wait_metric_change(page, "Pooled", excluded) == published
    assert _metric(page, "Studies") == "3"

    # Renamed labels replace the defaults; markup in them is shown as text.
    page.get_by_text("Plot labels").click()
    field = page.get_by_label("Right of the null line")
    field.fill("Favours <b>IVIG</b>")
    field.press("Enter")
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('svg.main-svg'))
            .some(s => s.textContent.includes('Favours <b>IVIG</b>'))""",
        timeout=SLOW,
    )
    assert page.locator(f"{CHART} svg b").count() == 0


def test_uploaded_tables_give_readable_forests(page, server_url, tmp_path):
    _open(page, server_url)
    use_metafor_defaults(page)  # random effects, REML (the footer shows tau\u00b2)
    _upload(page, server_url, tmp_path, "dat.bcg.csv", DAT_BCG_CSV)
    assert _metric(page, "Studies") == "13"
    texts = _svg_texts(page)
    assert "Treatment" in texts and "Control" in texts
    assert "123" in texts  # Aronson's vaccinated total, tpos + tneg
    assert "Heterogeneity: tau\u00b2 = 0.3132" in texts
    screenshot(page, "forest_bcg")

    _upload(page, server_url, tmp_path, "means.csv", CONTINUOUS_CSV.encode())
    texts = _svg_texts(page)
    assert "Mean" in texts and "SD" in texts
    assert "Events" not in texts
    screenshot(page, "forest_continuous")

    rng = np.random.default_rng(11)
    k = 2000
    events = rng.integers(1, 30, (k, 2))
    lines = ["study,ai,n1i,ci,n2i"] + [
        f"Study {i + 1},{a},60,{c},60" for i, (a, c) in enumerate(events)
    ]
    start = time.perf_counter()
    _upload(page, server_url, tmp_path, "k2000.csv", "\n".join(lines).encode())
    print(f"k = 2000: upload to forest drawn in {time.perf_counter() - start:.1f} s")
    assert _metric(page, "Studies") == "2,000" or _metric(page, "Studies") == "2000"
    texts = _svg_texts(page)
    assert "1,800 of 2,000 studies" in texts
    cells = _svg_texts(page).split()
    weights = [cell for cell in cells if cell.endswith("%")]
    assert len(weights) > 200 and "0.0%" not in weights
    screenshot(page, "forest_k2000")
