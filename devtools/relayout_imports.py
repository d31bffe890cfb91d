"""Rewrite pre-``igmeta/app`` module paths to the current layout (for merging old branches).

Code written before the layout of ``docs/ARCHITECTURE.md`` imports e.g. ``igmeta.analysis``
or ``igmeta.schema``; after merging such a branch, run ``python devtools/relayout_imports.py``
from the checkout: every tracked ``.py``/``.md``/... file has ``igmeta.<old>`` and
``igmeta/<old>.py`` replaced by the new path (``igmeta.app.pipeline.analysis``, ...).
Text only: it moves no file and is idempotent. Then run ``ruff check --fix`` (import order)
and ``ruff format``.

A few names moved to another module as well, and need fixing by hand (the import then
fails loudly): the result-only forest helpers (``result_forest_frame``, ``result_footer``,
``result_display_scale``, ``model_label``, ``to_display_scale``) are in
``igmeta.result_frames``; the scenario records (``Scenario``, ``BUILTIN_PUBLISHED``,
``table_digest``, ``clean_name``, ``MAX_NAME_CHARS``, ``TABLE_FORMAT``, ...) in
``igmeta.app.store.records``; the upload logic of ``ui.data_page`` in
``igmeta.app.intake.upload`` / ``cells`` / ``row_status`` (widgets: ``ui.upload``,
``ui.column_mapping``); ``Outcome``, ``BiasResults``, ``cumulative_order`` and the GOSH
constants of ``ui.compute_extra`` in ``igmeta.app.pipeline.diagnostics``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MOVES = {
    "io": "app.intake.io",
    "schema": "app.intake.schema",
    "validation": "app.intake.validation",
    "paste": "app.intake.paste",
    "revman": "app.intake.revman",
    "analysis": "app.pipeline.analysis",
    "conventions": "app.pipeline.conventions",
    "published": "app.pipeline.published",
    "coverage": "app.pipeline.coverage",
    "metareg": "app.pipeline.metareg",
    "exports": "app.outputs.exports",
    "safe_export": "app.outputs.safe_export",
    "report": "app.outputs.report",
    "report_content": "app.outputs.report_content",
    "report_docx": "app.outputs.report_docx",
    "codegen": "app.outputs.codegen",
    "methods_text": "app.outputs.methods_text",
    "tables": "app.outputs.tables",
    "presenter": "app.outputs.presenter",
    "clinical": "app.evidence.clinical",
    "grade": "app.evidence.grade",
    "what_if_trial": "app.evidence.what_if_trial",
    "store": "app.store",
    "scenarios": "app.store.scenarios",
}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".sh", ".txt", ".R", ".yml", ".cfg"}
#: Historical records and copied reference data keep their text.
SKIPPED = ("benchmarks/results/", "tests/oracle/")
names = "|".join(sorted(map(re.escape, MOVES), key=len, reverse=True))
dotted = re.compile(rf"(?<![\w.])igmeta\.({names})(?![\w])")
slashed = re.compile(rf"(?<![\w/])igmeta/({names})(\.py|/|(?![\w]))")
from_import = re.compile(rf"^(\s*)from igmeta import ({names})\b", re.M)


def fix(text: str) -> str:
    """``text`` with every old module path replaced."""
    text = from_import.sub(
        lambda m: (
            f"{m.group(1)}from igmeta.{MOVES[m.group(2)].rsplit('.', 1)[0]} import {m.group(2)}"
        ),
        text,
    )
    text = dotted.sub(lambda m: "igmeta." + MOVES[m.group(1)], text)
    text = slashed.sub(lambda m: "igmeta/" + MOVES[m.group(1)].replace(".", "/") + m.group(2), text)
    return text


def main() -> None:
    """Rewrite every tracked text file of the checkout in place."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for f in files:
        p = ROOT / f
        if p.suffix not in TEXT_SUFFIXES and p.name not in {"Dockerfile", "run"}:
            continue
        if not p.is_file() or f.startswith(SKIPPED) or f == "devtools/relayout_imports.py":
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = fix(text)
        if new != text:
            p.write_text(new, encoding="utf-8")
            print("rewrote", f)


if __name__ == "__main__":
    main()
