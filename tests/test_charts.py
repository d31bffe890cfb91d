"""The forest plot reaches Streamlit without plotly validation and unchanged.

``ui.charts.plotly_chart`` skips ``st.plotly_chart``'s own validation and copy of the
spec; these tests pin that the JSON Streamlit sends is what the validated path sends.
"""

from __future__ import annotations

import base64
import copy
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools
import pytest

from igmeta.app.outputs.exports import forest_for
from igmeta.app.outputs.tables import ForestLabels
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from tests.test_schema import _uploaded_bcg
from ui.charts import FinishedFigure


def _decoded(value):
    """JSON with plotly's typed arrays (``{"dtype", "bdata"}``) read back as lists.

    Validation turns lists of numbers into numpy arrays, which plotly sends base64-coded;
    the browser decodes them to the same numbers that a plain list carries.
    """
    if isinstance(value, dict):
        if set(value) == {"dtype", "bdata"}:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            return array.tolist()
        return {key: _decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    return value


def _streamlit_json(figure_or_data) -> dict:
    """What ``st.plotly_chart`` serialises for its argument (its own two calls), decoded."""
    figure = plotly.tools.return_figure_from_figure_or_data(figure_or_data, validate_figure=True)
    return _decoded(json.loads(pio.to_json(figure, validate=False)))


def _cases():
    ig = load_ig_pnp_canonical()
    yield "published", ig, PUBLISHED_COMPARISON
    yield "metafor defaults", ig, AnalysisSettings()
    yield "bcg subgroups", _uploaded_bcg(), AnalysisSettings(subgroup_column="alloc")


@pytest.mark.parametrize("name,table,settings", list(_cases()), ids=lambda v: str(v)[:20])
def test_finished_spec_serialises_as_the_validated_figure(name, table, settings):
    bundle = run_analysis(table, settings)
    labels = ForestLabels(treatment="IG <b>", control="Placebo")
    spec = forest_for(bundle, table, labels=labels, width_px=960, as_spec=True)
    validated = _streamlit_json(forest_for(bundle, table, labels=labels, width_px=960))
    assert isinstance(spec, dict) and spec["data"]
    before = copy.deepcopy(spec)
    assert _streamlit_json(FinishedFigure(spec)) == validated
    # Validating the plain spec (st.plotly_chart's path for a dict) changes nothing either.
    assert _streamlit_json(copy.deepcopy(spec)) == validated
    # Serialising did not change the spec that the cache keeps.
    assert json.dumps(spec, default=str, sort_keys=True) == json.dumps(
        before, default=str, sort_keys=True
    )


def test_finished_figure_builds_no_plotly_objects():
    spec = {"data": [{"type": "scatter", "x": [1], "y": [2]}], "layout": {"height": 300}}
    finished = FinishedFigure(spec)
    assert isinstance(finished, go.Figure)
    assert finished.to_dict() is spec
