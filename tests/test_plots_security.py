"""Untrusted text (study labels, titles, headers) must display literally in every figure.

Plotly renders a subset of HTML (``<a href>``, ``<b>``, ``<br>``, ``<span style>``),
HTML entities, ``$...$`` TeX and ``%{...}`` templates. Every string a figure built from
user data is walked, and none may contain markup that did not come from igmeta itself.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st

from igmeta.plots import (
    baujat_figure,
    cumulative_figure,
    escape_text,
    forest_figure,
    funnel_figure,
    gosh_figure,
    leave_one_out_figure,
)
from igmeta.plots._style import truncate_text

LONG = "Extremely long multicentre randomised trial name " * 6
EVIL = [
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "<b>bold</b>",
    '=HYPERLINK("http://evil.example","click")',
    '<span style="font-size:200px">big</span>',
    "&lt;pre-escaped&gt; &amp; &#60;b&#62; &#x3C;i&#x3E;",
    "$\\alpha + \\beta$",
    "%{x} %{customdata} %{text}",
    "\u202eevil override\u202c tail \u2066iso\u2069",
    "\u05e2\u05d1\u05e8\u05d9\u05ea \u05de\u05d7\u05e7\u05e8 2010",  # Hebrew, right-to-left
    "line one\nline two\r\n<br>three\x00\x1b",
    LONG,
]
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Markup igmeta itself writes around already-escaped text.
OWN_MARKUP = ("<br>", "<extra></extra>")
# plotly.js decodes these entities (svg_text_utils.convertEntities) before display.
PLOTLY_ENTITY = re.compile(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);")
PLOTLY_NAMED = {
    "mu": "\u03bc",
    "amp": "&",
    "lt": "<",
    "gt": ">",
    "nbsp": "\u00a0",
    "times": "\u00d7",
    "plusmn": "\u00b1",
    "deg": "\u00b0",
}


def plotly_display(text: str) -> str:
    """What plotly shows for ``text`` without markup (its entity decoding)."""

    def decode(match: re.Match) -> str:
        code = match.group(1)
        if code.startswith("#x"):
            return chr(int(code[2:], 16))
        if code.startswith("#"):
            return chr(int(code[1:]))
        return PLOTLY_NAMED.get(code, match.group(0))

    return PLOTLY_ENTITY.sub(decode, text)


def plain(text: str) -> str:
    """The literal text a user should see: bidi controls dropped, controls as spaces."""
    return re.sub("[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", BIDI_CONTROLS.sub("", text))


def rendered_strings(fig: go.Figure) -> list[tuple[str, str]]:
    """Every (path, string) of the figure JSON that plotly may render (not customdata)."""
    found: list[tuple[str, str]] = []

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in ("customdata", "template"):
                    walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")
        elif isinstance(node, str):
            found.append((path, node))

    walk(json.loads(fig.to_json()), "")
    return found


def assert_no_user_markup(fig: go.Figure) -> None:
    for path, text in rendered_strings(fig):
        stripped = text
        for markup in OWN_MARKUP:
            stripped = stripped.replace(markup, "")
        assert "<" not in stripped and ">" not in stripped, (path, text)
        assert not BIDI_CONTROLS.search(text), (path, text)
        assert "$" not in text, (path, text)
        if not path.endswith("hovertemplate"):
            assert "%{" not in text, (path, text)
        assert all(
            m.group(1) in ("amp", "lt", "gt", "#36", "#37") for m in PLOTLY_ENTITY.finditer(text)
        ), (path, text)


def _serialises(fig: go.Figure, tmp_path) -> None:
    path = tmp_path / "figure.html"
    fig.write_html(path, include_plotlyjs=False)
    assert "<script>alert(1)</script>" not in path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- escape_text


@pytest.mark.parametrize("text", EVIL)
def test_escape_text_displays_literally(text):
    escaped = escape_text(text)
    assert "<" not in escaped and ">" not in escaped
    assert plotly_display(escaped) == plain(text)


def test_escape_text_examples():
    assert escape_text("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escape_text("<b>bold</b>") == "&lt;b&gt;bold&lt;/b&gt;"
    assert escape_text("&amp;") == "&amp;amp;"
    assert escape_text('=HYPERLINK("x","y")') == '=HYPERLINK("x","y")'
    assert escape_text("a\u202eb") == "ab"
    assert escape_text("two\nlines") == "two lines"
    assert escape_text(None) == "" and escape_text(np.nan) == "" and escape_text(pd.NA) == ""
    assert escape_text(3) == "3"


@given(st.text())
def test_escape_text_property(text):
    escaped = escape_text(text)
    assert not set(escaped) & set("<>$%")
    assert plotly_display(escaped) == plain(text)


@given(st.text(), st.integers(min_value=2, max_value=80))
def test_truncate_text_property(text, limit):
    shown = plotly_display(truncate_text(text, limit))
    assert len(shown) <= limit
    if len(plain(text)) > limit:
        assert shown.endswith("\u2026")
    else:
        assert shown == plain(text)


def test_truncation_never_splits_an_entity():
    assert truncate_text("<<<<<<<<<<", 4) == "&lt;&lt;&lt;\u2026"


# --------------------------------------------------------------------------- figures


def _forest_frame() -> pd.DataFrame:
    rows = []
    for i, label in enumerate(EVIL):
        rows.append(
            {
                "row_type": "study",
                "label": label,
                "study_id": f"id{i}{label[:5]}",
                "group": label,
                "estimate": 1.0 + i / 10,
                "ci_lower": 0.5,
                "ci_upper": 2.0 + i,
                "weight": 5.0 + i,
                "included": i % 3 != 0,
                "flag": label if i % 4 == 0 else "",
                "counts_text": label,
                "estimate_text": label,
                "weight_text": label,
            }
        )
    rows.insert(0, {"row_type": "subgroup_header", "label": EVIL[0], "group": EVIL[0]})
    rows.append(
        {
            "row_type": "subgroup_summary",
            "label": EVIL[1],
            "estimate": 1.3,
            "ci_lower": 1.1,
            "ci_upper": 1.6,
            "estimate_text": EVIL[2],
        }
    )
    rows.append(
        {
            "row_type": "overall",
            "label": EVIL[3],
            "estimate": 1.3,
            "ci_lower": 1.1,
            "ci_upper": 1.6,
            "estimate_text": EVIL[4],
        }
    )
    rows.append(
        {
            "row_type": "prediction",
            "label": EVIL[5],
            "pi_lower": 0.7,
            "pi_upper": 2.5,
            "estimate_text": EVIL[6],
        }
    )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_forest_escapes_all_user_text(theme, tmp_path):
    fig = forest_figure(
        _forest_frame(),
        log_scale=True,
        null_value=1.0,
        x_label=EVIL[2],
        title=EVIL[0],
        theme=theme,
        highlight="id1<a hr",
        label_header=EVIL[4],
        text_columns=[
            ("counts_text", EVIL[7]),
            ("estimate_text", EVIL[8]),
            ("weight_text", EVIL[6]),
        ],
    )
    assert_no_user_markup(fig)
    labels = next(t for t in fig.data if t.name == "label column")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in labels.text[0]
    _serialises(fig, tmp_path)


def test_forest_truncates_long_labels_with_full_hover():
    fig = forest_figure(_forest_frame(), max_label_chars=30)
    labels = next(t for t in fig.data if t.name == "label column")
    long_row = 1 + EVIL.index(LONG)
    shown = plotly_display(labels.text[long_row]).replace("\u00a0", "").strip()
    assert shown.endswith("\u2026") and len(shown) <= 30
    hover = plotly_display(labels.hovertext[long_row]).split("<br>")
    label_lines = hover[: next(i for i, line in enumerate(hover) if line.startswith("Subgroup"))]
    assert " ".join(label_lines) == plain(LONG).strip()  # wrapped over lines, in full
    assert all(len(line) <= 60 for line in hover)


def test_forest_customdata_keeps_raw_ids():
    fig = forest_figure(_forest_frame())
    ids = {i for t in fig.data if t.customdata is not None for i in t.customdata if i}
    assert "id1<a hr" in ids  # ids are data, not rendered: the dashboard gets them back


def test_funnel_escapes_all_user_text(tmp_path):
    points = pd.DataFrame(
        {
            "label": EVIL,
            "study_id": EVIL,
            "estimate": np.linspace(-0.5, 0.5, len(EVIL)),
            "se": np.linspace(0.1, 0.5, len(EVIL)),
            "filled": [i % 5 == 0 for i in range(len(EVIL))],
            "included": [i % 3 != 0 for i in range(len(EVIL))],
        }
    )
    fig = funnel_figure(
        points, center=0.0, log_scale=True, x_label=EVIL[1], title=EVIL[0], egger_line=(0.0, 1.0)
    )
    assert_no_user_markup(fig)
    _serialises(fig, tmp_path)


def test_sensitivity_figures_escape_all_user_text(tmp_path):
    refits = pd.DataFrame(
        {
            "label": EVIL,
            "study_id": EVIL,
            "estimate": 1.2,
            "ci_lower": 0.9,
            "ci_upper": 1.6,
            "i2": 40.0,
            "k": range(1, len(EVIL) + 1),
        }
    )
    figures = [
        leave_one_out_figure(
            refits, full_estimate=1.2, log_scale=True, title=EVIL[0], x_label=EVIL[1]
        ),
        cumulative_figure(refits, log_scale=True, title=EVIL[2], x_label=EVIL[7]),
        baujat_figure(
            refits.assign(x=np.arange(len(EVIL)), y=np.arange(len(EVIL)) / 10),
            title=EVIL[3],
            x_label=EVIL[4],
            y_label=EVIL[5],
        ),
        gosh_figure(
            pd.DataFrame({"estimate": [0.1, 0.2, 0.3], "i2": [1.0, 50.0, 90.0]}),
            title=EVIL[0],
            x_label=EVIL[6],
            log_scale=True,
        ),
    ]
    for fig in figures:
        assert_no_user_markup(fig)
        _serialises(fig, tmp_path)
