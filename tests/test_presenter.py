"""Presenter mode without a browser: the steps of a talk, the headline numbers, figures
refitted to a screen width, the keyboard listener's HTML and the style sheets."""

from __future__ import annotations

import html
from types import SimpleNamespace

import pytest

from igmeta.app.evidence.clinical import nnt_from_bundle
from igmeta.app.outputs.exports import forest_for
from igmeta.app.outputs.presenter import (
    SCREEN_BANDS,
    SHORT_OVERALL_LABEL,
    build_steps,
    clamp_step,
    headline_items,
    projected_forest,
    projected_funnel,
    step_indicator,
)
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.app.store.scenarios import ScenarioNotFound, summarise
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.plots.fit import fit_width
from ui.keyboard import step_keys_script
from ui.presenter import headline_html
from ui.presenter_style import stylesheet


@pytest.fixture(scope="module")
def table():
    return load_ig_pnp_canonical()


@pytest.fixture(scope="module")
def published(table):
    return run_analysis(table, PUBLISHED_COMPARISON)


def _x_domains(fig):
    return sorted(
        (tuple(fig.layout[name].domain), name) for name in fig.layout if name.startswith("xaxis")
    )


# ----------------------------------------------------------------------------- steps


def test_steps_start_then_variations_and_scenarios(table):
    saved = SimpleNamespace(name="<b>mine</b>", table=table, settings=AnalysisSettings(level=0.9))

    def load(scenario_id):
        if scenario_id == "gone":
            raise ScenarioNotFound("gone")
        return saved

    chosen = ["var:Random effects (REML)", "var:no such variation", "scn:gone", "scn:ok"]
    steps = build_steps("Published", table, PUBLISHED_COMPARISON, chosen, load)
    assert [s.label for s in steps] == [
        "Start \u2014 Published",
        "Random effects (REML)",
        "Scenario \u2014 <b>mine</b>",
    ]
    assert steps[0].settings == PUBLISHED_COMPARISON
    assert steps[1].settings.pooling == "IV" and steps[1].settings.tau2_method == "REML"
    assert steps[2].settings.level == 0.9
    # Without a store, scenario steps are left out; the start is always there.
    assert len(build_steps("P", table, PUBLISHED_COMPARISON, ["scn:ok"])) == 1
    assert [clamp_step(s, 3) for s in (-2, 0, 2, 9)] == [0, 0, 2, 2]
    assert clamp_step(4, 0) == 0
    assert step_indicator(1, 7) == "Step 2 of 7"


# ----------------------------------------------------------------------------- headline


def test_headline_items_are_the_engine_numbers(table, published):
    nnt = nnt_from_bundle(published)
    items = {item.key: item for item in headline_items(published, nnt)}
    summary = summarise(published)
    assert items["estimate"].text == summary["text"] == "2.90 [1.62, 5.19]"
    assert (items["estimate"].value, items["estimate"].detail) == ("2.90", "[1.62, 5.19]")
    assert items["estimate"].label == "Risk ratio (95% CI)"
    assert items["pval"].value == "0.0003"  # p = 0.00035 printed as journals do
    assert items["k"].value == "3"
    assert items["tau2"].value == "\u2014"  # common-effect MH model
    assert items["nnt"].text == nnt.text() == "NNTB 3 (95% CI NNTB 2 to 10)"
    reml = run_analysis(table, AnalysisSettings())
    tau2 = {item.key: item for item in headline_items(reml)}["tau2"]
    assert tau2.value == f"{reml.result.tau2:.3f}"
    assert "nnt" not in {item.key for item in headline_items(reml)}


def test_headline_html_escapes_everything(published):
    items = headline_items(published)
    page = headline_html(items)
    assert page.count('class="igp-card ') == len(items)
    for item in items:
        assert f'<span class="igp-main">{html.escape(item.value)}</span>' in page
    hostile = [type(items[0])('x"><script>', "<img src=x onerror=alert(1)>", "<b>", "&")]
    out = headline_html(hostile)
    assert "<script>" not in out and "<img" not in out and "<b>" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out and "&amp;" in out


