"""Helpers shared by the publication-bias methods."""

from __future__ import annotations

import numpy as np

from igmeta.results import MetaRegressionResult, MetaResult

__all__ = ["check_result", "finite_studies", "refuse_user_weights"]


def check_result(res, what: str) -> None:
    """Raise a clear error unless ``res`` is an intercept-only :class:`MetaResult`."""
    if isinstance(res, MetaRegressionResult):
        raise TypeError(
            f"{what} applies to a pooled model without moderators; got a meta-regression"
        )
    if not isinstance(res, MetaResult):
        raise TypeError(
            f"{what} needs a MetaResult (the output of igmeta.meta_analysis), "
            f"got {type(res).__name__}"
        )


def refuse_user_weights(res, what: str, reason: str) -> None:
    """Raise a plain error when ``res`` was fitted with user weights (GENQ), for the
    methods that are not available for such fits (``reason`` says why)."""
    if getattr(res, "user_weights", None) is not None:
        raise ValueError(
            f"{what} is not available for a fit with user weights (the GENQ estimator): "
            f"{reason} Choose another tau\u00b2 estimator to run it."
        )


def finite_studies(res: MetaResult) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The studies of ``res`` with a finite effect and a positive variance.

    Returns
    -------
    yi, vi : ndarray
    study : tuple of str
    """
    yi = np.asarray(res.yi, dtype=float)
    vi = np.asarray(res.vi, dtype=float)
    study = (
        tuple(res.study)
        if len(res.study) == len(yi)
        else tuple(f"Study {i + 1}" for i in range(len(yi)))
    )
    ok = np.isfinite(yi) & np.isfinite(vi)
    if not ok.all():
        yi, vi = yi[ok], vi[ok]
        study = tuple(np.asarray(study, dtype=object)[ok])
    if (vi <= 0).any():
        raise ValueError(
            "Every study needs a positive sampling variance for this method; "
            "some variances are zero."
        )
    return yi, vi, study
