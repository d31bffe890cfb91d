"""GOSH: the graphical display of study heterogeneity (Olkin, Dahabreh, Trikalinos 2012).

The model is refitted to every non-empty subset of the studies (or to a random sample of
subsets when there are too many), and the pooled estimate is plotted against a
heterogeneity statistic. All fits go through :func:`igmeta.kernel.fit_batch` in chunks:
each chunk is an :class:`~igmeta.design.InterceptDesign` whose mask rows are decoded from
the subsets' bitmasks.

References
----------
Olkin I, Dahabreh IJ, Trikalinos TA (2012). GOSH - a graphical display of study
heterogeneity. Res Synth Methods 3:214-223. doi:10.1002/jrsm.1053
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from igmeta.design import InterceptDesign
from igmeta.progress import ProgressCallback
from igmeta.results import MetaResult
from igmeta.sensitivity import batched_fits, chunk_rows, fit_settings, warn_not_converged

__all__ = ["DEFAULT_GOSH_SUBSETS", "decode_members", "gosh"]

#: Number of random subsets when not all subsets are fitted (metafor's default, 10^6).
DEFAULT_GOSH_SUBSETS = 1_000_000
_SAMPLE_BLOCK = 1 << 16
#: Largest k for which all subsets can be enumerated (2^30 - 1 fits).
_MAX_EXACT_K = 30


def _packed_to_members(packed: np.ndarray, k: int) -> np.ndarray:
    """Bitmask column: uint32 (k <= 32), uint64 (k <= 64), else Python ints."""
    n = packed.shape[0]
    if k <= 64:
        width = 4 if k <= 32 else 8
        buf = np.zeros((n, width), dtype=np.uint8)
        buf[:, : packed.shape[1]] = packed
        return buf.view(np.dtype(f"<u{width}")).ravel().astype(f"u{width}")
    return np.array([int.from_bytes(row.tobytes(), "little") for row in packed], dtype=object)


def decode_members(members, k: int) -> np.ndarray:
    """Membership matrix of GOSH subsets.

    Parameters
    ----------
    members : array_like
        The ``members`` column of :func:`gosh` (bit j set = study j included).
    k : int
        Number of studies.

    Returns
    -------
    ndarray of bool, shape (n, k)
        ``out[r, j]`` is True when study j (0-based, in the order of ``res.study``) is in
        subset r.
    """
    members = np.asarray(members)
    if members.dtype == object:
        nbytes = (k + 7) // 8
        packed = np.frombuffer(
            b"".join(int(m).to_bytes(nbytes, "little") for m in members), dtype=np.uint8
        ).reshape(-1, nbytes)
    else:
        packed = members.astype("<u8").view(np.uint8).reshape(-1, 8)
    return np.unpackbits(packed, axis=1, count=k, bitorder="little").astype(bool)


def _sample_packed(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniformly drawn non-empty subsets of k studies, as packed little-endian bits."""
    if k <= 63:
        members = rng.integers(1, (1 << k) - 1, size=n, endpoint=True, dtype=np.uint64)
        return members.astype("<u8").view(np.uint8).reshape(n, 8)[:, : (k + 7) // 8].copy()
    blocks = []
    remaining = n
    while remaining > 0:
        m = min(remaining, _SAMPLE_BLOCK)
        incl = rng.integers(0, 2, size=(m, k), dtype=np.uint8).astype(bool)
        incl = incl[incl.any(axis=1)]
        blocks.append(np.packbits(incl, axis=1, bitorder="little"))
        remaining -= incl.shape[0]
    return np.concatenate(blocks)[:n]


def gosh(
    res: MetaResult,
    subsets: int | None = None,
    seed=None,
    max_exact_k: int = 20,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Fit the model to all (or a random sample of) subsets of the studies.

    Parameters
    ----------
    res : MetaResult
        A fitted inverse-variance model without moderators (k >= 2). Every subset is fitted
        with its method and control.
    subsets : int, optional
        Number of random subsets to fit when not all are fitted. Default
        :data:`DEFAULT_GOSH_SUBSETS` (10^6, as metafor).
    seed : int or numpy Generator, optional
        Seed of the random subsets (ignored when all subsets are fitted).
    max_exact_k : int
        Without ``subsets``, all ``2^k - 1`` subsets are fitted when ``k <= max_exact_k``
        (default 20: 1,048,575 fits), else a random sample of 10^6. With ``subsets``, all
        subsets are fitted when there are no more than ``subsets`` of them (metafor's rule),
        else a random sample of ``subsets``. Enumeration is limited to k <= 30.
    progress : callable, optional
        ``progress(fraction_done)``, called between chunks of fits (from worker threads);
        raising :class:`igmeta.Cancelled` (or any exception) in it stops the analysis and
        the exception propagates.

    Returns
    -------
    DataFrame
        One row per subset with columns ``estimate`` (pooled estimate, analysis scale),
        ``tau2`` (NaN for common-effect models), ``i2`` (%), ``h2``, ``q`` (Cochran's Q),
        ``k`` (studies in the subset) and ``members`` (bitmask: bit j set when study j,
        0-based in the order of ``res.study``, is in the subset; uint32 for k <= 32,
        uint64 for k <= 64, Python int beyond; decode with :func:`decode_members`).
        With all subsets, row r is the subset with bitmask r + 1, so the last row is the
        full data set. ``frame.attrs`` holds ``exact``, ``k``, ``method``, ``study``,
        ``converged`` (all fits converged) and ``not_converged`` (their number; a
        ConvergenceWarning is issued when it is not 0).

    Notes
    -----
    Random subsets are drawn uniformly from the ``2^k - 1`` non-empty subsets (every study
    in with probability 1/2, empty draws rejected), which is metafor's scheme (a subset
    size from Binomial(k, 1/2) truncated at 1, then a uniform subset of that size). The
    sample may contain duplicates. Subsets of one study have Q = 0, tau^2 = 0, I^2 = 0,
    H^2 = 1. The test (z or Hartung-Knapp) does not change any column, so z-tests are used.
    A subset whose tau^2 estimator does not converge has NaN estimate, tau2, i2, h2 and q
    (metafor: NA).

    Fits are processed in chunks of about 65,536 (subset, study) cells, on a thread pool;
    iterative tau^2 estimators are solved in stages (see
    :func:`igmeta.sensitivity.staged_tau2`).

    References
    ----------
    Olkin I, Dahabreh IJ, Trikalinos TA (2012). Res Synth Methods 3:214-223.
    doi:10.1002/jrsm.1053
    """
    if not isinstance(res, MetaResult):
        raise TypeError("gosh needs a MetaResult from igmeta.meta_analysis()")
    k = res.k
    if k < 2:
        raise ValueError("A GOSH analysis needs at least 2 studies.")
    settings = {**fit_settings(res), "test": "z"}
    n_all = (1 << k) - 1 if k < 200 else float("inf")
    if subsets is not None:
        subsets = int(round(subsets))
        if subsets < 2:
            raise ValueError("subsets must be at least 2")
    # metafor: all subsets when there are no more of them than requested.
    exact = k <= max_exact_k if subsets is None else subsets >= n_all
    if exact and k > _MAX_EXACT_K:
        raise ValueError(
            f"All {n_all:.0f} subsets of {k} studies are too many to fit; "
            "give a number of random subsets (subsets=...)."
        )
    if exact:
        n = int(n_all)
        members_all = np.arange(1, n + 1, dtype="<u4")
        packed = members_all.view(np.uint8).reshape(n, 4)[:, : (k + 7) // 8]
    else:
        n = DEFAULT_GOSH_SUBSETS if subsets is None else subsets
        packed = _sample_packed(k, n, np.random.default_rng(seed))
    y, v = np.asarray(res.yi, float), np.asarray(res.vi, float)

    def make_design(rows: np.ndarray) -> InterceptDesign:
        mask = np.unpackbits(packed[rows], axis=1, count=k, bitorder="little").view(bool)
        return InterceptDesign(y, v, mask)

    fe = settings["method"] == "FE"

    def extract(fit) -> dict:
        return {
            "estimate": fit.beta[:, 0],
            "tau2": np.full(fit.k.shape, np.nan) if fe else fit.tau2.tau2,
            "i2": fit.i2,
            "h2": fit.h2,
            "q": fit.q,
            "k": fit.k.astype(np.int32),
        }

    out = batched_fits(make_design, n, settings, extract, chunk=chunk_rows(k), progress=progress)
    warn_not_converged(out["converged"], "subset fits", settings["method"])
    frame = pd.DataFrame({name: out[name] for name in ("estimate", "tau2", "i2", "h2", "q", "k")})
    frame["members"] = _packed_to_members(packed, k)
    frame.attrs.update(
        {
            "exact": bool(exact),
            "k": k,
            "method": settings["method"],
            "study": tuple(res.study),
            "converged": bool(out["converged"].all()),
            "not_converged": int(out["converged"].size - np.count_nonzero(out["converged"])),
        }
    )
    return frame
