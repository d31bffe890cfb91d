"""Scenarios & sharing: save, open, compare and share analyses; reproducible exports."""

from __future__ import annotations

from ui import state
from ui.bootstrap import require_app
from ui.scenarios_page import render_scenarios

require_app()

render_scenarios(state.get_table(), state.get_settings())
