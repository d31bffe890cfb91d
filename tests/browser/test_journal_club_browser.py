"""Journal club in a real browser: a shared link survives a server restart, and the HTML
report opens offline without running any user text as script (presenter mode:
test_presenter_browser.py).

Each server here is started with its own SQLite file (IGMETA_DB_PATH in a temp folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import screenshot, start_server, stop_server, wait_for_app

from igmeta.app.outputs.report import report_html
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings
from igmeta.app.store.scenarios import ScenarioStore, summarise
from igmeta.datasets import load_ig_pnp_canonical

pytestmark = pytest.mark.browser

XSS = "<script>alert(1)</script>"
IMG_XSS = '<img src=x onerror="alert(2)">'


@pytest.fixture(scope="module")
def jc_server(tmp_path_factory):
    """A server of its own, with a fresh scenario store."""
    db = tmp_path_factory.mktemp("jc") / "igmeta.sqlite3"
    proc, url = start_server({"IGMETA_DB_PATH": str(db)})
    yield url, db
    stop_server(proc)


def _context(browser, width: int = 1440, height: int = 1000, **options):
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    context.set_default_timeout(60_000)
    return context


def _open(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.locator("[data-testid='stMetricValue']").first.wait_for()
    wait_for_app(page)


def _go(page, link: str, heading: str) -> None:
    page.get_by_role("link", name=link).click()
    wait_for_app(page)
    page.get_by_role("heading", name=heading).first.wait_for()
    wait_for_app(page)


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox ``label`` (retrying while a rerun redraws it)."""
    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(5):
        page.get_by_role("combobox", name=label).click()
        try:
            choice.wait_for(timeout=5_000)
        except Exception:  # the list closed because the sidebar was redrawn
            page.keyboard.press("Escape")
            wait_for_app(page)
            continue
        choice.click()
        wait_for_app(page)
        return
    raise AssertionError(f"could not choose {option!r} in {label!r}")


def _metrics(page) -> list[str]:
    return [t.strip() for t in page.locator("[data-testid='stMetricValue']").all_inner_texts()]


def _collect_dialogs(page) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


# ----------------------------------------------------------------------------- sharing


def test_shared_link_survives_a_server_restart(browser, tmp_path):
    db_path = tmp_path / "shared.sqlite3"
    env = {"IGMETA_DB_PATH": str(db_path)}
    proc, url = start_server(env)
    try:
        context = _context(browser)
        page = context.new_page()
        _open(page, url)
        # A non-default analysis: the published preset with a 90% confidence level.
        page.get_by_role("button", name="Published analysis").click()
        wait_for_app(page)
        _choose(page, "Confidence level", "90%")
        before = _metrics(page)
        assert before[0] != "2.90 [1.62, 5.19]"  # 90% CI differs from the published 95% CI
        _go(page, "Scenarios & sharing", "Scenarios & sharing")
        page.get_by_role("button", name="Save and get a link").click()
        wait_for_app(page)
        page.get_by_text("The current analysis is the scenario").wait_for()
        link = page.locator("[data-testid='stCode'] code").first.inner_text().strip()
        assert link.startswith(url) and "?scenario=" in link
        screenshot(page, "scenarios_saved")
        context.close()
    finally:
        stop_server(proc)

    scenario_id = link.split("?scenario=", 1)[1]
    saved = ScenarioStore(db_path).load(scenario_id)
    assert saved.settings.level == 0.9 and saved.settings.pooling == "MH"
    expected = summarise(saved.run())

    proc, url = start_server(env)  # a new server process, same database
    try:
        context = _context(browser)  # a fresh browser: no cookies, no session
        page = context.new_page()
        dialogs = _collect_dialogs(page)
        _open(page, f"{url}/?scenario={scenario_id}")
        page.get_by_text("Opened the shared scenario").wait_for()
        after = _metrics(page)
        assert after == before
        assert after[0] == expected["text"]
        screenshot(page, "shared_link_after_restart")
        # A bad link: a clear warning and the bundled data, no error page.
        bad = context.new_page()
        _open(bad, f"{url}/?scenario=doesNotExist_0123456789")
        bad.get_by_text("No saved scenario matches this link").wait_for()
        assert not bad.locator("[data-testid='stException']").count()
        assert dialogs == []
        context.close()
    finally:
        stop_server(proc)


# ----------------------------------------------------------------------------- report


def _check_offline_report(browser, path: Path, texts: list[str]) -> None:
    context = _context(browser, offline=True)
    requests: list[str] = []

    def route(route_):
        if route_.request.url.startswith(("file:", "data:", "blob:")):
            route_.continue_()
        else:
            requests.append(route_.request.url)
            route_.abort()

    context.route("**/*", route)
    page = context.new_page()
    dialogs = _collect_dialogs(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.locator("#forest-plot .main-svg").first.wait_for()
    page.locator("#funnel-plot .main-svg").first.wait_for()
    page.wait_for_timeout(1000)  # time for anything injected to run
    assert page.locator(".plotly").count() >= 2
    assert page.locator("#forest-plot svg").count() >= 1
    # Hover a study: the tooltip shows the label as text too.
    for text in texts:
        assert page.get_by_text(text, exact=False).count() >= 1, text
    assert dialogs == []
    assert requests == []
    assert errors == []
    screenshot(page, "report_offline")
    context.close()


def test_report_opens_offline_and_runs_no_user_script(browser, tmp_path):
    table = load_ig_pnp_canonical()
    table.loc[0, "study"] = XSS
    table.loc[1, "study"] = IMG_XSS
    page_html = report_html(
        table, AnalysisSettings(), title=f"Report {XSS}", source=IMG_XSS, scenario_name=XSS
    )
    path = tmp_path / "report.html"
    path.write_text(page_html, encoding="utf-8")
    _check_offline_report(browser, path, [XSS, IMG_XSS])


def test_report_downloaded_from_the_dashboard(browser, jc_server, tmp_path):
    url, db = jc_server
    table = load_ig_pnp_canonical()
    table.loc[0, "study"] = XSS
    table.loc[2, "study"] = IMG_XSS
    scenario_id = ScenarioStore(db).save(f"Evil {XSS}", table, PUBLISHED_COMPARISON, source=IMG_XSS)
    context = _context(browser)
    page = context.new_page()
    dialogs = _collect_dialogs(page)
    _open(page, f"{url}/?scenario={scenario_id}")
    page.get_by_text("Opened the shared scenario").wait_for()
    _go(page, "Scenarios & sharing", "Scenarios & sharing")
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="HTML report (works offline)").click()
    path = tmp_path / "downloaded.html"
    info.value.save_as(path)
    assert dialogs == []
    context.close()
    content = path.read_text(encoding="utf-8")
    assert XSS not in content and "2.90 [1.62, 5.19]" in content
    _check_offline_report(browser, path, [XSS, IMG_XSS])
