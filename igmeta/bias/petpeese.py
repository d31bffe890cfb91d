"""PET-PEESE: precision-effect estimates corrected for small-study effects.

PET (precision-effect test) and PEESE (precision-effect estimate with standard error) are
the classical Egger regressions (:func:`igmeta.bias.egger_test` with ``model="lm"``) on the
standard error and on the variance; their intercepts estimate the effect of a study of
infinite precision (Stanley & Doucouliagos 2014).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from igmeta.bias.regtest import EggerResult, egger_test
from igmeta.results import MetaResult

__all__ = ["PET_ALPHA", "PetPeeseResult", "pet_peese"]

#: Two-sided level of PET's test of the intercept (= one-sided 5% in the direction of the
#: estimate) above which the conditional rule keeps PET (Stanley & Doucouliagos 2014).
PET_ALPHA = 0.10


@dataclass(frozen=True, slots=True)
class PetPeeseResult:
    """PET, PEESE and the conditional PET-PEESE estimate.

    Attributes
    ----------
    pet, peese : EggerResult
        The weighted least-squares regressions ``lm(yi ~ sqrt(vi), weights = 1/vi)`` and
        ``lm(yi ~ vi, weights = 1/vi)``; ``est``, ``ci_lower``, ``ci_upper`` of each are its
        intercept (the effect at standard error 0) and t-based confidence interval.
    pet_tval, pet_pval : float
        t statistic (k - 2 df) and two-sided p-value of PET's intercept (H0: no effect).
    alpha : float
        Two-sided level of that test used by the conditional rule.
    use_peese : bool
        True when PET's intercept differs from 0 (``pet_pval < alpha``): the conditional
        estimate is then PEESE's, otherwise PET's.
    warnings : tuple of str
        Plain-English warnings of the two regressions.
    """

    pet: EggerResult
    peese: EggerResult
    pet_tval: float
    pet_pval: float
    alpha: float
    use_peese: bool
    warnings: tuple[str, ...] = ()

    @property
    def chosen(self) -> EggerResult:
        """The regression the conditional rule selects (PEESE or PET)."""
        return self.peese if self.use_peese else self.pet

    @property
    def chosen_name(self) -> str:
        """``"PEESE"`` or ``"PET"``."""
        return "PEESE" if self.use_peese else "PET"

    def summary(self) -> dict[str, float]:
        """Headline numbers as a flat dict."""
        return {
            "pet_est": self.pet.est,
            "pet_pval": self.pet_pval,
            "peese_est": self.peese.est,
            "est": self.chosen.est,
            "ci_lower": self.chosen.ci_lower,
            "ci_upper": self.chosen.ci_upper,
        }


def pet_peese(res: MetaResult, alpha: float = PET_ALPHA) -> PetPeeseResult:
    """PET, PEESE and the conditional PET-PEESE estimate (Stanley & Doucouliagos 2014).

    Parameters
    ----------
    res : MetaResult
        A pooled model; its ``yi``, ``vi`` and ``level`` are used (not its tau^2
        estimator: both regressions are unrestricted weighted least squares).
    alpha : float
        Two-sided level of PET's test of the intercept; the default 0.10 is a one-sided
        5% test in the direction of the estimate, Stanley & Doucouliagos' convention.

    Returns
    -------
    PetPeeseResult

    Raises
    ------
    ValueError
        With fewer than 3 studies or when all variances are equal (from
        :func:`igmeta.bias.egger_test`), or for ``alpha`` outside (0, 1).

    Notes
    -----
    Both regressions are fitted by weighted least squares with weights ``1/v_i`` and a
    multiplicative dispersion ``sigma^2`` estimated from the residuals, as ``lm(yi ~ sei,
    weights = 1/vi)`` in R; this is the "unrestricted WLS" that Stanley & Doucouliagos
    recommend, not ``rma(yi, vi, mods = ~ sqrt(vi), method = "FE")`` (same coefficients,
    standard errors without the dispersion factor). Inference uses t(k - 2). The
    conditional rule: if PET's intercept is significant (two-sided p < ``alpha``) there is
    a genuine effect and PEESE, less biased then, is reported; otherwise PET.

    References
    ----------
    Stanley TD, Doucouliagos H (2014). Meta-regression approximations to reduce
    publication selection bias. Res Synth Methods 5:60-78. doi:10.1002/jrsm.1095
    Stanley TD (2017). Limitations of PET-PEESE and other meta-analysis methods. Soc
    Psychol Personal Sci 8:581-591. doi:10.1177/1948550617693062
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie between 0 and 1, got {alpha!r}")
    pet = egger_test(res, model="lm", predictor="sei")
    peese = egger_test(res, model="lm", predictor="vi")
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = float(pet.beta[0] / pet.se[0])
    pval = float(2 * stats.t.sf(abs(tval), pet.dfs))
    return PetPeeseResult(
        pet=pet,
        peese=peese,
        pet_tval=tval,
        pet_pval=pval,
        alpha=alpha,
        use_peese=bool(pval < alpha),
        warnings=tuple(dict.fromkeys([*pet.warnings, *peese.warnings])),
    )
