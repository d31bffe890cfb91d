"""Why tools disagree: the current analysis under metafor, RevMan 5, RevMan Web and R meta."""

from __future__ import annotations

from ui.bootstrap import require_app

require_app()

from ui import state  # noqa: E402
from ui.conventions_page import render_conventions  # noqa: E402

render_conventions(state.get_table(), state.get_settings())
