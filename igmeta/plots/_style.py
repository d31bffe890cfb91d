"""Shared look of every igmeta figure: themes, safe text, log-axis ticks, column checks.

Nothing here computes statistics. The helpers only decide how things look:

* :func:`escape_text` / :func:`truncate_text` make untrusted user text (study labels,
  titles) display literally in plotly, which otherwise renders a subset of HTML, entities
  and ``%{...}`` templates;
* :func:`apply_theme` gives a figure the slide-friendly light or high-contrast dark layout;
* :func:`log_ticks` chooses natural-scale tick values (0.1, 0.2, 0.5, 1, 2, 5, 10) for
  axes whose geometry is logarithmic;
* :class:`ColumnSpec` and :func:`require_columns` document and check the tidy input frames.
"""

from __future__ import annotations

import functools
import json
import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

__all__ = [
    "add_footnotes",
    "BODY_FONT_SIZE",
    "FIGURE_WIDTH_PX",
    "FONT_FAMILY",
    "THEMES",
    "TITLE_FONT_SIZE",
    "ColumnSpec",
    "Theme",
    "apply_theme",
    "escape_text",
    "footnote_annotations",
    "themed_layout",
    "get_theme",
    "is_missing",
    "log_ticks",
    "optional_ids",
    "require_columns",
    "truncate_text",
    "with_defaults",
    "wrap_text",
]

#: plotly's registered template under the igmeta styling.
BASE_TEMPLATE = "simple_white"
FONT_FAMILY = "Arial, 'Helvetica Neue', Helvetica, 'Liberation Sans', sans-serif"
#: Tick labels, text columns and legends.
BODY_FONT_SIZE = 16
#: Figure and axis titles.
TITLE_FONT_SIZE = 18
HOVER_FONT_SIZE = 15
#: Width of fixed-layout figures (funnel, Baujat, GOSH) in static exports; in the
#: dashboard, st.plotly_chart(width="stretch") fits them to the page instead.
FIGURE_WIDTH_PX = 1000

# Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)


@dataclass(frozen=True)
class Theme:
    """Colours of one theme; every figure takes its colours from here.

    Attributes
    ----------
    name : str
        ``"light"`` or ``"dark"``.
    background : str
        Page and plotting-area background.
    text : str
        Text, axis lines and ticks.
    primary : str
        Study markers and confidence-interval lines.
    summary : str
        Overall (pooled) diamonds and the line at the overall estimate.
    accent : str
        The highlighted study in presenter mode.
    prediction : str
        Prediction intervals.
    secondary : str
        A further data colour (e.g. the Egger regression line).
    imputed : str
        Trim-and-fill imputed studies.
    muted : str
        Excluded studies and their labels.
    reference : str
        The vertical line at the null value.
    highlight_band : str
        Translucent band behind a highlighted row.
    contour_fills : tuple of str
        Funnel significance regions ``(0.05 < p < 0.10, 0.01 < p < 0.05, p < 0.01)``.
    colorscale : str
        Sequential colour scale for densities.
    """

    name: str
    background: str
    text: str
    primary: str
    summary: str
    accent: str
    prediction: str
    secondary: str
    imputed: str
    muted: str
    reference: str
    highlight_band: str
    contour_fills: tuple[str, str, str]
    colorscale: str = "Viridis"


THEMES: dict[str, Theme] = {
    "light": Theme(
        name="light",
        background="#FFFFFF",
        text="#1A1A1A",
        primary="#0072B2",
        summary="#1A1A1A",
        accent="#D55E00",
        prediction="#009E73",
        secondary="#CC79A7",
        imputed="#D55E00",
        muted="#A8A8A8",
        reference="#555555",
        highlight_band="rgba(213, 94, 0, 0.12)",
        contour_fills=("#EFEFEF", "#D6D6D6", "#BABABA"),
    ),
    "dark": Theme(
        name="dark",
        background="#0B0B0B",
        text="#F5F5F5",
        primary="#56B4E9",
        summary="#F5F5F5",
        accent="#E69F00",
        prediction="#2BC59A",
        secondary="#CC79A7",
        imputed="#E69F00",
        muted="#8C8C8C",
        reference="#BBBBBB",
        highlight_band="rgba(230, 159, 0, 0.20)",
        contour_fills=("#262626", "#3A3A3A", "#525252"),
    ),
}


def get_theme(theme: str | Theme) -> Theme:
    """Return the :class:`Theme` called ``theme`` (or ``theme`` itself).

    Parameters
    ----------
    theme : {"light", "dark"} or Theme
        Name of a built-in theme, or a theme object.

    Returns
    -------
    Theme
        The colours to draw with.

    Raises
    ------
    ValueError
        If ``theme`` is not a known name.
    """
    if isinstance(theme, Theme):
        return theme
    try:
        return THEMES[theme]
    except KeyError:
        raise ValueError(f"theme must be one of {sorted(THEMES)}, got {theme!r}") from None


