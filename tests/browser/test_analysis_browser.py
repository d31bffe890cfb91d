"""The Analysis page in a real browser: toggling the model, the RCT-only subgroup and
clicking a study in the forest plot each change the pooled estimate shown."""

from __future__ import annotations

import pytest
from conftest import screenshot, use_metafor_defaults, wait_for_app

pytestmark = pytest.mark.browser

SLOW = 30_000


def pooled(page) -> str:
    """The text of the pooled-estimate metric."""
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Pooled").first
    return metric.locator("[data-testid='stMetricValue']").inner_text()


def studies(page) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Studies").first
    return metric.locator("[data-testid='stMetricValue']").inner_text()


def wait_change(page, before: str) -> str:
    """Wait until the pooled estimate differs from ``before``; return the new text."""
    page.wait_for_function(
        """(before) => {
            const m = Array.from(document.querySelectorAll('[data-testid="stMetric"]'))
                .find(e => e.innerText.includes('Pooled'));
            if (!m) return false;
            const v = m.querySelector('[data-testid="stMetricValue"]');
            return v && v.innerText !== before;
        }""",
        arg=before,
        timeout=SLOW,
    )
    wait_for_app(page)
    return pooled(page)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar selectbox labelled ``label``."""
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).first.click()


def test_model_subgroup_and_forest_click_change_the_estimate(page, server_url):
    page.goto(server_url)
    wait_for_app(page)
    page.get_by_role("heading", name="Meta-analysis").wait_for()
    assert pooled(page) == "2.90 [1.62, 5.19]"  # a new session opens on the paper
    use_metafor_defaults(page)
    start = pooled(page)

    choose(page, "Model", "Common effect")
    common = wait_change(page, start)
    choose(page, "Model", "Random effects")
    assert wait_change(page, common) == start

    choose(page, "Analysis", "Pooled share of responders (treatment arms)")
    share_all = wait_change(page, start)
    assert studies(page) == "5"
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("button", name="Remove open-label").last.click()
    share_rct = wait_change(page, share_all)
    assert studies(page) == "3"

    # Click the first study's square in the forest plot: it is excluded (k drops to 2).
    plot = page.locator("[data-testid='stPlotlyChart']").first
    plot.scroll_into_view_if_needed()
    point = plot.locator(".scatterlayer .trace .points path").first
    point.click(force=True)
    after_click = wait_change(page, share_rct)
    assert studies(page) == "2"
    assert after_click != share_rct
    screenshot(page, "analysis_after_forest_click")
