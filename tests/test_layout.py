"""The package layout: the library never imports the app services or Streamlit.

``igmeta/`` is a library (the modules at its top and its subpackages ``bias``, ``glmm``,
``plots``, ``datasets``) with the dashboard's services in ``igmeta/app/``. Imports go one
way: ``ui/`` and ``pages/`` -> ``igmeta.app`` -> the library. Checked on the source (every
``import``, at module level or inside functions), so a lazy import cannot hide a
dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "igmeta"
APP = PACKAGE / "app"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (``from a import b`` gives ``a`` and ``a.b``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _library_files() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if APP not in p.parents]


def _is_under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_layout_has_a_library_and_an_app():
    """The scan below sees both halves (a moved folder would make it vacuous)."""
    library = {_module_name(p) for p in _library_files()}
    assert {"igmeta.pooling", "igmeta.results", "igmeta.plots.forest"} <= library
    app = {_module_name(p) for p in APP.rglob("*.py")}
    assert {"igmeta.app.pipeline.analysis", "igmeta.app.intake.io"} <= app
    assert {"igmeta.app.outputs.exports", "igmeta.app.store.scenarios"} <= app


@pytest.mark.parametrize("path", _library_files(), ids=_module_name)
def test_library_module_imports_neither_the_app_nor_streamlit(path):
    bad = sorted(
        name
        for name in _imports(path)
        if _is_under(name, "igmeta.app") or _is_under(name, "streamlit") or _is_under(name, "ui")
    )
    assert not bad, f"{_module_name(path)} imports {bad}"


@pytest.mark.parametrize("path", sorted(APP.rglob("*.py")), ids=_module_name)
def test_app_service_imports_no_streamlit_code(path):
    bad = sorted(
        name
        for name in _imports(path)
        if _is_under(name, "streamlit") or _is_under(name, "ui") or _is_under(name, "pages")
    )
    assert not bad, f"{_module_name(path)} imports {bad}"


def test_the_catch_would_fail_on_a_bad_import(tmp_path):
    """The scan sees imports inside functions (what a lazy import would look like)."""
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from igmeta.app.pipeline import analysis\n", "utf-8")
    assert "igmeta.app.pipeline" in _imports(module)
    assert _is_under("igmeta.app.pipeline", "igmeta.app")
    assert not _is_under("igmeta.application", "igmeta.app")


def _igmeta_graph() -> dict[str, set[str]]:
    """igmeta module -> the igmeta modules it imports (packages count as modules)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in _imports(path) if m in files and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[frozenset[str]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_in_igmeta():
    assert not _cycles(_igmeta_graph())


def test_the_cycle_check_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {frozenset("abc")}