def _set_base_template(fig: go.Figure) -> None:
    """Give ``fig`` plotly's registered "simple_white" template.

    The registered template object is already valid; plotly re-validates a template
    assigned through ``update_layout`` (about 6 ms a figure, the largest cost of drawing
    the dashboard's small figures). Assigning it with validation switched off, as plotly
    does for its own default template, gives the same figure in a fraction of the time.
    """
    layout = fig.layout
    layout._validate = False
    try:
        layout.template = pio.templates[BASE_TEMPLATE]
    finally:
        layout._validate = fig._validate


def apply_theme(fig: go.Figure, theme: str | Theme = "light") -> go.Figure:
    """Give ``fig`` the slide-friendly igmeta layout, in place.

    White (or near-black) background, sans-serif font, 16 px tick labels, 18 px titles,
    no gridlines or zero lines, plain axis lines with outside ticks, a colour-blind-safe
    colourway. Axes that were hidden (``visible=False``) stay hidden.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure to restyle.
    theme : {"light", "dark"} or Theme, default "light"
        ``"dark"`` is a high-contrast layout for dark rooms and dark dashboards.

    Returns
    -------
    plotly.graph_objects.Figure
        ``fig`` itself, for chaining.
    """
    colours = get_theme(theme)
    _set_base_template(fig)
    fig.update_layout(
        paper_bgcolor=colours.background,
        plot_bgcolor=colours.background,
        colorway=list(OKABE_ITO if colours.name == "light" else OKABE_ITO[:7]),
        font={"family": FONT_FAMILY, "size": BODY_FONT_SIZE, "color": colours.text},
        title_font={"family": FONT_FAMILY, "size": TITLE_FONT_SIZE, "color": colours.text},
        legend={
            "font": {"size": BODY_FONT_SIZE - 1, "color": colours.text},
            "bgcolor": "rgba(0,0,0,0)",
        },
        hoverlabel={
            "font": {"family": FONT_FAMILY, "size": HOVER_FONT_SIZE, "color": colours.text},
            "bgcolor": colours.background,
            "bordercolor": colours.text,
            "align": "left",
        },
    )
    axis_style = {
        "showgrid": False,
        "zeroline": False,
        "showline": True,
        "linecolor": colours.text,
        "linewidth": 1.5,
        "ticks": "outside",
        "tickcolor": colours.text,
        "tickfont": {"size": BODY_FONT_SIZE, "color": colours.text},
        "title_font": {"size": TITLE_FONT_SIZE, "color": colours.text},
    }
    fig.update_xaxes(**axis_style)
    fig.update_yaxes(**axis_style)
    return fig


@functools.lru_cache(maxsize=len(THEMES))
def _themed_layout_json(theme: str) -> str:
    return apply_theme(go.Figure(), theme).layout.to_json()


def themed_layout(theme: str | Theme = "light") -> dict:
    """The layout :func:`apply_theme` gives an empty figure, as a plain (fresh) dict.

    For figures built as plain dicts and wrapped without plotly's validation (see
    :func:`igmeta.plots.forest.forest_figure`): the same template, fonts, colours and
    axis style as :func:`apply_theme`, at the cost of a dictionary copy.

    Parameters
    ----------
    theme : {"light", "dark"} or Theme, default "light"
        The colour theme.

    Returns
    -------
    dict
        A new layout dict (template, fonts, colours, ``xaxis`` and ``yaxis`` style).
    """
    colours = get_theme(theme)
    if THEMES.get(colours.name) is colours:
        return json.loads(_themed_layout_json(colours.name))
    return apply_theme(go.Figure(), colours).layout.to_plotly_json()


def footnote_annotations(notes: Sequence[str], *, top_px: float, line_px: float) -> list[dict]:
    """Left-aligned notes under the plot area, one per line, as annotation dicts.

    Parameters
    ----------
    notes : sequence of str
        The lines, top to bottom (already escaped text).
    top_px : float
        Distance in pixels from the bottom of the plot area to the first line.
    line_px : float
        Distance between lines in pixels.

    Returns
    -------
    list of dict
        One plotly annotation per line.
    """
    return [
        {
            "text": note,
            "xref": "paper",
            "x": 0,
            "xanchor": "left",
            "yref": "paper",
            "y": 0,
            "yanchor": "top",
            "yshift": -top_px - line_px * i,
            "showarrow": False,
            "font": {"size": BODY_FONT_SIZE - 1},
        }
        for i, note in enumerate(notes)
    ]


