"""Many users, one server: concurrent sessions never see each other's data or settings.

Three browser contexts (three people) open the shared test server at the same time. Each
uploads a different table and picks a different proportion transform; their actions are
interleaved (files sent, buttons clicked and settings changed in all sessions before any
is waited for), so the server runs the three sessions' scripts concurrently. Each page
must then show exactly the pooled estimate the engine computes for *its own* table and
settings, only its own study names, and its own autosave token -- also after a further
round of concurrent changes and a reload.
"""

from __future__ import annotations

import pytest
from conftest import chart_texts, screenshot, wait_for_app
from test_nothing_lost_browser import (
    METRIC,
    RESTORED,
    UPLOADER,
    choose,
    go_to,
    open_app,
    session_token,
)

from igmeta.app.intake.io import read_table
from igmeta.app.intake.schema import apply_mapping, guess_mapping
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.formatting import format_ci

pytestmark = pytest.mark.browser

#: (file name, CSV, transform value, transform label) per user.
USERS = (
    (
        "alice.csv",
        "study,events,total\nAlpha A,12,40\nBravo A,30,52\nCharlie A,9,61\n",
        "PR",
        "Raw proportion",
    ),
    (
        "bob.csv",
        "study,events,total\nDelta B,3,90\nEcho B,5,77\nFoxtrot B,8,64\nGolf B,2,50\n",
        "PLO",
        "Logit",
    ),
    ("carol.csv", "study,events,total\nHotel C,60,70\nIndia C,44,49\n", "PAS", "Arcsine"),
)
LEVELS = {"95%": 0.95, "90%": 0.9, "99%": 0.99}


def _expected(csv_text: str, measure: str, level: float = 0.95) -> str:
    """The headline the engine gives for this table and transform."""
    read = read_table(csv_text.encode(), "x.csv")
    table = apply_mapping(read.frame, guess_mapping(read.frame.columns, "proportion"))
    bundle = run_analysis(
        table,
        AnalysisSettings(
            data_type="proportion",
            analysis="single_arm",
            proportion_measure=measure,
            level=level,
            subgroup_column=None,
        ),
    )
    bt = bundle.result.back_transformed()
    return format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])


def _studies(csv_text: str) -> list[str]:
    return [line.split(",")[0] for line in csv_text.strip().splitlines()[1:]]


def _check(page, index: int, level: str = "95%") -> None:
    name, csv_text, measure, _ = USERS[index]
    page.locator(METRIC).first.wait_for()
    assert page.locator(METRIC).first.inner_text() == _expected(csv_text, measure, LEVELS[level])
    assert page.locator(METRIC).nth(2).inner_text() == str(len(_studies(csv_text)))
    chart = chart_texts(page.locator("[data-testid='stPlotlyChart']").first)
    for other, (_, other_csv, _, _) in enumerate(USERS):
        for study in _studies(other_csv):
            assert (study in chart) == (other == index), (name, study)
    assert name in page.locator("[data-testid='stCaptionContainer']").first.inner_text()


def test_three_people_at_once_see_only_their_own_work(browser, server_url, tmp_path):
    contexts = [browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in USERS]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.set_default_timeout(60_000)
            open_app(page, server_url)
        tokens = [session_token(page) for page in pages]
        assert len(set(tokens)) == len(USERS)

        # Everyone goes to the Data page and sends a file before anyone waits.
        for page in pages:
            go_to(page, "Data", "Study data")
        for page, (name, csv_text, _, _) in zip(pages, USERS, strict=True):
            path = tmp_path / name
            path.write_text(csv_text, "utf-8")
            page.locator(UPLOADER).set_input_files(str(path))
        for page in pages:
            page.get_by_role("button", name="Use this table").wait_for()
        for page in pages:
            page.get_by_role("button", name="Use this table").click()
        for page, (name, *_rest) in zip(pages, USERS, strict=True):
            page.get_by_text(f"Loaded '{name}'").first.wait_for()
            wait_for_app(page)

        for page in pages:
            go_to(page, "Analysis (forest)", "Meta-analysis")
        for page, (*_rest, label) in zip(pages, USERS, strict=True):
            choose(page, "Proportion transform", label)
        for index, page in enumerate(pages):
            wait_for_app(page)
            _check(page, index)

        # A second round of changes, started in all sessions before any is waited for.
        levels = ("90%", "99%", "95%")
        for page, level in zip(pages, levels, strict=True):
            if level != "95%":
                page.get_by_role("combobox", name="Confidence level").click()
        for page, level in zip(pages, levels, strict=True):
            if level != "95%":
                option = page.get_by_role("option", name=level, exact=True)
                if not option.is_visible():
                    page.keyboard.press("ArrowDown")
                option.click()
        for index, page in enumerate(pages):
            wait_for_app(page)
            page.wait_for_timeout(300)
            _check(page, index, levels[index])
            screenshot(page, f"isolation_user_{index + 1}")

        # Each reload brings back that person's own work, under that person's token.
        for page in pages:
            page.reload()
        for index, page in enumerate(pages):
            wait_for_app(page)
            page.get_by_text(RESTORED).first.wait_for()
            assert session_token(page) == tokens[index]
            _check(page, index, levels[index])
    finally:
        for context in contexts:
            context.close()