def test_no_result_no_headline(table):
    empty = table.iloc[:0]
    bundle = run_analysis(empty, AnalysisSettings())
    assert headline_items(bundle) == []
    assert projected_forest(bundle, empty, SCREEN_BANDS[2]) is None
    assert projected_funnel(bundle, SCREEN_BANDS[2]) is None


# ----------------------------------------------------------------------------- figures


def test_fit_width_keeps_side_columns_in_pixels(table, published):
    fig = forest_for(published, table)
    planned = fig.layout.width
    inner = planned - fig.layout.margin.l - fig.layout.margin.r
    before = {name: domain for domain, name in _x_domains(fig)}
    for width in (1100, 2400):
        fitted = fit_width(fig, width, min_plot_px=100)
        new_inner = width - fitted.layout.margin.l - fitted.layout.margin.r
        assert fitted.layout.width == width
        for name, (start, end) in before.items():
            if name == "xaxis":
                continue
            new_start, new_end = fitted.layout[name].domain
            assert (new_end - new_start) * new_inner == pytest.approx((end - start) * inner)
        domains = _x_domains(fitted)
        for (first, _), (second, _) in zip(domains, domains[1:], strict=False):
            assert first[1] <= second[0] + 1e-12  # side by side, no overlap
    assert fit_width(fig, 300) is None  # the columns alone are wider
    assert fig.layout.width == planned  # the input is not changed


def test_projected_forest_fits_every_band(table, published):
    for settings in (PUBLISHED_COMPARISON, AnalysisSettings()):
        bundle = run_analysis(table, settings)
        for band in SCREEN_BANDS:
            fig = projected_forest(bundle, table, band, text_size=1.25, theme="dark")
            assert fig.layout.width == band.design_width_px
            domains = _x_domains(fig)
            assert domains[0][0][0] >= 0 and domains[-1][0][1] <= 1 + 1e-12
            for (first, _), (second, _) in zip(domains, domains[1:], strict=False):
                assert first[1] <= second[0] + 1e-12
            main = fig.layout.xaxis.domain
            assert (main[1] - main[0]) * band.design_width_px >= band.design_width_px / 5 - 40
    # Narrow screens drop columns and shorten the overall label; wide ones keep them all.
    narrow = projected_forest(published, table, SCREEN_BANDS[0], text_size=1.25)
    wide = projected_forest(published, table, SCREEN_BANDS[-1], text_size=1.25)
    narrow_labels = [t for tr in narrow.data if tr.name == "label column" for t in tr.text]
    wide_labels = [t for tr in wide.data if tr.name == "label column" for t in tr.text]
    assert SHORT_OVERALL_LABEL in narrow_labels
    assert any(label.startswith("Overall: Mantel-Haenszel") for label in wide_labels)
    assert len(_x_domains(wide)) > len(_x_domains(narrow))
    # Type grows with the band.
    sizes = [
        next(
            tr.textfont.size
            for tr in projected_forest(published, table, band).data
            if tr.name == "label column"
        )
        for band in SCREEN_BANDS
    ]
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]


# ----------------------------------------------------------------------------- browser side


def test_keyboard_script_names_the_buttons_and_keys():
    script = step_keys_script("jc_present_prev", "jc_present_next")
    assert '"next": "jc_present_next"' in script and '"previous": "jc_present_prev"' in script
    for key in ("ArrowRight", "PageDown", "ArrowLeft", "PageUp"):
        assert key in script
    assert "src=" not in script  # inline only, no external script
    assert "__igmetaStepKeys" in script and "removeEventListener" in script
    with pytest.raises(ValueError, match="CSS selector"):
        step_keys_script("a'] , body", "next")


def test_stylesheets():
    dark, light = stylesheet("dark", "jc_"), stylesheet("light", "jc_")
    assert '[data-testid="stSidebar"]' in dark and "#0B0B0B" in dark
    assert "#0B0B0B" not in light
    for band in SCREEN_BANDS:
        assert f"st-key-jc_present_band_{band.name}_" in dark
    assert dark.count("@container") == len(SCREEN_BANDS)
    assert "{prefix}" not in dark
