"""Publication-bias (small-study effect) methods, as in metafor.

* :func:`egger_test` -- Egger's regression test (metafor ``regtest``), meta-regression
  (``model="rma"``) or classical weighted regression (``model="lm"``) forms;
* :func:`begg_test` -- Begg and Mazumdar's rank correlation test (``ranktest``) with the
  exact permutation p-value of Kendall's tau;
* :func:`trim_and_fill` -- Duval and Tweedie's trim and fill (``trimfill``), L0 and R0;
* :func:`pet_peese` -- PET, PEESE and the conditional PET-PEESE estimate (Stanley and
  Doucouliagos 2014), weighted least squares with multiplicative dispersion;
* :func:`step_selection_model` -- step-function selection model (metafor ``selmodel``,
  ``type="stepfun"``) by maximum likelihood;
* :func:`beta_selection_model` -- beta selection model (Citkowicz and Vevea 2017; metafor
  ``selmodel``, ``type="beta"``);
* :func:`funnel_frame` -- tidy funnel-plot data, optionally with the filled studies.

Each takes a :class:`igmeta.MetaResult` and reads the data and settings from it.
"""

from igmeta.bias.funnel import FUNNEL_COLUMNS, funnel_frame
from igmeta.bias.petpeese import PetPeeseResult, pet_peese
from igmeta.bias.ranktest import BeggResult, begg_test, kendall_exact_pvalue, kendall_null_pmf
from igmeta.bias.regtest import EggerResult, egger_test
from igmeta.bias.selmodel import (
    SelectionModelResult,
    beta_selection_model,
    step_selection_model,
)
from igmeta.bias.trimfill import TrimFillResult, trim_and_fill

__all__ = [
    "FUNNEL_COLUMNS",
    "BeggResult",
    "EggerResult",
    "PetPeeseResult",
    "SelectionModelResult",
    "TrimFillResult",
    "begg_test",
    "beta_selection_model",
    "egger_test",
    "funnel_frame",
    "kendall_exact_pvalue",
    "kendall_null_pmf",
    "pet_peese",
    "step_selection_model",
    "trim_and_fill",
]
