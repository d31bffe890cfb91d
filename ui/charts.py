"""Hand finished plotly specs to Streamlit without paying for plotly's objects again.

``st.plotly_chart`` turns whatever it gets into a dict before it serialises it: a plain
dict is validated by building a ``plotly.graph_objects.Figure`` from it, and a Figure is
deep-copied by ``Figure.to_dict()``. For the forest plot, whose spec igmeta builds from
plain dicts already (:func:`igmeta.plots.forest_spec`), that is 20 to 40 ms at k = 50
and more with more rows, on every script run that draws it -- work that cannot change the
chart: the JSON sent to the browser is the same (``tests/test_charts.py`` compares it).

:func:`plotly_chart` wraps the spec in :class:`FinishedFigure`, a ``Figure`` whose
``to_dict()`` is the spec itself, so Streamlit takes it as already validated and sends it
as it is.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

__all__ = ["FinishedFigure", "plotly_chart"]


class FinishedFigure(go.Figure):
    """A finished plotly spec (``{"data": [...], "layout": {...}}``) seen as a Figure.

    Only :meth:`to_dict` works: the object exists to be handed to ``st.plotly_chart``,
    which calls nothing else on it. No plotly object is built and nothing is copied.
    """

    def __init__(self, spec: dict) -> None:  # noqa: D107 - plotly's own __init__ is skipped
        object.__setattr__(self, "_finished_spec", spec)

    def to_dict(self) -> dict:
        """The spec itself (not a copy)."""
        return self._finished_spec


def plotly_chart(spec: dict, **options):
    """``st.plotly_chart`` of a finished spec (same keyword options); returns its event."""
    return st.plotly_chart(FinishedFigure(spec), **options)
