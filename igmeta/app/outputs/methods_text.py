"""An auto-generated methods paragraph describing exactly the analysis that was run."""

from __future__ import annotations

from igmeta.app.pipeline.analysis import AnalysisBundle, AnalysisSettings
from igmeta.effects import measure_info

__all__ = ["REFERENCES", "methods_paragraph"]

#: Reference list keyed by short name (cited in the paragraph as needed).
REFERENCES = {
    "metafor": "Viechtbauer W. Conducting meta-analyses in R with the metafor package. "
    "J Stat Softw 2010;36(3):1-48. doi:10.18637/jss.v036.i03",
    "DL": "DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials "
    "1986;7:177-88. doi:10.1016/0197-2456(86)90046-2",
    "REML": "Viechtbauer W. Bias and efficiency of meta-analytic variance estimators in the "
    "random-effects model. J Educ Behav Stat 2005;30:261-93. doi:10.3102/10769986030003261",
    "PM": "Paule RC, Mandel J. Consensus values and weighting factors. J Res Natl Bur Stand "
    "1982;87:377-85. doi:10.6028/jres.087.022",
    "SJ": "Sidik K, Jonkman JN. Simple heterogeneity variance estimation for meta-analysis. "
    "J R Stat Soc C 2005;54:367-84. doi:10.1111/j.1467-9876.2005.00489.x",
    "HSk": "Brannick MT, Potter SM, Benitez B, Morris SB. Bias and precision of alternate "
    "estimators in meta-analysis: benefits of blending Schmidt-Hunter and Hedges approaches. "
    "Organ Res Methods 2019;22:490-514. doi:10.1177/1094428117741966",
    "GENQ": "DerSimonian R, Kacker R. Random-effects model for meta-analysis of clinical "
    "trials: an update. Contemp Clin Trials 2007;28:105-14. doi:10.1016/j.cct.2006.04.004",
    "HK": "Knapp G, Hartung J. Improved tests for a random effects meta-regression with a "
    "single covariate. Stat Med 2003;22:2693-710. doi:10.1002/sim.1482",
    "MH": "Mantel N, Haenszel W. Statistical aspects of the analysis of data from "
    "retrospective studies of disease. J Natl Cancer Inst 1959;22:719-48. "
    "doi:10.1093/jnci/22.4.719",
    "Peto": "Yusuf S, Peto R, Lewis J, Collins R, Sleight P. Beta blockade during and after "
    "myocardial infarction. Prog Cardiovasc Dis 1985;27:335-71. "
    "doi:10.1016/S0033-0620(85)80003-7",
    "I2": "Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis. Stat Med "
    "2002;21:1539-58. doi:10.1002/sim.1186",
    "QP": "Viechtbauer W. Confidence intervals for the amount of heterogeneity in "
    "meta-analysis. Stat Med 2007;26:37-52. doi:10.1002/sim.2514",
    "FT": "Miller JJ. The inverse of the Freeman-Tukey double arcsine transformation. "
    "Am Stat 1978;32:138. doi:10.1080/00031305.1978.10479283",
    "Egger": "Egger M, Davey Smith G, Schneider M, Minder C. Bias in meta-analysis detected "
    "by a simple, graphical test. BMJ 1997;315:629-34. doi:10.1136/bmj.315.7109.629",
    "Begg": "Begg CB, Mazumdar M. Operating characteristics of a rank correlation test for "
    "publication bias. Biometrics 1994;50:1088-101. doi:10.2307/2533446",
    "TF": "Duval S, Tweedie R. Trim and fill. Biometrics 2000;56:455-63. "
    "doi:10.1111/j.0006-341X.2000.00455.x",
    "Subgroups": "Borenstein M, Higgins JPT. Meta-analysis and subgroups. Prev Sci "
    "2013;14:134-43. doi:10.1007/s11121-013-0377-7",
}

_ESTIMATOR_NAMES = {
    "DL": ("the DerSimonian-Laird estimator", "DL"),
    "REML": ("restricted maximum likelihood (REML)", "REML"),
    "ML": ("maximum likelihood", "REML"),
    "PM": ("the Paule-Mandel estimator", "PM"),
    "EB": ("the empirical Bayes estimator", "PM"),
    "SJ": ("the Sidik-Jonkman estimator", "SJ"),
    "HE": ("the Hedges estimator", "DL"),
    "HS": ("the Hunter-Schmidt estimator", "DL"),
    "HSk": ("the Hunter-Schmidt estimator with its small-sample correction (HSk)", "HSk"),
    "PMM": ("the median-unbiased Paule-Mandel estimator (PMM)", "PM"),
    "GENQ": ("the generalised Q estimator (GENQ)", "GENQ"),
}
_TRANSFORM_TEXT = {
    "PR": "as raw proportions",
    "PLO": "on the logit scale and back-transformed",
    "PAS": "on the arcsine square-root scale and back-transformed",
    "PFT": "with the Freeman-Tukey double arcsine transformation and back-transformed with "
    "the harmonic mean of the sample sizes",
}


