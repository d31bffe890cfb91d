"""Weighted least-squares building blocks shared by every estimator.

A *design* holds the outcomes ``y``, the sampling variances ``v`` and a boolean
``mask`` of shape ``(B, k)``: row ``b`` of the mask selects the studies of fit ``b``.
One design therefore describes a whole batch of fits (leave-one-out, cumulative,
GOSH subsets, permutations) computed in one numpy pass.

``design.quantities(w)`` returns, for weights ``w`` of shape ``(B, k)`` (zero outside
the mask), every quantity the tau^2 estimators and the fit need, written in terms of
the projection matrix ``P = W - W X (X'WX)^-1 X'W``. ``design.quantities(w, need=...)``
computes only the named fields (the others are ``None``): the estimators' inner loops
ask for the two or three sums they use.

Two implementations share that interface:

* :class:`InterceptDesign` -- intercept-only models, closed-form sums, O(B k) memory;
* :class:`MatrixDesign` -- any design matrix ``X`` (meta-regression), sums of ``P`` written
  with ``p x p`` matrices only, O(B k p) memory (``P`` itself, k x k, is never formed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "QUANTITY_NAMES",
    "SEQUENTIAL_MAX_K",
    "InterceptDesign",
    "MatrixDesign",
    "WlsQuantities",
]


@dataclass(frozen=True, slots=True)
class WlsQuantities:
    """Batched weighted least-squares quantities for weights ``w``.

    Attributes
    ----------
    beta : ndarray, shape (B, p)
        ``(X'WX)^-1 X'Wy``.
    vb : ndarray, shape (B, p, p)
        ``(X'WX)^-1``.
    rss : ndarray, shape (B,)
        ``y'Py``, the weighted residual sum of squares (Cochran's Q for ``w = 1/v``).
    tr_p : ndarray, shape (B,)
        ``tr(P)``.
    tr_pp : ndarray, shape (B,)
        ``tr(PP) = sum_ij P_ij^2``.
    y_ppy : ndarray, shape (B,)
        ``y'PPy``.
    tr_pv : ndarray, shape (B,)
        ``tr(P V)`` with ``V = diag(v)``.
    tr_pvpv : ndarray, shape (B,)
        ``sum(PV o (PV)')``.
    sum_p2v : ndarray, shape (B,)
        ``sum(PV o P) = sum_ij P_ij^2 v_j``.
    logdet_xwx : ndarray, shape (B,)
        ``log|X'WX|``.
    residuals : ndarray, shape (B, k)
        ``y - X beta`` (zero outside the mask).

    Fields left out of a ``quantities(w, need=...)`` call are ``None``.
    """

    beta: np.ndarray
    vb: np.ndarray
    rss: np.ndarray
    tr_p: np.ndarray
    tr_pp: np.ndarray
    y_ppy: np.ndarray
    tr_pv: np.ndarray
    tr_pvpv: np.ndarray
    sum_p2v: np.ndarray
    logdet_xwx: np.ndarray
    residuals: np.ndarray


#: Names of the :class:`WlsQuantities` fields (valid entries of ``need=``).
QUANTITY_NAMES = tuple(WlsQuantities.__dataclass_fields__)
_ALL = frozenset(QUANTITY_NAMES)
#: Fields cached for the fixed-effect weights ``1/v`` (used by DL, HS, PM and the fit).
_FE_NEED = frozenset(("beta", "vb", "rss", "tr_p", "tr_pp", "logdet_xwx"))


def _wanted(need) -> frozenset:
    if need is None:
        return _ALL
    want = frozenset((need,) if isinstance(need, str) else need)
    unknown = want - _ALL
    if unknown:
        raise ValueError(
            f"unknown WLS quantities {sorted(unknown)}; choose from {list(QUANTITY_NAMES)}"
        )
    return want


#: Longest single row summed left to right (longer single rows use pairwise summation).
SEQUENTIAL_MAX_K = 256


def _fortran(a: np.ndarray) -> np.ndarray:
    return a if a.flags.f_contiguous else np.asfortranarray(a)


def _rowsum(a: np.ndarray) -> np.ndarray:
    """Row sums, each a plain left-to-right sum over the row.

    A left-to-right sum is unchanged by zeros in between, so a fit whose excluded studies
    are masked (weight 0) gets the same sums, to the last bit, as the same fit on the
    included studies alone: batched fits equal single fits exactly. Batches are stored
    column-major, where numpy's reduction adds whole columns in turn (fast and
    sequential); a single row of more than :data:`SEQUENTIAL_MAX_K` studies uses
    numpy's pairwise summation (faster, and more accurate for very long sums).
    """
    if a.shape[0] == 1:
        if a.shape[1] == 0:
            return np.zeros(1)
        if a.shape[1] <= SEQUENTIAL_MAX_K:
            return a[0].cumsum()[-1:]
        return np.add.reduce(a, axis=1)
    return np.add.reduce(_fortran(a), axis=1)


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products ``sum_j a_ij b_ij``, summed as in :func:`_rowsum`."""
    if a.shape != b.shape:
        a, b = np.broadcast_arrays(a, b)
    if a.shape[0] == 1:
        if a.shape[1] <= SEQUENTIAL_MAX_K:
            return _rowsum(a * b)
        return np.dot(a[0], b[0]).reshape(1)
    return np.einsum("ij,ij->i", _fortran(a), _fortran(b))


def _as_2d(values) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    return arr.reshape(1, -1) if arr.ndim < 2 else arr


class _Design:
    """Common storage: y, v and the inclusion mask, broadcast to (B, k)."""

    p: int

    def __init__(self, y: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None):
        y, v = _as_2d(y), _as_2d(v)
        finite = np.isfinite(y) & np.isfinite(v)
        if mask is None:
            shape = finite.shape
            mask = finite
        else:
            mask = np.array(mask, dtype=bool)  # a copy: the design owns its mask
            if mask.ndim < 2:
                mask = mask.reshape(1, -1)
            shape = np.broadcast_shapes(finite.shape, mask.shape)
            if not (finite.shape == (1, shape[1]) and finite.all()):
                mask = mask & finite
        # Batches are stored column-major (see _rowsum); a single row is both.
        if mask.shape != shape or not mask.flags.f_contiguous:
            mask = np.asfortranarray(np.broadcast_to(mask, shape))
        self.mask = mask
        self._full = bool(mask.all())
        if self._full:
            # Nothing to exclude: keep the inputs (no copy when already of full shape).
            self.y = (
                y
                if y.shape == shape and y.flags.f_contiguous
                else np.asfortranarray(np.broadcast_to(y, shape))
            )
            self.v = (
                v
                if v.shape == shape and v.flags.f_contiguous
                else np.asfortranarray(np.broadcast_to(v, shape))
            )
        else:
            # Excluded studies get y = 0 and v = 1 so that no NaN leaks into sums.
            self.y = _fortran(np.where(mask, y, 0.0))
            self.v = _fortran(np.where(mask, v, 1.0))
        self.k = np.count_nonzero(mask, axis=1)
        self._fe_cache = None

    @property
    def batch_size(self) -> int:
        """Number of fits B."""
        return self.mask.shape[0]

    def weights(self, tau2: np.ndarray) -> np.ndarray:
        """Random-effects weights ``1/(v + tau2)``, zero outside the mask."""
        tau2 = np.asarray(tau2, dtype=np.float64)
        w = self.v + tau2[:, None]
        if self._full:
            return np.divide(1.0, w, out=w)
        if (tau2 > -1.0).all():
            # v = 1 outside the mask, so v + tau2 > 0 there and mask / (v + tau2) is 0.
            return np.divide(self.mask, w, out=w)
        return np.where(self.mask, 1.0 / w, 0.0)

    def unit_weights(self) -> np.ndarray:
        """Ordinary least-squares weights (1 inside the mask)."""
        return self.mask.astype(float)

    def sum_log_vt(self, tau2: np.ndarray) -> np.ndarray:
        """``sum_i log(v_i + tau2)`` over the studies of each fit."""
        vt = self.v + np.asarray(tau2, dtype=np.float64)[:, None]
        if not self._full:
            np.copyto(vt, 1.0, where=~self.mask)
        return _rowsum(np.log(vt, out=vt))

    def fe_quantities(self) -> tuple[np.ndarray, WlsQuantities]:
        """Fixed-effect weights ``1/v`` and their WLS quantities (computed once).

        Only ``beta``, ``vb``, ``rss``, ``tr_p``, ``tr_pp`` and ``logdet_xwx`` are set.
        """
        if self._fe_cache is None:
            w = self.weights(np.zeros(self.batch_size))
            self._fe_cache = (w, self.quantities(w, need=_FE_NEED))
        return self._fe_cache

    def take(self, rows: np.ndarray):
        """The fits ``rows`` (an index or boolean array) as a new design of the same kind."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.mask = _fortran(self.mask[rows])
        new.y = _fortran(self.y[rows])
        new.v = _fortran(self.v[rows])
        new.k = self.k[rows]
        new._full = self._full or bool(new.mask.all())
        new._fe_cache = None
        return new


class InterceptDesign(_Design):
    """Intercept-only model (``X`` a column of ones) over a batch of study subsets.

    Parameters
    ----------
    y, v : array_like, shape (k,) or (B, k)
        Outcomes and sampling variances.
    mask : array_like of bool, shape (B, k), optional
        Studies included in each fit (all by default). Non-finite ``y``/``v`` are
        always excluded.
    """

    p = 1

    def logdet_xx(self) -> np.ndarray:
        """``log|X'X| = log k``."""
        with np.errstate(divide="ignore"):
            return np.log(self.k.astype(float))

    def quantities(self, w: np.ndarray, need=None) -> WlsQuantities:
        """WLS quantities for weights ``w`` (see :class:`WlsQuantities`).

        Parameters
        ----------
        w : ndarray, shape (B, k)
            Weights, zero outside the mask.
        need : iterable of str, optional
            Names of the fields to compute (default all); the others are ``None``.

        Notes
        -----
        With ``s_m = sum w^m``, ``beta = sum w y / s_1`` and ``r = y - beta``:
        ``rss = sum w r^2``, ``y'PPy = sum w^2 r^2``, ``tr P = s_1 - s_2/s_1``,
        ``tr PP = s_2 - 2 s_3/s_1 + s_2^2/s_1^2``, ``tr PV = sum w v - sum w^2 v/s_1``,
        ``tr PVPV = sum w^2 v^2 - 2 sum w^3 v^2/s_1 + (sum w^2 v)^2/s_1^2`` and
        ``sum P^2 V = sum w^2 v - 2 sum w^3 v/s_1 + s_2 sum w^2 v/s_1^2``.
        """
        want = _wanted(need)
        y, v = self.y, self.v
        out = dict.fromkeys(QUANTITY_NAMES)
        with np.errstate(divide="ignore", invalid="ignore"):
            sw = _rowsum(w)
            if want & {"beta", "rss", "y_ppy", "residuals"}:
                beta = _rowdot(w, y) / sw
                out["beta"] = beta[:, None]
                if want & {"rss", "y_ppy", "residuals"}:
                    resid = y - beta[:, None]
                    if "residuals" in want:
                        out["residuals"] = np.where(self.mask, resid, 0.0)
                    if want & {"rss", "y_ppy"}:
                        wr = w * resid
                        if "rss" in want:
                            out["rss"] = _rowdot(wr, resid)
                        if "y_ppy" in want:
                            out["y_ppy"] = _rowdot(wr, wr)
            if "vb" in want:
                out["vb"] = (1.0 / sw)[:, None, None]
            if "logdet_xwx" in want:
                out["logdet_xwx"] = np.log(sw)
            if want & {"tr_p", "tr_pp", "tr_pv", "tr_pvpv", "sum_p2v"}:
                w2 = w * w
                sw2 = _rowsum(w2)
                if "tr_p" in want:
                    out["tr_p"] = sw - sw2 / sw
                if "tr_pp" in want:
                    out["tr_pp"] = sw2 - 2 * _rowdot(w2, w) / sw + sw2**2 / sw**2
                if want & {"tr_pv", "tr_pvpv", "sum_p2v"}:
                    w2v = np.multiply(w2, v)
                    s_w2v = _rowsum(w2v)
                    if "tr_pv" in want:
                        out["tr_pv"] = _rowdot(w, v) - s_w2v / sw
                    if "sum_p2v" in want:
                        out["sum_p2v"] = s_w2v - 2 * _rowdot(w2v, w) / sw + sw2 * s_w2v / sw**2
                    if "tr_pvpv" in want:
                        out["tr_pvpv"] = (
                            _rowdot(w2v, v) - 2 * _rowdot(w2v * w, v) / sw + s_w2v**2 / sw**2
                        )
        return WlsQuantities(**out)


class MatrixDesign(_Design):
    """General linear model ``y = X beta + u + e`` (meta-regression).

    Parameters
    ----------
    y, v : array_like, shape (k,) or (B, k)
        Outcomes and sampling variances.
    X : array_like, shape (k, p)
        Design matrix, including the intercept column if wanted.
    mask : array_like of bool, shape (B, k), optional
        Studies included in each fit.
    """

    def __init__(self, y, v, X, mask=None):
        super().__init__(y, v, mask)
        self.X = np.asarray(X, dtype=float)
        if self.X.ndim != 2 or self.X.shape[0] != self.y.shape[1]:
            raise ValueError("X must have one row per study")
        self.p = self.X.shape[1]

    def logdet_xx(self) -> np.ndarray:
        """``log|X'X|`` over the included studies."""
        xtx = np.einsum("kp,bk,kq->bpq", self.X, self.unit_weights(), self.X)
        return np.linalg.slogdet(xtx)[1]

    def quantities(self, w: np.ndarray, need=None) -> WlsQuantities:
        """WLS quantities for weights ``w`` (see :class:`WlsQuantities`).

        Parameters
        ----------
        w : ndarray, shape (B, k)
            Weights, zero outside the mask.
        need : iterable of str, optional
            Names of the fields to compute (default all); the others are ``None``.
        """
        want = _wanted(need)
        X, y, v = self.X, self.y, self.v
        out = dict.fromkeys(QUANTITY_NAMES)
        xtwx = np.einsum("kp,bk,kq->bpq", X, w, X)
        vb = np.linalg.inv(xtwx)
        beta = np.einsum("bpq,kq,bk,bk->bp", vb, X, w, y)
        out["beta"], out["vb"] = beta, vb
        if "logdet_xwx" in want:
            out["logdet_xwx"] = np.linalg.slogdet(xtwx)[1]
        if want & {"residuals", "rss", "y_ppy"}:
            resid = y - np.einsum("kp,bp->bk", X, beta)
            if "residuals" in want:
                out["residuals"] = np.where(self.mask, resid, 0.0)
            # P y = W (y - X beta): rss = sum w r^2 and y'PPy = sum w^2 r^2.
            wr = w * resid
            if "rss" in want:
                out["rss"] = _rowdot(wr, resid)
            if "y_ppy" in want:
                out["y_ppy"] = _rowdot(wr, wr)
        if want & {"tr_p", "tr_pp", "tr_pv", "tr_pvpv", "sum_p2v"}:
            out.update(_projection_sums(w, v, X, vb, want))
        return WlsQuantities(**out)


def _projection_sums(w, v, X, vb, want) -> dict[str, np.ndarray]:
    """Traces and sums of ``P = W - H`` with ``H = A V A'``, ``A = W X``, ``V = (X'WX)^-1``.

    Notes
    -----
    With ``h_i = H_ii``, ``G = A'A`` and ``G_v = A' diag(v) A`` (both ``p x p``):
    ``tr P = sum w - sum h``; ``sum P_ij^2 = sum w^2 - 2 sum w h + tr(VGVG)``;
    ``tr PV = sum w v - sum v h``; ``tr PVPV = sum w^2 v^2 - 2 sum w v^2 h + tr(V G_v V G_v)``;
    ``sum_ij P_ij^2 v_j = sum w^2 v - 2 sum w v h + tr(V G V G_v)``. The k x k matrix ``P``
    is never built, so memory grows with k, not k^2.
    """
    out: dict[str, np.ndarray] = {}
    wx = w[:, :, None] * X[None, :, :]
    h = np.einsum("bkp,bkp->bk", wx @ vb, wx)
    w2 = w * w
    if "tr_p" in want:
        out["tr_p"] = w.sum(axis=1) - h.sum(axis=1)
    if want & {"tr_pp", "sum_p2v"}:
        vg = vb @ (np.swapaxes(wx, 1, 2) @ wx)
    if want & {"tr_pvpv", "sum_p2v"}:
        vgv = vb @ (np.swapaxes(wx, 1, 2) @ (v[:, :, None] * wx))
    if "tr_pp" in want:
        out["tr_pp"] = w2.sum(axis=1) - 2 * (w * h).sum(axis=1) + np.einsum("bij,bji->b", vg, vg)
    if "tr_pv" in want:
        out["tr_pv"] = (w * v).sum(axis=1) - (v * h).sum(axis=1)
    if "tr_pvpv" in want:
        out["tr_pvpv"] = (
            (w2 * v * v).sum(axis=1)
            - 2 * (w * v * v * h).sum(axis=1)
            + np.einsum("bij,bji->b", vgv, vgv)
        )
    if "sum_p2v" in want:
        out["sum_p2v"] = (
            (w2 * v).sum(axis=1) - 2 * (w * v * h).sum(axis=1) + np.einsum("bij,bji->b", vg, vgv)
        )
    return out
