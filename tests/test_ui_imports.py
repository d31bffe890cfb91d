"""The ui/ modules import each other in one direction only (no import cycles)."""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[1] / "ui"


def _ui_imports(path: Path) -> set[str]:
    """Names of the ui modules ``path`` imports anywhere (module level or in functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "ui":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("ui."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("ui.")}
    return found


def test_no_import_cycles_between_ui_modules():
    graph = {
        path.stem: _ui_imports(path) & {p.stem for p in UI.glob("*.py")} for path in UI.glob("*.py")
    }
    cycles = []

    def visit(module: str, trail: tuple[str, ...]) -> None:
        for imported in sorted(graph.get(module, ())):
            if imported in trail:
                cycles.append(" -> ".join((*trail[trail.index(imported) :], imported)))
            elif len(trail) < len(graph):
                visit(imported, (*trail, imported))

    for module in sorted(graph):
        visit(module, (module,))
    assert not cycles, sorted(set(cycles))


def test_state_does_not_import_autosave():
    """ui.autosave registers its saver with ui.state (state.on_change), not the reverse."""
    assert "autosave" not in _ui_imports(UI / "state.py")
