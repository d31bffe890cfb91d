"""Where the oracle tests find their metafor reference cases.

The project brief names ``../shared/oracle/cases`` (beside the checkout) as the oracle
folder, and more cases of the same schema may be added there; a checkout without
``../shared`` uses the copy kept in ``tests/oracle``. An environment variable overrides
both.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["case_dir"]

TESTS = Path(__file__).resolve().parents[1]
SHARED_ORACLE = TESTS.parents[1] / "shared" / "oracle"
REPO_ORACLE = TESTS / "oracle"


def case_dir(env_var: str, folder: str) -> Path:
    """The case folder: ``$env_var`` if set, else ``../shared/oracle/<folder>`` when it
    holds cases, else ``tests/oracle/<folder>``."""
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    shared = SHARED_ORACLE / folder
    if shared.is_dir() and any(shared.glob("*.json")):
        return shared
    return REPO_ORACLE / folder
