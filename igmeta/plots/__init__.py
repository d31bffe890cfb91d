"""Figures of the igmeta dashboard, built with plotly from tidy DataFrames.

Plots contain no statistics: every figure is drawn from a documented frame (see the
``*_COLUMNS`` contracts) produced by the engine, plus a few display options. All user
text (study labels, titles) is escaped with :func:`escape_text` before it reaches plotly.
Study traces carry ``customdata`` equal to the ``study_id`` so that dashboard clicks can
be mapped back to studies.
"""

from igmeta.plots._style import THEMES, ColumnSpec, Theme, apply_theme, escape_text
from igmeta.plots.forest import DEFAULT_TEXT_COLUMNS, FOREST_COLUMNS, forest_figure, forest_spec
from igmeta.plots.funnel import FUNNEL_COLUMNS, funnel_figure
from igmeta.plots.gosh import GOSH_COLUMNS, gosh_figure
from igmeta.plots.result import forest_from_result
from igmeta.plots.sensitivity import (
    BAUJAT_COLUMNS,
    CUMULATIVE_COLUMNS,
    LEAVE_ONE_OUT_COLUMNS,
    baujat_figure,
    cumulative_figure,
    leave_one_out_figure,
)

__all__ = [
    "BAUJAT_COLUMNS",
    "CUMULATIVE_COLUMNS",
    "DEFAULT_TEXT_COLUMNS",
    "FOREST_COLUMNS",
    "FUNNEL_COLUMNS",
    "GOSH_COLUMNS",
    "LEAVE_ONE_OUT_COLUMNS",
    "THEMES",
    "ColumnSpec",
    "Theme",
    "apply_theme",
    "baujat_figure",
    "cumulative_figure",
    "escape_text",
    "forest_figure",
    "forest_from_result",
    "forest_spec",
    "funnel_figure",
    "gosh_figure",
    "leave_one_out_figure",
]
