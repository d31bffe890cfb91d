"""Sensitivity analyses: leave-one-out, cumulative meta-analysis and influence diagnostics.

Every analysis here is one batch of fits through :func:`igmeta.kernel.fit_batch`: an
:class:`~igmeta.design.InterceptDesign` whose mask row ``b`` selects the studies of fit
``b`` (leave-one-out: the complement of the identity; cumulative: a lower-triangular
mask). Each fit uses the method, test, level and control of the result it was given,
exactly as metafor's ``leave1out``, ``cumul`` and ``influence`` refit ``rma`` with the
settings of the original model.

The module also holds the batching engine shared with :mod:`igmeta.gosh` and
:mod:`igmeta.permutation` (:func:`batched_fits`): it splits a large batch into chunks that
fit in the CPU cache, runs the chunks on a thread pool, and estimates an iterative tau^2
(REML, ML, PM, EB) in *stages* -- every fit first gets a small iteration budget, and only
the fits that have not converged are re-run, together, with a larger one. A fit's result
does not depend on the other fits of its batch, so staging changes the time taken, not
the numbers.

References
----------
Viechtbauer W, Cheung MWL (2010). Outlier and influence diagnostics for meta-analysis.
Res Synth Methods 1:112-125. doi:10.1002/jrsm.11
Baujat B, Mahe C, Pignon JP, Hill C (2002). A graphical method for exploring
heterogeneity in meta-analyses. Stat Med 21:2641-2652. doi:10.1002/sim.1221
Lau J, Antman EM, Jimenez-Silva J, et al. (1992). Cumulative meta-analysis of therapeutic
trials for myocardial infarction. N Engl J Med 327:248-254.
doi:10.1056/NEJM199207233270406
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from scipy import stats

from igmeta.bias._common import refuse_user_weights
from igmeta.design import InterceptDesign, MatrixDesign
from igmeta.estimators import DEFAULT_CONTROL, ITERATIVE_METHODS, Tau2Estimate, estimate_tau2
from igmeta.kernel import FitArrays, fit_batch
from igmeta.progress import ProgressCallback, ProgressTracker
from igmeta.results import MetaResult
from igmeta.sensitivity_counts import COUNT_METHODS, refit_counts
from igmeta.warnings import ConvergenceWarning, warn

__all__ = [
    "FIT_COLUMNS",
    "batched_fits",
    "chunk_rows",
    "cumulative",
    "fit_settings",
    "influence",
    "leave_one_out",
    "staged_tau2",
    "warn_not_converged",
]

#: Iteration budgets of the staged tau^2 estimation (the last stage uses ``maxiter``).
_STAGES = (24, 128, 512)
#: Target number of (fit, study) cells per chunk: small enough to stay in the CPU cache.
_CELLS_PER_CHUNK = 1 << 17
#: metafor's tolerance for "numerically zero" residuals in ``influence``.
_EPS100 = 100 * np.finfo(float).eps

#: Column order of the leave-one-out and cumulative tables.
FIT_COLUMNS = (
    "estimate",
    "se",
    "statistic",
    "pval",
    "ci_lower",
    "ci_upper",
    "q",
    "q_pval",
    "tau2",
    "i2",
    "h2",
    "pi_lower",
    "pi_upper",
)


# --------------------------------------------------------------------------------------
# Settings and checks
# --------------------------------------------------------------------------------------


def fit_settings(res) -> dict:
    """The fitting settings of a result: method, test, level and control.

    Parameters
    ----------
    res : MetaResult or MetaRegressionResult

    Returns
    -------
    dict
        Keys ``method``, ``test``, ``level`` (a fraction), ``control`` (the result's
        control merged over :data:`igmeta.estimators.DEFAULT_CONTROL`) and ``weights``
        (the user weights of a weighted fit, one per study of ``res``, else None).
    """
    method = str(res.method).upper()
    if method in ("MH", "PETO"):
        raise ValueError(
            f"{res.method} results cannot be refitted study by study here; use an "
            "inverse-variance model (method='FE' or a tau\u00b2 estimator) instead"
        )
    method = "FE" if method in ("EE", "CE") else method
    control = {**DEFAULT_CONTROL, **dict(res.control or {})}
    return {
        "method": method,
        "test": str(res.test).lower(),
        "level": float(res.level),
        "control": control,
        "weights": getattr(res, "user_weights", None),
    }


def _pools_counts(res) -> bool:
    """Whether ``res`` is a Mantel-Haenszel or Peto model (refitted table by table)."""
    return isinstance(res, MetaResult) and str(res.method).upper() in COUNT_METHODS


def _check_tables(res: MetaResult, what: str, min_k: int) -> None:
    if len(res.study) < min_k:
        raise ValueError(f"{what} needs at least {min_k} studies; the model has {len(res.study)}")


def _check_intercept_only(res, what: str, min_k: int = 2) -> None:
    if not isinstance(res, MetaResult):
        raise TypeError(
            f"{what} needs a MetaResult from igmeta.meta_analysis() (models without moderators)"
        )
    if res.k < min_k:
        raise ValueError(f"{what} needs at least {min_k} studies; the model has {res.k}")


# --------------------------------------------------------------------------------------
# The batching engine
# --------------------------------------------------------------------------------------


def _workers() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 4))


def chunk_rows(k: int, p: int = 1) -> int:
    """Rows per chunk for fits of ``k`` studies (``p > 1``: a k x k matrix per fit)."""
    cells = k * k if p > 1 else k
    return max(16, _CELLS_PER_CHUNK // max(cells, 1))


def _chunks(rows: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, rows.size, size):
        yield rows[start : start + size]


def _map(func: Callable, pieces: list, parallel: bool) -> list:
    if parallel and len(pieces) > 1 and _workers() > 1:
        with ThreadPoolExecutor(max_workers=_workers()) as pool:
            return list(pool.map(func, pieces))
    return [func(piece) for piece in pieces]


def staged_tau2(
    make_design: Callable[[np.ndarray], object],
    n: int,
    method: str,
    control: Mapping[str, float],
    chunk: int,
    parallel: bool = True,
    tracker: ProgressTracker | None = None,
) -> Tau2Estimate:
    """tau^2 for ``n`` fits, with staged iteration budgets for iterative estimators.

    Parameters
    ----------
    make_design : callable
        ``make_design(rows)`` returns the design of the fits with (global) indices
        ``rows``.
    n : int
        Number of fits.
    method : str
        tau^2 estimator code.
    control : mapping
        ``threshold``, ``tol``, ``maxiter``.
    chunk : int
        Rows per call of the estimator.
    parallel : bool
        Run chunks on a thread pool.
    tracker : ProgressTracker, optional
        Advanced by the rows of each chunk of the first stage (later stages, on the few
        slow fits, only let it cancel).

    Returns
    -------
    Tau2Estimate
        Identical to ``estimate_tau2(make_design(arange(n)), method, control)``.

    Notes
    -----
    The iterative estimators (REML, ML Fisher scoring; the PM/EB Q-equation solver) keep
    iterating a batch until its slowest fit has converged; a few fits of a GOSH or
    permutation batch need hundreds of iterations, and each iteration of a chunk costs a
    fixed Python overhead however few fits are still active. Here every fit first gets 24
    iterations; the fits that have not converged are re-run from the start, pooled across
    all chunks, with 128, then 512, then ``maxiter`` iterations. A fit's iterations do not
    depend on the other fits of its batch, so the results are those of one single batch:
    the slow tail is iterated in a few large batches instead of in every chunk.
    """
    maxiter = int(control.get("maxiter", DEFAULT_CONTROL["maxiter"]))
    iterative = method in ITERATIVE_METHODS
    caps = [cap for cap in _STAGES if cap < maxiter] + [maxiter] if iterative else [maxiter]
    tau2 = np.zeros(n)
    se = np.full(n, np.nan)
    converged = np.zeros(n, bool)
    iterations = np.zeros(n, int)
    todo = np.arange(n)
    tracker = tracker or ProgressTracker(None, 1)
    for stage, cap in enumerate(caps):
        stage_control = {**control, "maxiter": cap}

        def run(rows, stage_control=stage_control, counted=stage == 0):
            tracker.check()
            est = estimate_tau2(make_design(rows), method, stage_control)
            if counted:
                tracker.advance(rows.size)
            return rows, est

        for rows, est in _map(run, list(_chunks(todo, chunk)), parallel):
            tau2[rows] = est.tau2
            se[rows] = est.se_tau2
            converged[rows] = est.converged
            iterations[rows] = est.iterations
        todo = todo[~converged[todo]]
        if todo.size == 0:
            break
    return Tau2Estimate(tau2, se, converged, iterations)


def _slice_tau2(est: Tau2Estimate, rows: np.ndarray) -> Tau2Estimate:
    return Tau2Estimate(
        est.tau2[rows], est.se_tau2[rows], est.converged[rows], est.iterations[rows]
    )


def _replace_rows(fit: FitArrays, other: FitArrays, rows: np.ndarray) -> FitArrays:
    """``fit`` with the entries of ``rows`` taken from ``other`` (a fit of those rows)."""
    changes = {}
    for name in fit.__dataclass_fields__:
        value = getattr(fit, name)
        if isinstance(value, np.ndarray):
            new = value.copy()
            new[rows] = getattr(other, name)
            changes[name] = new
    return dataclasses.replace(fit, **changes)


def _fit_chunk(design, settings: dict, tau2: Tau2Estimate | None, qm_index) -> FitArrays:
    """``fit_batch`` on one chunk; fits with k <= p under knha use a z-test, as in metafor
    (``rma`` switches to ``test="z"`` when k = 1)."""
    fit = fit_batch(
        design,
        settings["method"],
        settings["test"],
        settings["level"],
        settings["control"],
        qm_index=qm_index,
        tau2=tau2,
        weights=settings.get("weights"),
    )
    if settings["test"] == "knha":
        small = np.flatnonzero(design.k <= design.p)
        if small.size:
            sub = _take(design, small)
            est = Tau2Estimate(
                fit.tau2.tau2[small],
                fit.tau2.se_tau2[small],
                fit.tau2.converged[small],
                fit.tau2.iterations[small],
            )
            z_fit = fit_batch(
                sub,
                settings["method"],
                "z",
                settings["level"],
                settings["control"],
                qm_index=qm_index,
                tau2=est,
                weights=settings.get("weights"),
            )
            fit = _replace_rows(fit, z_fit, small)
    return fit


def _take(design, rows: np.ndarray):
    """The fits ``rows`` of a design, as a new design."""
    if isinstance(design, MatrixDesign):
        return MatrixDesign(design.y[rows], design.v[rows], design.X, design.mask[rows])
    return InterceptDesign(design.y[rows], design.v[rows], design.mask[rows])


def batched_fits(
    make_design: Callable[[np.ndarray], object],
    n: int,
    settings: dict,
    extract: Callable[[FitArrays], dict],
    *,
    chunk: int,
    qm_index: Sequence[int] | None = None,
    parallel: bool = True,
    progress: ProgressCallback | None = None,
) -> dict[str, np.ndarray]:
    """Fit ``n`` models in chunks and collect selected outputs.

    Parameters
    ----------
    make_design : callable
        ``make_design(rows)`` returns the design (``InterceptDesign`` or
        ``MatrixDesign``) of the fits with global indices ``rows`` (an int array).
    n : int
        Number of fits.
    settings : dict
        ``method``, ``test``, ``level``, ``control`` (see :func:`fit_settings`).
    extract : callable
        ``extract(fit)`` returns a dict of arrays (first axis: the chunk's fits) to keep.
    chunk : int
        Fits per chunk.
    qm_index : sequence of int, optional
        Coefficients of the omnibus test (passed to ``fit_batch``).
    parallel : bool
        Run chunks on a thread pool (numpy releases the GIL in its loops).
    progress : callable, optional
        ``progress(fraction_done)``, called before and after each chunk (from worker
        threads when ``parallel``); an exception it raises (:class:`~igmeta.progress.
        Cancelled`) stops the computation and propagates. An iterative tau^2 counts its
        first estimation pass as half of the work.

    Returns
    -------
    dict of ndarray
        The extracted arrays, concatenated in fit order, plus ``"converged"`` and
        ``"iterations"`` of the tau^2 estimator. Floating-point outputs of fits whose
        tau^2 did not converge are NaN: metafor's ``rma`` stops with an error for them,
        so ``leave1out``, ``cumul``, ``influence``, ``gosh`` and ``permutest`` report NA.
    """
    method = settings["method"]
    iterative = method in ITERATIVE_METHODS
    tracker = ProgressTracker(progress, n * (2 if iterative else 1))
    est = None
    if iterative:
        est = staged_tau2(make_design, n, method, settings["control"], chunk, parallel, tracker)
    rows_all = np.arange(n)

    def run(rows):
        tracker.check()
        design = make_design(rows)
        tau2 = _slice_tau2(est, rows) if est is not None else None
        fit = _fit_chunk(design, settings, tau2, qm_index)
        out = extract(fit)
        failed = ~fit.tau2.converged
        if failed.any():
            # metafor's refits stop with an error when tau^2 does not converge, leaving NA.
            for key, value in out.items():
                if value.dtype.kind in "fc":
                    value = np.array(value, copy=True)
                    value[failed] = np.nan
                    out[key] = value
        out["converged"] = fit.tau2.converged
        out["iterations"] = fit.tau2.iterations
        tracker.advance(rows.size)
        return out

    parts = _map(run, list(_chunks(rows_all, chunk)), parallel)
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def warn_not_converged(converged: np.ndarray, what: str, method: str) -> None:
    """Issue a :class:`ConvergenceWarning` when some fits of a batch did not converge."""
    failed = int(np.size(converged) - np.count_nonzero(converged))
    if failed:
        warn(
            ConvergenceWarning,
            f"The {method} estimator of tau\u00b2 did not converge in "
            f"{failed} of the {np.size(converged)} {what}; those fits are left empty (NaN), "
            "as metafor does. Raise control['maxiter'] or use another estimator.",
            None,
        )


def _fit_table(fit: FitArrays, method: str) -> dict[str, np.ndarray]:
    """The leave-one-out / cumulative columns of a batch of intercept-only fits."""
    tau2 = fit.tau2.tau2 if method != "FE" else np.full(fit.k.shape, np.nan)
    return {
        "k": fit.k,
        "estimate": fit.beta[:, 0],
        "se": fit.se[:, 0],
        "statistic": fit.statistic[:, 0],
        "pval": fit.pval[:, 0],
        "ci_lower": fit.ci_lower[:, 0],
        "ci_upper": fit.ci_upper[:, 0],
        "q": fit.q,
        "q_pval": fit.q_pval,
        "tau2": tau2,
        "i2": fit.i2,
        "h2": fit.h2,
        "pi_lower": fit.pi_lower,
        "pi_upper": fit.pi_upper,
        "s2w": fit.s2w,
    }


def _intercept_fits(res: MetaResult, mask: np.ndarray, settings: dict) -> dict:
    """One batch of intercept-only fits of ``res``'s studies, fit b using ``mask[b]``."""
    y, v = np.asarray(res.yi, float), np.asarray(res.vi, float)
    k = y.size
    out = batched_fits(
        lambda rows: InterceptDesign(y, v, mask[rows]),
        mask.shape[0],
        settings,
        lambda fit: _fit_table(fit, settings["method"]),
        chunk=chunk_rows(k),
        parallel=False,
    )
    return out


# --------------------------------------------------------------------------------------
# Leave-one-out and cumulative analysis
# --------------------------------------------------------------------------------------

#: The last leave-one-out batch, ``(res, yi, vi, outputs)``: ``influence`` after
#: ``leave_one_out`` (or the reverse) on the same result reuses the fits.
_last_leave_one_out: tuple | None = None


def _leave_one_out_fits(res: MetaResult, settings: dict) -> dict:
    """The k leave-one-out fits of ``res`` (one batch), reused for the same result."""
    global _last_leave_one_out
    cached = _last_leave_one_out
    if (
        cached is not None
        and cached[0] is res
        and np.array_equal(cached[1], res.yi)
        and np.array_equal(cached[2], res.vi)
    ):
        return cached[3]
    out = _intercept_fits(res, ~np.eye(res.k, dtype=bool), settings)
    _last_leave_one_out = (res, np.array(res.yi, copy=True), np.array(res.vi, copy=True), out)
    return out


def leave_one_out(res: MetaResult) -> pd.DataFrame:
    """Leave-one-out analysis: the model refitted without each study in turn.

    Parameters
    ----------
    res : MetaResult
        A fitted model without moderators with k >= 2: inverse-variance (common-effect
        or random-effects; each refit uses its method, test, level and control), or
        Mantel-Haenszel / Peto (each refit uses the same measure, zero-cell convention,
        correction and level; one row per table, metafor's ``leave1out.rma.mh``).

    Returns
    -------
    DataFrame
        One row per omitted study, in the order of ``res.study``, with columns
        ``study`` (the omitted study), ``estimate``, ``se``, ``statistic`` (z, or t for
        Hartung-Knapp), ``pval``, ``ci_lower``, ``ci_upper``, ``q`` and ``q_pval``
        (Cochran's Q of the remaining studies), ``tau2`` (NaN for common-effect
        models), ``i2`` (%), ``h2``, ``pi_lower``, ``pi_upper`` (prediction interval;
        NaN for common-effect models). Values are on the analysis scale.

    Notes
    -----
    All k fits are one batch: an ``InterceptDesign`` with mask ``~eye(k)``. A fit with a
    single study (k = 2) has Q = 0, Q p-value 1, tau^2 = 0, I^2 = 0, H^2 = 1 and uses a
    z-test even under Hartung-Knapp, as ``rma`` does. A refit whose tau^2 estimator does not
    converge within ``control["maxiter"]`` gives a row of NaN (metafor: NA), with a
    ConvergenceWarning.
    """
    if _pools_counts(res):
        _check_tables(res, "Leave-one-out analysis", 2)
        out = refit_counts(res, ~np.eye(len(res.study), dtype=bool))
    else:
        _check_intercept_only(res, "Leave-one-out analysis")
        settings = fit_settings(res)
        out = _leave_one_out_fits(res, settings)
        warn_not_converged(out["converged"], "leave-one-out fits", settings["method"])
    return pd.DataFrame(
        {"study": list(res.study), **{name: np.array(out[name], copy=True) for name in FIT_COLUMNS}}
    )


def _cumulative_order(order, by, k: int, descending: bool) -> np.ndarray:
    if order is not None and by is not None:
        raise ValueError("give either order (positions) or by (a sort key), not both")
    if order is None and by is None:
        return np.arange(k)
    key = np.asarray(order if order is not None else by)
    if key.ndim != 1 or key.size != k:
        raise ValueError(f"the order must have one entry per study ({k}), got {key.size}")
    if order is not None and key.dtype.kind in "iu" and np.array_equal(np.sort(key), np.arange(k)):
        return key.astype(int)
    # Dense ranks (ties share a rank, missing values last), then a stable sort: ties
    # keep their order in the data, also when sorting in decreasing order (R's order()).
    ranks = pd.Series(key).rank(method="dense", ascending=not descending, na_option="bottom")
    return np.argsort(ranks.to_numpy(), kind="stable")


def cumulative(res: MetaResult, order=None, *, by=None, descending: bool = False) -> pd.DataFrame:
    """Cumulative meta-analysis: the model refitted as studies are added one by one.

    Parameters
    ----------
    res : MetaResult
        A fitted model without moderators: inverse-variance (common-effect or
        random-effects), or Mantel-Haenszel / Peto (refitted table by table with the
        same settings, as metafor's ``cumul.rma.mh``; ``k`` is then the number of tables
        pooled, which leaves out double-zero tables).
    order : sequence, optional
        Either the positions (0-based, a permutation of ``range(k)``) of the studies in
        the order they are to be added, or a key to sort the studies by (e.g. the
        publication year; a stable sort, so ties keep their order in the data, and
        missing keys go last). An integer array that is a permutation of ``range(k)`` is
        read as positions; use ``by=`` for a key that could be mistaken for positions.
        Default: the order of the data (metafor's ``cumul``).
    by : sequence, optional
        A sort key (always sorted, never read as positions).
    descending : bool
        Sort the key in decreasing order (ties still keep their order in the data);
        ignored when ``order`` gives positions.

    Returns
    -------
    DataFrame
        One row per step with columns ``study`` (the study added), ``row`` (its 0-based
        position in ``res.study``), ``k`` (studies in the fit) and the columns of
        :func:`leave_one_out`: ``estimate``, ``se``, ``statistic``, ``pval``,
        ``ci_lower``, ``ci_upper``, ``q``, ``q_pval``, ``tau2`` (NaN for common-effect
        models), ``i2``, ``h2``, ``pi_lower``, ``pi_upper``.

    Notes
    -----
    All fits are one batch with a lower-triangular mask. The first row (k = 1) is that
    study's own estimate: estimate = y_1, se = sqrt(v_1), Q = 0, Q p-value = 1,
    tau^2 = 0, I^2 = 0, H^2 = 1 (a z-test, as ``rma`` uses for k = 1). A refit whose tau^2
    does not converge gives a row of NaN (metafor: NA), with a ConvergenceWarning.
    """
    counts = _pools_counts(res)
    if counts:
        _check_tables(res, "Cumulative meta-analysis", 1)
    else:
        _check_intercept_only(res, "Cumulative meta-analysis", min_k=1)
    k = len(res.study) if counts else res.k
    perm = _cumulative_order(order, by, k, descending)
    steps = np.tril(np.ones((k, k), dtype=bool))
    mask = np.zeros((k, k), dtype=bool)
    mask[:, perm] = steps
    if counts:
        out = refit_counts(res, mask)
    else:
        settings = fit_settings(res)
        out = _intercept_fits(res, mask, settings)
        warn_not_converged(out["converged"], "cumulative fits", settings["method"])
    return pd.DataFrame(
        {
            "study": [res.study[i] for i in perm],
            "row": perm,
            "k": out["k"].astype(int),
            **{name: np.array(out[name], copy=True) for name in FIT_COLUMNS},
        }
    )


# --------------------------------------------------------------------------------------
# Influence diagnostics
# --------------------------------------------------------------------------------------


def influence(res: MetaResult) -> pd.DataFrame:
    """Outlier and influence diagnostics (metafor's ``influence.rma.uni``) and the
    coordinates of the Baujat plot.

    Parameters
    ----------
    res : MetaResult
        A fitted inverse-variance model with k >= 2.

    Returns
    -------
    DataFrame
        One row per study with columns ``study``, ``rstudent``, ``dffits``, ``cook_d``,
        ``cov_r``, ``tau2_del``, ``q_del``, ``hat``, ``weight`` (%), ``dfbetas``,
        ``inf`` (bool: flagged as influential), ``rstudent_resid``, ``rstudent_se``,
        ``baujat_x`` and ``baujat_y``.

    Notes
    -----
    With ``beta``, ``vb = se^2`` and weights ``w_j = 1/(v_j + tau^2)`` from the full fit
    and ``beta_(-i)``, ``vb_(-i)``, ``tau^2_(-i)``, ``s2w_(-i)`` (1 for z-tests),
    ``Q_(-i)`` from the fit without study i (all k fits are one batch with mask
    ``~eye(k)``):

    * ``hat_i = w_i / sum w``; ``weight_i = 100 hat_i``
    * ``rstudent_i = (y_i - beta_(-i)) / sqrt(s2w_(-i) (v_i + tau^2_(-i)) + vb_(-i))``;
      ``rstudent_resid`` and ``rstudent_se`` are the numerator and denominator (a
      residual below ``100 eps`` in absolute value is set to 0)
    * ``dffits_i = (beta - beta_(-i)) / sqrt(s2w_(-i) hat_i (tau^2_(-i) + v_i))``
    * ``cook_d_i = (beta - beta_(-i))^2 / vb``; ``cov_r_i = vb_(-i) / vb``
    * ``dfbetas_i = (beta - beta_(-i)) / sqrt(s2w_(-i) / sum_j 1/(v_j + tau^2_(-i)))``
      (the sum over all k studies)
    * ``tau2_del = tau^2_(-i)`` (0 for common-effect models), ``q_del = Q_(-i)``
    * ``inf`` is true if ``|dffits| > 3 sqrt(p/(k-p))``, or ``F_chi2(cook_d; 1) > 0.5``,
      or ``hat > 3p/k``, or ``|dfbetas| > 1`` (p = 1)
    * Baujat: ``baujat_x = (y_i - beta)^2 / (v_i + tau^2)`` (for a common-effect model
      the study's contribution to Cochran's Q) and
      ``baujat_y = (beta_(-i) - beta)^2 / vb_(-i)`` (the influence on the pooled
      estimate), as in metafor's ``baujat``.

    When the fit without study i does not converge, its diagnostics are NaN (metafor: NA)
    except ``hat``, ``weight`` and ``baujat_x``, and ``inf`` rests on ``hat`` alone.

    References
    ----------
    Viechtbauer W, Cheung MWL (2010). Res Synth Methods 1:112-125. doi:10.1002/jrsm.11
    Baujat B, et al. (2002). Stat Med 21:2641-2652. doi:10.1002/sim.1221
    """
    _check_intercept_only(res, "Influence analysis")
    refuse_user_weights(
        res,
        "The influence analysis",
        "metafor's DFFITS and DFBETAS of weighted fits use other formulas, not done here.",
    )
    settings = fit_settings(res)
    y, v = np.asarray(res.yi, float), np.asarray(res.vi, float)
    k, p = res.k, 1
    out = _leave_one_out_fits(res, settings)
    warn_not_converged(out["converged"], "leave-one-out fits", settings["method"])
    beta, vb = res.estimate, res.se**2
    tau2_full = res.tau2 if settings["method"] != "FE" else 0.0
    beta_del = out["estimate"]
    vb_del = out["se"] ** 2
    tau2_del = out["tau2"] if settings["method"] != "FE" else np.zeros(k)
    s2w_del = out["s2w"]
    hat = np.asarray(res.weights, float) / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = y - beta_del
        resid = np.where(np.abs(resid) < _EPS100, 0.0, resid)
        se_resid = np.sqrt(v * s2w_del + vb_del + tau2_del * s2w_del)
        diff = beta - beta_del
        dffits = diff / np.sqrt(s2w_del * hat * (tau2_del + v))
        vb_all = 1.0 / (1.0 / (v[None, :] + tau2_del[:, None])).sum(axis=1)
        dfbetas = diff / np.sqrt(s2w_del * vb_all)
        cook_d = diff**2 / vb
        cov_r = vb_del / vb
        inf = (
            (np.abs(dffits) > 3 * np.sqrt(p / (k - p)))
            | (stats.chi2.cdf(cook_d, p) > 0.5)
            | (hat > 3 * p / k)
            | (np.abs(dfbetas) > 1)
        )
        baujat_x = (y - beta) ** 2 / (v + tau2_full)
        baujat_y = diff**2 / vb_del
    return pd.DataFrame(
        {
            "study": list(res.study),
            "rstudent": resid / se_resid,
            "dffits": dffits,
            "cook_d": cook_d,
            "cov_r": cov_r,
            "tau2_del": tau2_del,
            "q_del": out["q"],
            "hat": hat,
            "weight": 100 * hat,
            "dfbetas": dfbetas,
            "inf": np.asarray(inf, dtype=bool),
            "rstudent_resid": resid,
            "rstudent_se": se_resid,
            "baujat_x": baujat_x,
            "baujat_y": baujat_y,
        }
    )