def add_footnotes(fig: go.Figure, notes: Sequence[str], *, top_px: float, line_px: float) -> None:
    """Add :func:`footnote_annotations` to ``fig`` (same parameters)."""
    for annotation in footnote_annotations(notes, top_px=top_px, line_px=line_px):
        fig.add_annotation(**annotation)


# --------------------------------------------------------------------------- safe text

# Explicit bidirectional embeddings, overrides, isolates and marks: they could reorder
# the text around a label (e.g. our own dagger or "(excluded)"). Ordinary Arabic or
# Hebrew letters are kept and display correctly without them.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# C0/C1 control characters and Unicode line/paragraph separators become spaces.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Characters plotly interprets: tags (<, >), entities (&), TeX ($...$) and templates (%{}).
_PLOTLY_SPECIAL = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;", "%": "&#37;"}
)
ELLIPSIS = "\u2026"


def is_missing(value: object) -> bool:
    """Whether ``value`` is a missing scalar (None, NaN, ``pd.NA``, ``NaT``).

    Parameters
    ----------
    value : object
        Any value; array-likes are never "missing".

    Returns
    -------
    bool
        True for a missing scalar.
    """
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-likes: not a missing scalar
        return False


def _plain_text(value: object) -> str:
    """Untrusted ``value`` as one line of plain text (not yet escaped)."""
    if is_missing(value):
        return ""
    text = _BIDI_CONTROLS.sub("", str(value))
    return _CONTROL_CHARACTERS.sub(" ", text)


def escape_text(value: object) -> str:
    """Make untrusted text display literally in any plotly text, hover or tick label.

    Plotly renders a subset of HTML (``<b>``, ``<br>``, ``<a href>``, ``<span style>``),
    HTML entities, ``$...$`` as TeX when MathJax is present, and ``%{...}`` in
    hover/text templates. This function escapes ``&``, ``<`` and ``>`` as ``&amp;``,
    ``&lt;`` and ``&gt;`` and writes ``$`` and ``%`` as numeric entities (shown as the
    plain characters); removes explicit bidirectional controls (U+202A-U+202E,
    U+2066-U+2069, U+200E, U+200F, U+061C) so right-to-left text cannot reorder the
    surrounding text; and turns control characters and line breaks into spaces.

    Parameters
    ----------
    value : object
        Any value; ``None`` and missing values (NaN, ``pd.NA``) give ``""``, anything
        else is converted with ``str``.

    Returns
    -------
    str
        Text safe to place in a figure; it displays as the original characters.

    Examples
    --------
    >>> escape_text('<a href="javascript:alert(1)">x</a>')
    '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;'
    >>> escape_text("Smith & Jones 50%")
    'Smith &amp; Jones 50&#37;'
    """
    return _plain_text(value).translate(_PLOTLY_SPECIAL)


def truncate_text(value: object, max_chars: int) -> str:
    """Escaped text shortened to at most ``max_chars`` displayed characters.

    Longer text is cut and ends with an ellipsis ("…"). Truncation happens before
    escaping, so an entity is never cut in half. Show the full :func:`escape_text` in
    the hover when you use this for a label.

    Parameters
    ----------
    value : object
        Untrusted text (see :func:`escape_text`).
    max_chars : int
        Maximum number of displayed characters, ellipsis included (at least 2).

    Returns
    -------
    str
        Escaped, possibly shortened, text.
    """
    if max_chars < 2:
        raise ValueError("max_chars must be at least 2")
    text = _plain_text(value)
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + ELLIPSIS
    return text.translate(_PLOTLY_SPECIAL)


def wrap_text(value: object, width: int = 60) -> str:
    """Escaped text broken into lines of at most ``width`` characters (for hover labels).

    The text is wrapped first (at spaces where possible) and each line escaped with
    :func:`escape_text`; the lines are joined with plotly's ``<br>``, the only markup in
    the result.

    Parameters
    ----------
    value : object
        Untrusted text (see :func:`escape_text`).
    width : int, default 60
        Maximum line length in displayed characters.

    Returns
    -------
    str
        Escaped text with ``<br>`` line breaks.
    """
    text = _plain_text(value)
    if len(text) <= width and " ".join(text.split()) == text:
        return text.translate(_PLOTLY_SPECIAL)  # one line: what textwrap would give, faster
    lines = textwrap.wrap(text, width=width, break_on_hyphens=False) or [""]
    return "<br>".join(line.translate(_PLOTLY_SPECIAL) for line in lines)


# --------------------------------------------------------------------------- log ticks

