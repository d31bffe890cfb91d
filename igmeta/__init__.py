"""igmeta: meta-analysis engine numerically identical to metafor (R).

The public API::

    import igmeta as im
    es = im.effect_sizes("RR", ai=..., n1i=..., ci=..., n2i=..., study=...)
    res = im.meta_analysis(es, method="REML", test="knha", level=0.95)

``igmeta.datasets`` holds the bundled example data; ``igmeta.__version__`` is the version
declared in ``pyproject.toml``. The core needs only numpy, scipy and pandas: figures,
Excel files and image export need the extras ``igmeta[plots]`` and ``igmeta[export]``.

The library is the modules at the top of this package; ``igmeta.app`` holds the
dashboard's services (table intake, the analysis pipeline, exports, the scenario store)
and is never imported by the library. The comparison of metafor, RevMan and R ``meta``
conventions runs whole analyses, so it lives there:
``igmeta.app.pipeline.conventions`` (``PRESETS``, ``compare_conventions``, ...).
"""

from igmeta import datasets
from igmeta.bias import (
    BeggResult,
    EggerResult,
    TrimFillResult,
    begg_test,
    egger_test,
    funnel_frame,
    trim_and_fill,
)
from igmeta.effects import EffectSizes, effect_sizes, measure_info
from igmeta.glmm import GLMM_MODELS, meta_analysis_glmm
from igmeta.gosh import decode_members, gosh
from igmeta.heterogeneity import HeterogeneityCI, heterogeneity_ci
from igmeta.mantel_haenszel import meta_analysis_mh, meta_analysis_peto
from igmeta.mantel_haenszel_rates import meta_analysis_mh_rates
from igmeta.multilevel import MultilevelResult, predict_mv, rma_mv, sigma2_profile_ci
from igmeta.permutation import PermutationResult, permutation_test
from igmeta.pooling import meta_analysis, meta_regression
from igmeta.progress import Cancelled
from igmeta.results import MetaRegressionResult, MetaResult
from igmeta.robust import RobustResult, robust
from igmeta.sensitivity import cumulative, influence, leave_one_out
from igmeta.subgroups import SubgroupResult, subgroup_analysis
from igmeta.warnings import (
    BoundaryWarning,
    ConvergenceWarning,
    DroppedStudiesWarning,
    MetaAnalysisWarning,
    SmallSampleWarning,
    SparseDataWarning,
)


def _version() -> str:
    """The version in ``pyproject.toml``: read from the source checkout, else the metadata."""
    import tomllib
    from importlib import metadata
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "igmeta" and "version" in project:
            return str(project["version"])
    try:
        return metadata.version("igmeta")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _version()
del _version

__all__ = [
    "__version__",
    "datasets",
    "GLMM_MODELS",
    "meta_analysis_glmm",
    "Cancelled",
    "HeterogeneityCI",
    "PermutationResult",
    "cumulative",
    "decode_members",
    "gosh",
    "heterogeneity_ci",
    "influence",
    "leave_one_out",
    "permutation_test",
    "BeggResult",
    "EggerResult",
    "SubgroupResult",
    "TrimFillResult",
    "begg_test",
    "egger_test",
    "funnel_frame",
    "meta_analysis_mh",
    "meta_analysis_mh_rates",
    "meta_analysis_peto",
    "subgroup_analysis",
    "trim_and_fill",
    "BoundaryWarning",
    "ConvergenceWarning",
    "DroppedStudiesWarning",
    "EffectSizes",
    "MetaAnalysisWarning",
    "MetaRegressionResult",
    "MetaResult",
    "SmallSampleWarning",
    "SparseDataWarning",
    "effect_sizes",
    "meta_analysis",
    "meta_regression",
    "measure_info",
    "MultilevelResult",
    "RobustResult",
    "predict_mv",
    "rma_mv",
    "robust",
    "sigma2_profile_ci",
]
