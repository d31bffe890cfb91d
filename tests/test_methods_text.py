"""The generated methods paragraph names only analyses that its output contains."""

from __future__ import annotations

import html
import re

import pytest

from igmeta.app.outputs.methods_text import methods_paragraph
from igmeta.app.outputs.report import report_html
from igmeta.app.pipeline.analysis import (
    PUBLISHED_COMPARISON,
    PUBLISHED_SINGLE_ARM,
    AnalysisSettings,
    run_analysis,
)
from igmeta.datasets import load_ig_pnp_canonical
from ui.sidebar import ESTIMATORS

#: Analyses a methods paragraph can name, and how to recognise each in the HTML report.
NAMED_ANALYSES = {
    r"Egger": r"Egger",
    r"Begg": r"Begg",
    r"trim-and-fill": r"[Tt]rim-and-fill",
    r"Q-profile": r"Q-profile",
    r"funnel plot": r'id="funnel-plot"',
    r"prediction interval": r"Prediction interval",
    r"Subgroups defined": r"Subgroups by",
    r"Hartung-Knapp": r"Hartung-Knapp",
}

SETTINGS = {
    "published MH": PUBLISHED_COMPARISON,
    "published share": PUBLISHED_SINGLE_ARM,
    "REML + HK": AnalysisSettings(test="knha"),
    "Peto": PUBLISHED_COMPARISON.with_changes(pooling="PETO"),
    "DL, no subgroups": AnalysisSettings(tau2_method="DL", subgroup_column=None),
}


def _body_without_methods(page: str) -> str:
    """The report with its methods section and R script removed (they only name things)."""
    page = re.sub(r"<h2>Methods</h2>.*?</ol>", "", page, flags=re.S)
    return re.sub(r"<pre>.*?</pre>", "", page, flags=re.S)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_report_methods_name_only_what_the_report_contains(name):
    table = load_ig_pnp_canonical()
    settings = SETTINGS[name]
    page = report_html(table, settings)
    methods = re.search(r"<h2>Methods</h2>\s*<p>(.*?)</p>", page, flags=re.S).group(1)
    body = _body_without_methods(page)
    for named, present in NAMED_ANALYSES.items():
        if re.search(named, html.unescape(methods)):
            assert re.search(present, body), f"{name}: methods name {named!r}, report lacks it"


def test_report_methods_do_not_cite_tests_the_report_lacks():
    page = report_html(load_ig_pnp_canonical(), PUBLISHED_COMPARISON)
    methods = re.search(r"<h2>Methods</h2>(.*?)</ol>", page, flags=re.S).group(1)
    for absent in ("Egger", "Begg", "trim-and-fill", "Q-profile", "Trim and fill"):
        assert absent not in methods


def test_mantel_haenszel_heterogeneity_sentence_has_no_tau2_of_its_own():
    bundle = run_analysis(load_ig_pnp_canonical(), PUBLISHED_COMPARISON)
    text, _ = methods_paragraph(bundle, bias_tests=False, heterogeneity_ci=False)
    assert "Cochran's Q and I\u00b2." in text and "tau" not in text
    text, refs = methods_paragraph(bundle)
    assert "REML random-effects refit" in text and "not used for the pooled estimate" in text
    assert any("Confidence intervals for the amount of heterogeneity" in r for r in refs)


def test_random_effects_paragraph_cites_what_it_names():
    bundle = run_analysis(load_ig_pnp_canonical(), AnalysisSettings(test="knha"))
    text, refs = methods_paragraph(bundle, bias_tests=False, heterogeneity_ci=False)
    assert "Hartung-Knapp" in text and "Q-profile" not in text and "Egger" not in text
    assert not any("Egger" in r or "Begg" in r or "Duval" in r for r in refs)
    assert any("Knapp G" in r for r in refs)
    text, refs = methods_paragraph(bundle)
    assert "Q-profile" in text and "Egger" in text
    assert any("Egger M" in r for r in refs)


@pytest.mark.parametrize("method", list(ESTIMATORS))
def test_every_sidebar_estimator_is_named_and_cited(method):
    bundle = run_analysis(load_ig_pnp_canonical(), AnalysisSettings(tau2_method=method))
    text, refs = methods_paragraph(bundle, bias_tests=False, heterogeneity_ci=False)
    assert "was estimated by" in text
    assert any(r.startswith("Viechtbauer W. Conducting") for r in refs) and len(refs) >= 3


def test_newer_estimators_are_named_in_words():
    for method, words, cited in [
        ("HSk", "Hunter-Schmidt estimator with its small-sample correction (HSk)", "Brannick MT"),
        ("PMM", "median-unbiased Paule-Mandel estimator (PMM)", "Paule RC"),
    ]:
        bundle = run_analysis(load_ig_pnp_canonical(), AnalysisSettings(tau2_method=method))
        text, refs = methods_paragraph(bundle)
        assert words in text and any(r.startswith(cited) for r in refs)
