"""Runners that turn a metafor oracle case into igmeta's numbers, by analysis type.

Each module of this package registers functions with :func:`runner`; a runner takes the
case (the parsed JSON object) and returns a dict shaped like the case's ``expected``
block, with metafor's field names. ``tests/test_oracle.py`` compares the two.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

RUNNERS: dict[str, Callable[[dict], dict]] = {}


def runner(*analyses: str):
    """Register the decorated function as the runner of ``analyses``."""

    def register(func):
        for analysis in analyses:
            if analysis in RUNNERS:
                raise RuntimeError(f"two runners for {analysis!r}")
            RUNNERS[analysis] = func
        return func

    return register


def load_all() -> dict[str, Callable[[dict], dict]]:
    """Import every runner module of this package and return the registry."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return RUNNERS