# From coarse to fine: mantissas of the tick values within one decade.
_MANTISSA_SETS = (
    (1.0,),
    (1.0, 2.0, 5.0),
    (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
    (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0),
)


def _format_tick(value: float) -> str:
    return np.format_float_positional(float(f"{value:.6g}"), trim="-")


def log_ticks(low: float, high: float, max_ticks: int = 9) -> tuple[list[float], list[str]]:
    """Natural-scale tick values and labels for a logarithmic axis.

    Picks the finest of the series 10^k; 1-2-5; 1-1.5-2-3-5-7; 1-1.2-...-9 (per decade)
    that gives at most ``max_ticks`` ticks within ``[low, high]``; if even powers of ten
    are too many, every second (third, ...) decade is kept.

    Parameters
    ----------
    low, high : float
        Positive natural-scale bounds of the axis (e.g. risk ratios 0.1 and 10).
    max_ticks : int, default 9
        Upper limit on the number of ticks.

    Returns
    -------
    values : list of float
        Tick positions on the natural scale (take ``np.log`` for an axis drawn in log
        units, or pass them as they are to a plotly ``type="log"`` axis).
    labels : list of str
        Plain decimal labels such as ``"0.1"``, ``"0.5"``, ``"1"``, ``"10"``.

    Examples
    --------
    >>> log_ticks(0.1, 10)[1]
    ['0.1', '0.2', '0.5', '1', '2', '5', '10']
    """
    if not (low > 0 and high > 0 and math.isfinite(low) and math.isfinite(high)):
        raise ValueError("log_ticks needs positive finite bounds")
    low, high = min(low, high), max(low, high)
    first = math.floor(math.log10(low)) - 1
    last = math.ceil(math.log10(high)) + 1
    tolerance = 1e-9

    def ticks_for(mantissas: Sequence[float]) -> list[float]:
        values = [
            float(f"{m * 10.0**decade:.12g}")
            for decade in range(first, last + 1)
            for m in mantissas
        ]
        return [v for v in values if low * (1 - tolerance) <= v <= high * (1 + tolerance)]

    chosen = ticks_for(_MANTISSA_SETS[0])
    for mantissas in _MANTISSA_SETS[1:]:
        candidate = ticks_for(mantissas)
        if len(candidate) > max_ticks:
            break
        chosen = candidate
    if len(chosen) > max_ticks:
        step = math.ceil(len(chosen) / max_ticks)
        anchor = chosen.index(1.0) if 1.0 in chosen else 0
        chosen = [v for i, v in enumerate(chosen) if (i - anchor) % step == 0]
    elif len(chosen) < 3:  # a narrow range, e.g. 0.95 to 1.05: evenly spaced ticks
        chosen = _linear_ticks(low, high)
    return chosen, [_format_tick(v) for v in chosen]


def _linear_ticks(low: float, high: float, target: int = 5) -> list[float]:
    raw_step = (high - low) / target
    magnitude = 10.0 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= raw_step)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [float(f"{i * step:.12g}") for i in range(first, last + 1)]


# --------------------------------------------------------------------------- input frames


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a figure's input frame.

    Attributes
    ----------
    name : str
        Column name.
    required : bool
        Whether the figure refuses a frame without it.
    description : str
        Meaning, type and scale of the values.
    """

    name: str
    required: bool
    description: str


def require_columns(frame: pd.DataFrame, columns: Iterable[ColumnSpec], figure: str) -> None:
    """Check that ``frame`` is a DataFrame holding every required column.

    Parameters
    ----------
    frame : pandas.DataFrame
        The input frame of a figure.
    columns : iterable of ColumnSpec
        The figure's column contract.
    figure : str
        Name of the figure function, for the error message.

    Raises
    ------
    TypeError
        If ``frame`` is not a DataFrame.
    ValueError
        Listing every missing required column (a programming error, not a user error).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{figure} expects a pandas DataFrame, got {type(frame).__name__}")
    missing = [spec.name for spec in columns if spec.required and spec.name not in frame]
    if missing:
        raise ValueError(
            f"{figure}: missing required column(s) {', '.join(missing)}; "
            f"got columns {', '.join(map(str, frame.columns)) or '(none)'}"
        )


def with_defaults(frame: pd.DataFrame, defaults: dict[str, object]) -> pd.DataFrame:
    """A copy of ``frame`` with each absent optional column filled with its default.

    Parameters
    ----------
    frame : pandas.DataFrame
        An input frame.
    defaults : dict
        Column name to the scalar used when the column is absent.

    Returns
    -------
    pandas.DataFrame
        A new frame with a fresh 0..n-1 index; existing columns are untouched.
    """
    result = frame.reset_index(drop=True)
    for name, value in defaults.items():
        if name not in result:
            result[name] = value
    return result


def optional_ids(values: Iterable[object]) -> list[str | None]:
    """Study ids as ``str``, with missing ids as ``None`` (for plotly ``customdata``).

    Parameters
    ----------
    values : iterable
        Raw ids (any scalar type, possibly missing).

    Returns
    -------
    list of str or None
        The ids as they will come back from a click on the figure.
    """
    return [None if is_missing(value) else str(value) for value in values]
