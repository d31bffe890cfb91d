"""Optional dependencies, imported where they are used.

``import igmeta`` needs only numpy, scipy and pandas. Excel files (openpyxl), figures
(plotly) and static image export (kaleido) come with the extras declared in
``pyproject.toml``; :func:`import_optional` imports one of them and, when it is missing,
raises an :class:`ImportError` that names the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingOptionalDependency", "import_optional"]


class MissingOptionalDependency(ImportError):
    """An optional package is not installed; the message says which extra provides it."""


def import_optional(name: str, extra: str, purpose: str) -> ModuleType:
    """Import the optional module ``name`` or explain how to install it.

    Parameters
    ----------
    name : str
        Module to import, e.g. ``"openpyxl"``.
    extra : str
        The igmeta extra that installs it, e.g. ``"export"``.
    purpose : str
        What needs it, as the start of a sentence, e.g. ``"Reading Excel files"``.

    Returns
    -------
    module

    Raises
    ------
    MissingOptionalDependency
        When the module cannot be imported.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingOptionalDependency(
            f"{purpose} needs the Python package '{name}', which is not installed. "
            f"Install it with: pip install 'igmeta[{extra}]' (or: pip install -r requirements.txt)."
        ) from exc
