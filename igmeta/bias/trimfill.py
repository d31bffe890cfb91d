"""Duval and Tweedie's trim-and-fill method (metafor ``trimfill``).

The number of studies missing on one side of the funnel is estimated by iterating: trim
the k0 most extreme studies, re-estimate the centre from the rest, rank the centred
effects and apply the L0 or R0 estimator, until k0 stops changing. The k0 most extreme
studies are then mirrored about the final centre and the model is refitted to the
observed plus the filled studies.
"""

from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass, field

import numpy as np

from igmeta.bias._common import check_result, finite_studies, refuse_user_weights
from igmeta.design import InterceptDesign, MatrixDesign
from igmeta.kernel import fit_batch
from igmeta.pooling import meta_analysis
from igmeta.results import MetaResult
from igmeta.warnings import ConvergenceWarning, MetaAnalysisWarning, SmallSampleWarning, warn

__all__ = ["ESTIMATORS", "TrimFillResult", "trim_and_fill"]

#: Estimators of the number of missing studies.
ESTIMATORS = ("L0", "R0")

#: Up to this many studies the trimmed fits for every possible k0 are done in one batch.
_BATCH_MAX_K = 500


@dataclass(frozen=True, slots=True)
class TrimFillResult:
    """Trim-and-fill analysis (metafor's ``trimfill``).

    Attributes
    ----------
    k0 : int
        Estimated number of missing (filled) studies.
    se_k0 : float
        Standard error of k0: ``4 sqrt(var(Sr))/(2k - 1)`` for L0, ``sqrt(2 k0 + 2)`` for
        R0 (from the last iteration, with the unrounded k0, as metafor). NaN, with a
        warning, when the L0 variance formula is negative.
    p_k0 : float
        For R0, the p-value of the test of k0 = 0 (``0.5**(k0 + 1)``); NaN for L0.
    side : str
        ``"left"`` or ``"right"``: the side of the funnel where studies are missing.
    estimator : str
        ``"L0"`` or ``"R0"``.
    iterations : int
        Trim-and-fill iterations until k0 stopped changing.
    model : MetaResult
        The model refitted to the observed plus filled studies (same tau^2 estimator and
        control; every pooled field is there). When k0 = 0 it is the original model.
    original : MetaResult
        The model trim-and-fill was applied to.
    centre : float
        The final trimmed estimate: the filled studies mirror observed ones about it.
    filled_yi, filled_vi : ndarray
        Effects (``2 centre - yi``) and variances of the filled studies, on the analysis
        scale, in metafor's order.
    filled_study : tuple of str
        Labels of the filled studies (``"Filled 1"``, ...).
    mirrored_study : tuple of str
        Labels of the observed studies each filled study mirrors.
    warnings : tuple of str
        Plain-English warnings.
    """

    k0: int
    se_k0: float
    p_k0: float
    side: str
    estimator: str
    iterations: int
    model: MetaResult
    original: MetaResult
    centre: float
    filled_yi: np.ndarray
    filled_vi: np.ndarray
    filled_study: tuple[str, ...]
    mirrored_study: tuple[str, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def k_original(self) -> int:
        """Number of observed studies."""
        return self.original.k

    @property
    def estimate_original(self) -> float:
        """Pooled estimate before filling."""
        return self.original.estimate

    @property
    def tau2_original(self) -> float:
        """tau^2 before filling (0 for a common-effect model)."""
        return self.original.tau2

    @property
    def k(self) -> int:
        """Number of studies in the filled model (observed plus filled)."""
        return self.model.k

    @property
    def estimate(self) -> float:
        """Pooled estimate after filling."""
        return self.model.estimate

    def summary(self) -> dict[str, float]:
        """Headline numbers as a flat dict (analysis scale)."""
        return {
            "k0": self.k0,
            "se_k0": self.se_k0,
            "side": self.side,
            "estimate_original": self.estimate_original,
            "estimate": self.estimate,
            "ci_lower": self.model.ci_lower,
            "ci_upper": self.model.ci_upper,
        }


def _auto_side(yi: np.ndarray, vi: np.ndarray, method: str, control) -> str:
    """metafor's rule: the sign of the slope of ``rma(yi, vi, mods = ~ sqrt(vi))``."""
    x = np.sqrt(vi)
    if float(np.linalg.norm(x - x.mean())) < 1e-7 * float(np.linalg.norm(x)):
        raise ValueError(
            "The side of the funnel with missing studies cannot be chosen "
            "automatically when all studies have the same variance (the "
            "regression on the standard error is undefined). Pass "
            "side='left' or side='right'."
        )
    X = np.column_stack([np.ones(len(yi)), x])
    fit = fit_batch(MatrixDesign(yi, vi, X), method, "z", 0.95, control)
    return "right" if float(fit.beta[0, 1]) < 0 else "left"


class _TrimmedFits:
    """Estimates of the model fitted to the ``m`` smallest effects, for any ``m``.

    Up to :data:`_BATCH_MAX_K` studies every nested subset is fitted in one batched
    call (a lower-triangular mask); beyond it each needed subset is fitted on demand.
    """

    def __init__(self, y: np.ndarray, v: np.ndarray, method: str, control):
        self.y, self.v, self.method, self.control = y, v, method, control
        k = len(y)
        self.beta: dict[int, float] = {}
        self.converged: dict[int, bool] = {}
        if k <= _BATCH_MAX_K:
            mask = np.tri(k, k, dtype=bool)  # row m-1 keeps the m smallest effects
            self._store(np.arange(1, k + 1), mask)

    def _store(self, sizes: np.ndarray, mask: np.ndarray) -> None:
        fit = fit_batch(InterceptDesign(self.y, self.v, mask), self.method, "z", 0.95, self.control)
        for m, b, ok in zip(sizes, fit.beta[:, 0], fit.tau2.converged, strict=True):
            self.beta[int(m)] = float(b)
            self.converged[int(m)] = bool(ok)

    def __call__(self, m: int) -> tuple[float, bool]:
        if m not in self.beta:
            mask = np.zeros((1, len(self.y)), dtype=bool)
            mask[0, :m] = True
            self._store(np.array([m]), mask)
        return self.beta[m], self.converged[m]


def _ranks(centred: np.ndarray) -> np.ndarray:
    """``rank(|x|)`` with ties broken by position (R's ``ties.method = "first"``)."""
    order = np.argsort(np.abs(centred), kind="stable")
    ranks = np.empty(len(centred))
    ranks[order] = np.arange(1, len(centred) + 1)
    return ranks


def _estimate_k0(centred: np.ndarray, estimator: str) -> tuple[float, float]:
    """Unrounded k0 and its standard error for one iteration."""
    k = len(centred)
    ranks = _ranks(centred)
    signed = np.sign(centred) * ranks
    if estimator == "R0":
        # Largest rank among the non-positive centred values (metafor: among the negative
        # ones; the two agree whenever a negative value exists, since zeros rank first).
        nonpos = ranks[centred <= 0]
        largest = float(nonpos.max()) if nonpos.size else 0.0
        k0 = (k - largest) - 1
        se = float(np.sqrt(2 * max(0.0, k0) + 2))
        return k0, se
    sr = float(signed[signed > 0].sum())
    k0 = (4 * sr - k * (k + 1)) / (2 * k - 1)
    var_sr = (
        k * (k + 1) * (2 * k + 1)
        + 10 * k0**3
        + 27 * k0**2
        + 17 * k0
        - 18 * k * k0**2
        - 18 * k * k0
        + 6 * k**2 * k0
    ) / 24
    se = 4 * np.sqrt(var_sr) / (2 * k - 1) if var_sr >= 0 else float("nan")
    return k0, float(se)


def _round_half_even(x: float) -> int:
    return int(np.round(x))


def trim_and_fill(
    res: MetaResult,
    estimator: str = "L0",
    side: str | None = None,
    maxiter: int = 100,
    *,
    test: str | None = None,
    level: float | None = None,
) -> TrimFillResult:
    """Duval and Tweedie's trim-and-fill method (metafor's ``trimfill``).

    Parameters
    ----------
    res : MetaResult
        An inverse-variance model without moderators (common-effect or random-effects).
        Its ``yi``, ``vi``, ``method`` and ``control`` are used throughout.
    estimator : {"L0", "R0"}
        Estimator of the number of missing studies.
    side : {"left", "right"} or None
        Side of the funnel where studies are missing. ``None`` (default) chooses it as
        metafor does: "right" if the slope of ``rma(yi, vi, mods = ~ sqrt(vi))`` (same
        tau^2 estimator) is negative, else "left".
    maxiter : int
        Maximum number of trim-and-fill iterations.
    test, level : optional
        Test and confidence level of the filled model. By default (None) they are
        metafor 3.8-1's: when studies are filled the model is refitted with a z-test and
        95% level (metafor's ``trimfill`` does not pass them on), and when k0 = 0 the
        original model is returned unchanged. Give them to choose explicitly (e.g.
        ``test=res.test, level=res.level``).

    Returns
    -------
    TrimFillResult

    Raises
    ------
    ValueError
        With fewer than 3 studies, for Mantel-Haenszel/Peto models, when the side cannot
        be chosen automatically (all variances equal), or when k0 keeps changing for
        ``maxiter`` iterations.

    Notes
    -----
    For side "right" the effects are negated first (and the results mapped back). Sort
    the k effects ascending. Iteration: fit the model (same estimator) to the ``k - k0``
    smallest effects giving ``beta``; centre all k effects, ``c_i = y_i - beta``; rank
    ``|c_i|`` (ties by position); with ``Sr`` the sum of the ranks of the positive
    ``c_i`` and ``gamma`` the largest rank of a negative ``c_i``:

    * ``L0 = (4 Sr - k(k+1))/(2k - 1)``, ``var(Sr) = [k(k+1)(2k+1) + 10 L0^3 + 27 L0^2
      + 17 L0 - 18 k L0^2 - 18 k L0 + 6 k^2 L0]/24``, ``se = 4 sqrt(var Sr)/(2k - 1)``;
    * ``R0 = k - gamma - 1``, ``se = sqrt(2 max(0, R0) + 2)``, ``p = 0.5^(k0 + 1)``.

    ``k0 = max(0, round(.))`` (half to even, like R) until it stops changing. The filled
    effects are ``2 beta - y_i`` for the k0 largest effects, with their variances.

    References
    ----------
    Duval S, Tweedie R (2000). Trim and fill: a simple funnel-plot-based method of testing
    and adjusting for publication bias in meta-analysis. Biometrics 56:455-463.
    doi:10.1111/j.0006-341X.2000.00455.x
    Duval S, Tweedie R (2000). A nonparametric "trim and fill" method of accounting for
    publication bias in meta-analysis. J Am Stat Assoc 95:89-98.
    doi:10.1080/01621459.2000.10473905
    """
    check_result(res, "Trim-and-fill")
    refuse_user_weights(
        res, "Trim-and-fill", "the filled studies would need weights of their own, not done here."
    )
    estimator = estimator.upper()
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    if res.method in ("MH", "PETO"):
        raise ValueError(
            "Trim-and-fill needs an inverse-variance model (common-effect or "
            "random-effects), not a Mantel-Haenszel or Peto model."
        )
    collected: list[str] = []
    yi, vi, study = finite_studies(res)
    k = len(yi)
    if k < 3:
        raise ValueError(f"Trim-and-fill needs at least 3 studies; this analysis has {k}.")
    control = res.control
    if side is None:
        side = _auto_side(yi, vi, res.method, control)
    else:
        side = side.lower()
        if side not in ("left", "right"):
            raise ValueError(f"side must be 'left', 'right' or None, got {side!r}")
    flip = -1.0 if side == "right" else 1.0
    y = flip * yi
    order = np.argsort(y, kind="stable")
    y, v = y[order], vi[order]
    labels = np.asarray(study, dtype=object)[order]

    fits = _TrimmedFits(y, v, res.method, control)
    k0, k0_previous, iterations = 0, -1, 0
    beta, se_k0, centred = float("nan"), float("nan"), y
    history: list[int] = []
    while k0 != k0_previous:
        k0_previous = k0
        iterations += 1
        if iterations > maxiter:
            raise ValueError(
                f"Trim-and-fill did not converge in {maxiter} iterations (the "
                f"estimated number of missing studies went "
                f"{' -> '.join(map(str, history))})."
            )
        beta, converged = fits(k - k0)
        if not converged:
            warn(
                ConvergenceWarning,
                f"The {res.method} fit to the {k - k0} trimmed studies "
                "did not converge; trim-and-fill may be inaccurate.",
                collected,
            )
        centred = y - beta
        # Effects equal to the centre up to rounding count as ties with it (sign 0), so
        # that e.g. identical effects give k0 = 0 rather than a rounding-noise answer.
        scale = max(float(np.max(np.abs(y))), abs(beta))
        ranked = np.where(np.abs(centred) <= 64 * np.finfo(float).eps * scale, 0.0, centred)
        raw, se_k0 = _estimate_k0(ranked, estimator)
        k0 = max(0, _round_half_even(raw))
        history.append(k0)
    if np.isnan(se_k0):
        warn(
            SmallSampleWarning,
            "The standard error of the L0 estimate is undefined here "
            "(its variance formula is negative for these ranks).",
            collected,
        )
    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else float("nan")

    if k0 > 0:
        tail = slice(k - k0, k)
        filled_yi = flip * -((centred - beta)[tail])
        filled_vi = v[tail].copy()
        mirrored = tuple(labels[tail])
    else:
        filled_yi, filled_vi, mirrored = np.zeros(0), np.zeros(0), ()
    filled_study = tuple(f"Filled {j + 1}" for j in range(k0))

    if k0 > 0 and test is None and level is None and (res.test != "z" or res.level != 0.95):
        warn(
            MetaAnalysisWarning,
            "As in metafor, the model with the filled studies uses a "
            "z-test and a 95% confidence level, not the original model's settings; pass "
            "test= and level= to choose them.",
            collected,
        )
    if k0 > 0 or test is not None or level is not None:
        ni = res.transform_ni
        if ni is not None and k0 > 0:
            ni = np.asarray(ni, dtype=float)
            if len(ni) == k:
                ni = np.concatenate([ni, ni[order][k - k0 :]])
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always", MetaAnalysisWarning)
            model = meta_analysis(
                yi=np.concatenate([yi, filled_yi]),
                vi=np.concatenate([vi, filled_vi]),
                study=tuple(study) + filled_study,
                measure=res.measure,
                method=res.method,
                test=test if test is not None else "z",
                level=level if level is not None else 0.95,
                transform=res.transform,
                transform_ni=ni,
                control=control,
            )
        for item in caught:
            if issubclass(item.category, ConvergenceWarning):
                warn(item.category, str(item.message), collected)
    else:
        model = res
    return TrimFillResult(
        k0=k0,
        se_k0=float(se_k0),
        p_k0=float(p_k0),
        side=side,
        estimator=estimator,
        iterations=iterations,
        model=model,
        original=res,
        centre=float(flip * beta),
        filled_yi=filled_yi,
        filled_vi=filled_vi,
        filled_study=filled_study,
        mirrored_study=mirrored,
        warnings=tuple(dict.fromkeys(collected)),
    )
