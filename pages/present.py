"""Presenter mode: a projector-friendly walk from the published analysis to alternatives
(drawn by :mod:`ui.presenter`)."""

from __future__ import annotations

from ui.bootstrap import require_app
from ui.presenter import render_presenter

require_app()
render_presenter()
