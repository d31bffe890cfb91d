"""Weighted least-squares building blocks shared by every estimator.

A *design* holds the outcomes ``y``, the sampling variances ``v`` and a boolean
``mask`` of shape ``(B, k)``: row ``b`` of the mask selects the studies of fit ``b``.
One design therefore describes a whole batch of fits (leave-one-out, cumulative,
GOSH subsets, permutations) computed in one numpy pass.

``design.quantities(w)`` returns, for weights ``w`` of shape ``(B, k)`` (zero outside
the mask), every quantity the tau^2 estimators and the fit need, written in terms of
the projection matrix ``P = W - W X (X'WX)^-1 X'W``.

Two implementations share that interface:

* :class:`InterceptDesign` -- intercept-only models, closed-form sums, O(B k) memory;
* :class:`MatrixDesign` -- any design matrix ``X`` (meta-regression), explicit ``P``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["InterceptDesign", "MatrixDesign", "WlsQuantities"]


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


def _batch(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return np.broadcast_to(np.asarray(values, dtype=float), shape)


class _Design:
    """Common storage: y, v and the inclusion mask, broadcast to (B, k)."""

    p: int

    def __init__(self, y: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None):
        y = np.atleast_2d(np.asarray(y, dtype=float))
        v = np.atleast_2d(np.asarray(v, dtype=float))
        if mask is None:
            mask = np.ones(np.broadcast_shapes(y.shape, v.shape), dtype=bool)
        mask = np.atleast_2d(np.asarray(mask, dtype=bool))
        shape = np.broadcast_shapes(y.shape, v.shape, mask.shape)
        mask = (
            np.broadcast_to(mask, shape)
            & np.isfinite(_batch(y, shape))
            & np.isfinite(_batch(v, shape))
        )
        self.mask = mask
        # Excluded studies get y = 0 and v = 1 so that no NaN leaks into sums.
        self.y = np.where(mask, _batch(y, shape), 0.0)
        self.v = np.where(mask, _batch(v, shape), 1.0)
        self.k = mask.sum(axis=1)

    @property
    def batch_size(self) -> int:
        """Number of fits B."""
        return self.mask.shape[0]

    def weights(self, tau2: np.ndarray) -> np.ndarray:
        """Random-effects weights ``1/(v + tau2)``, zero outside the mask."""
        return np.where(self.mask, 1.0 / (self.v + np.asarray(tau2)[:, None]), 0.0)

    def unit_weights(self) -> np.ndarray:
        """Ordinary least-squares weights (1 inside the mask)."""
        return self.mask.astype(float)


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

    def quantities(self, w: np.ndarray) -> WlsQuantities:
        """WLS quantities for weights ``w`` (see :class:`WlsQuantities`)."""
        y, v = self.y, self.v
        sw = w.sum(axis=1)
        sw2 = (w**2).sum(axis=1)
        sw3 = (w**3).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = (w * y).sum(axis=1) / sw
            resid = np.where(self.mask, y - beta[:, None], 0.0)
            w2v = (w**2 * v).sum(axis=1)
            tr_p = sw - sw2 / sw
            tr_pp = sw2 - 2 * sw3 / sw + sw2**2 / sw**2
            diag_p = w - w**2 / sw[:, None]
            return WlsQuantities(
                beta=beta[:, None],
                vb=(1.0 / sw)[:, None, None],
                rss=(w * resid**2).sum(axis=1),
                tr_p=tr_p,
                tr_pp=tr_pp,
                y_ppy=(w**2 * resid**2).sum(axis=1),
                tr_pv=(diag_p * v).sum(axis=1),
                tr_pvpv=(w**2 * v**2).sum(axis=1)
                - 2 * (w**3 * v**2).sum(axis=1) / sw
                + w2v**2 / sw**2,
                sum_p2v=w2v - 2 * (w**3 * v).sum(axis=1) / sw + sw2 * w2v / sw**2,
                logdet_xwx=np.log(sw),
                residuals=resid,
            )


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

    def quantities(self, w: np.ndarray) -> WlsQuantities:
        """WLS quantities for weights ``w`` (see :class:`WlsQuantities`)."""
        X, y, v = self.X, self.y, self.v
        xtwx = np.einsum("kp,bk,kq->bpq", X, w, X)
        vb = np.linalg.inv(xtwx)
        beta = np.einsum("bpq,kq,bk,bk->bp", vb, X, w, y)
        wx = w[:, :, None] * X[None, :, :]
        p_mat = np.einsum("bi,ij->bij", w, np.eye(X.shape[0])) - np.einsum(
            "bip,bpq,bjq->bij", wx, vb, wx
        )
        py = np.einsum("bij,bj->bi", p_mat, y)
        pv = p_mat * v[:, None, :]
        resid = np.where(self.mask, y - np.einsum("kp,bp->bk", X, beta), 0.0)
        return WlsQuantities(
            beta=beta,
            vb=vb,
            rss=np.einsum("bi,bi->b", y, py),
            tr_p=np.einsum("bii->b", p_mat),
            tr_pp=(p_mat**2).sum(axis=(1, 2)),
            y_ppy=(py**2).sum(axis=1),
            tr_pv=np.einsum("bii->b", pv),
            tr_pvpv=(pv * np.swapaxes(pv, 1, 2)).sum(axis=(1, 2)),
            sum_p2v=(pv * p_mat).sum(axis=(1, 2)),
            logdet_xwx=np.linalg.slogdet(xtwx)[1],
            residuals=resid,
        )