def _model_sentence(s: AnalysisSettings, cited: list[str]) -> str:
    measure = measure_info(s.measure).label.lower()
    level = f"{s.level:.0%}"
    if s.analysis == "comparison" and s.pooling == "MH":
        cited.append("MH")
        zeros = (
            "0.5 was added to every cell of a study with a zero cell before pooling "
            "(RevMan's convention)"
            if s.zero_cells == "revman"
            else "raw counts were used in the Mantel-Haenszel sums without continuity "
            "correction (metafor's default)"
        )
        return (
            f"Studies were pooled as a {measure} with the Mantel-Haenszel common-effect "
            f"method; {zeros}. {level} confidence intervals used the normal distribution."
        )
    if s.analysis == "comparison" and s.pooling == "PETO":
        cited.append("Peto")
        return (
            f"Odds ratios were pooled with Peto's one-step method ({level} confidence "
            "intervals, normal distribution)."
        )
    scale = ""
    if s.analysis == "single_arm":
        scale = f" Proportions were analysed {_TRANSFORM_TEXT[s.proportion_measure]}."
        if s.proportion_measure == "PFT":
            cited.append("FT")
    if s.model == "common":
        return (
            f"Effects ({measure}) were pooled by inverse-variance weighting in a "
            f"common-effect model with {level} normal-theory confidence intervals.{scale}"
        )
    name, ref = _ESTIMATOR_NAMES[s.tau2_method]
    cited.append(ref)
    text = (
        f"Effects ({measure}) were pooled in a random-effects model; the between-study "
        f"variance (tau\u00b2) was estimated by {name}."
    )
    if s.weights_column is not None:
        text += (
            f" Studies were weighted by the column '{s.weights_column}' (user weights w) "
            "both in the generalised Q statistic and in the pooled estimate (the w-weighted "
            "mean, with variance sum w\u00b2(v + tau\u00b2) / (sum w)\u00b2)."
        )
    if s.test == "knha":
        cited.append("HK")
        text += (
            f" {level} confidence intervals and tests used the Hartung-Knapp "
            "adjustment (t-distribution with k-1 degrees of freedom)."
        )
    else:
        text += f" {level} confidence intervals used the normal distribution."
    if s.show_prediction:
        text += " A prediction interval for the effect in a new study is reported."
    return text + scale


def _heterogeneity_sentence(s: AnalysisSettings, cited: list[str], with_ci: bool) -> str:
    random = s.method not in ("FE", "MH", "PETO", "GLMM")
    if s.method == "GLMM":
        return "Heterogeneity was assessed with tau\u00b2 of the GLMM and I\u00b2."
    if random:
        if not with_ci:
            return "Heterogeneity was assessed with Cochran's Q, I\u00b2 and tau\u00b2."
        cited.append("QP")
        return (
            "Heterogeneity was assessed with Cochran's Q, I\u00b2 and tau\u00b2, with "
            "Q-profile confidence intervals for tau\u00b2 and I\u00b2."
        )
    text = "Heterogeneity was assessed with Cochran's Q and I\u00b2."
    if with_ci:
        cited.append("QP")
        text += (
            " The between-study variance tau\u00b2 was estimated, with a Q-profile "
            "confidence interval, from a REML random-effects refit to the same studies "
            "(not used for the pooled estimate)."
        )
    return text


def methods_paragraph(
    bundle: AnalysisBundle,
    *,
    bias_tests: bool = True,
    heterogeneity_ci: bool = True,
    funnel_plot: bool | None = None,
) -> tuple[str, list[str]]:
    """A methods paragraph and its reference list for the analysis in ``bundle``.

    The paragraph names only analyses that the page or report it goes with contains.

    Parameters
    ----------
    bundle : AnalysisBundle
    bias_tests : bool
        The output contains Egger's and Begg's tests, trim-and-fill and a contour-enhanced
        funnel plot (the dashboard's Publication bias page).
    heterogeneity_ci : bool
        The output contains Q-profile confidence intervals for tau\u00b2 and I\u00b2.
    funnel_plot : bool, optional
        The output contains a funnel plot without the tests (the HTML report); default:
        the same as ``bias_tests``.

    Returns
    -------
    text : str
    references : list of str
    """
    s = bundle.settings
    cited: list[str] = ["metafor"]
    parts = [_model_sentence(s, cited)]
    if (
        s.analysis in ("comparison", "single_arm")
        and not (s.analysis == "comparison" and s.pooling in ("MH", "PETO"))
        and s.to != "none"
        and s.add > 0
        and s.proportion_measure not in ("PAS", "PFT")
    ):
        target = {
            "only0": "studies with a zero cell",
            "all": "all studies",
            "if0all": "all studies (as at least one had a zero cell)",
        }[s.to]
        parts.append(f"For effect sizes, {s.add:g} was added to every cell of {target}.")
    cited.append("I2")
    parts.append(_heterogeneity_sentence(s, cited, heterogeneity_ci))
    if bundle.subgroups is not None:
        cited.append("Subgroups")
        test = bundle.subgroups.test.name
        how = (
            "a Q test on the subgroup estimates from separate random-effects fits "
            "(separate tau\u00b2 per subgroup)"
            if test == "separate_tau2"
            else "the common-effect Q-between statistic"
        )
        parts.append(f"Subgroups defined by '{bundle.subgroups.column}' were compared with {how}.")
    if bias_tests:
        cited += ["Egger", "Begg", "TF"]
        parts.append(
            "Small-study effects were examined with a contour-enhanced funnel plot, "
            "Egger's regression test, Begg's rank correlation test and the "
            "trim-and-fill method (L0 estimator); these tests have low power with "
            "fewer than 10 studies."
        )
    elif funnel_plot:
        parts.append(
            "A funnel plot is shown; no statistical test for small-study effects is reported."
        )
    parts.append(
        "Analyses were run with igmeta, whose results agree with the R package "
        "metafor (version 3.8-1)."
    )
    refs = [REFERENCES[key] for key in dict.fromkeys(cited)]
    return " ".join(parts), refs
