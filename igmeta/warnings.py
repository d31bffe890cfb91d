"""Statistical warning classes.

Every warning the engine raises is an instance of :class:`MetaAnalysisWarning`, so a
front end can catch the whole family, show the message in plain words, and keep going.
Results also carry the messages they produced (``result.warnings``), so a cached result
can be shown with its warnings without re-running the computation.
"""

from __future__ import annotations

import warnings as _warnings

__all__ = [
    "BoundaryWarning",
    "ConvergenceWarning",
    "DroppedStudiesWarning",
    "MetaAnalysisWarning",
    "SmallSampleWarning",
    "SparseDataWarning",
    "warn",
]


class MetaAnalysisWarning(UserWarning):
    """Base class of every statistical warning issued by igmeta."""


class ConvergenceWarning(MetaAnalysisWarning):
    """An iterative estimator (REML, ML, PM, EB, a root finder) did not converge."""


class SparseDataWarning(MetaAnalysisWarning):
    """Zero cells were corrected, or studies without events were set aside."""


class SmallSampleWarning(MetaAnalysisWarning):
    """Too few studies for the requested quantity (e.g. heterogeneity with k = 1)."""


class BoundaryWarning(MetaAnalysisWarning):
    """The between-study variance estimate lies on the boundary of its space (tau^2 = 0)."""


class DroppedStudiesWarning(MetaAnalysisWarning):
    """Studies were left out of a fit because their effect size or variance is undefined."""


def warn(category: type[MetaAnalysisWarning], message: str, collected: list[str] | None) -> None:
    """Issue ``message`` as a Python warning and remember it for the result object.

    Parameters
    ----------
    category : type of MetaAnalysisWarning
        The warning class.
    message : str
        A plain-English explanation for the user.
    collected : list of str or None
        The list of messages the result will carry; appended to when given.
    """
    if collected is not None:
        collected.append(message)
    _warnings.warn(message, category, stacklevel=3)
