# Reference values for tests/test_bias_petpeese.py (PET-PEESE): R with metafor 3.8-1.
# Run: Rscript tests/data/bias_more_metafor.R > tests/data/bias_more_metafor.txt
# PET is lm(yi ~ sqrt(vi), weights = 1/vi) and PEESE lm(yi ~ vi, weights = 1/vi): unrestricted
# weighted least squares with a multiplicative dispersion (Stanley & Doucouliagos 2014).
# Lines: "<case> yi ..." and "<case> vi ..." (the data), then "<case> <PET|PEESE>" followed by
# b0 b1 se0 se1 t0 t1 p0 p1 ci.lb ci.ub (of b0, 95% confint) sigma df, and
# "<case> <PET|PEESE>_FE" with beta se zval pval ci.lb ci.ub of
# rma(yi, vi, mods = ~ sqrt(vi) or ~ vi, method = "FE") (same coefficients, no dispersion).
# Selection models (tests/test_bias_selmodel.py): "<case> SEL_<method>[_3]" followed by
# beta se zval pval ci.lb ci.ub tau2 se.tau2 LRT LRTdf LRTp ll ll0, then the deltas and their
# SEs, of selmodel(rma(yi, vi, method = <method>), type = "stepfun", steps = c(0.025, 1))
# (suffix _3: steps = c(0.025, 0.5, 1); suffix _less: alternative = "less"); or "<case> SEL_<method>_ERROR <message>".
suppressMessages(library(metafor))
g <- function(x) sprintf("%.17g", x)
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
hack <- dat.hackshaw1998
small <- data.frame(yi = c(0.82, 0.41, 0.65, 0.12, 0.30), vi = c(0.21, 0.09, 0.15, 0.01, 0.03))
# PET's intercept is significant here (p < 0.10), so the conditional rule picks PEESE.
small_peese <- data.frame(yi = c(0.95, 0.62, 0.80, 0.41, 0.52, 0.47),
                          vi = c(0.21, 0.09, 0.15, 0.01, 0.03, 0.02))
cases <- list(bcg = bcg, hackshaw = hack, small = small, small_peese = small_peese)
for (name in names(cases)) {
  d <- cases[[name]]
  cat(name, "yi", g(d$yi), "\n")
  cat(name, "vi", g(d$vi), "\n")
  d$sei <- sqrt(d$vi)
  fits <- list(PET = lm(yi ~ sei, weights = 1 / vi, data = d),
               PEESE = lm(yi ~ vi, weights = 1 / vi, data = d))
  for (f in names(fits)) {
    s <- summary(fits[[f]])
    cf <- s$coefficients
    ci <- confint(fits[[f]])[1, ]
    cat(name, f, g(c(cf[, 1], cf[, 2], cf[, 3], cf[, 4], ci, s$sigma, s$df[2])), "\n")
  }
  mods <- list(PET_FE = ~ sqrt(vi), PEESE_FE = ~ vi)
  for (f in names(mods)) {
    r <- rma(yi, vi, mods = mods[[f]], data = d, method = "FE")
    cat(name, f, g(c(r$beta, r$se, r$zval, r$pval, r$ci.lb[1], r$ci.ub[1])), "\n")
  }
}
sel <- function(name, d, method, steps, tag, alternative = "greater") {
  r <- tryCatch(selmodel(rma(yi, vi, data = d, method = method), type = "stepfun", steps = steps,
                         alternative = alternative),
                error = function(e) { cat(name, paste0(tag, "_ERROR"), conditionMessage(e), "\n"); NULL })
  if (!is.null(r))
    cat(name, tag, g(c(r$beta, r$se, r$zval, r$pval, r$ci.lb, r$ci.ub, r$tau2, r$se.tau2, r$LRT,
                       r$LRTdf, r$LRTp, r$ll, r$ll0, r$delta, r$se.delta)), "\n")
}
for (method in c("ML", "REML", "DL", "FE")) sel("hackshaw", hack, method, c(0.025, 1), paste0("SEL_", method))
sel("hackshaw", hack, "ML", c(0.025, 0.5, 1), "SEL_ML_3")
sel("small_peese", small_peese, "ML", c(0.025, 1), "SEL_ML")
sel("tiny", small_peese[c(1, 4), ], "ML", c(0.025, 1), "SEL_ML")
sel("bcg", bcg, "ML", c(0.025, 1), "SEL_ML")
sel("bcg", bcg, "REML", c(0.025, 1), "SEL_REML_less", alternative = "less")
# tau^2 on its boundary: 12 risk ratios (tests/test_app_pages.py::_synthetic(12)).
boundary <- data.frame(
  yi = c(0.23101785185144275, 0.3180668090784975, 0.4418327522790393, 0.3261187792928535,
         0.45715453797922867, 0.04663731080833089, 0.48328352197937796, 0.427710717055484,
         0.36787679046231303, 0.5236203060315898, 0.16816334711745184, 0.48538854808521503),
  vi = c(0.04153126995198606, 0.08103989636168019, 0.08574263038548753, 0.03839416161931375,
         0.02416838258768988, 0.041502727898723446, 0.037981881782445326, 0.05957931638913233,
         0.026692233102451383, 0.02985278134860348, 0.06028167576988671, 0.035066670611673276))
cat("boundary yi", g(boundary$yi), "\n")
cat("boundary vi", g(boundary$vi), "\n")
sel("boundary", boundary, "REML", c(0.025, 1), "SEL_REML")
# Beta selection model (Citkowicz & Vevea 2017): "<case> SELB_<method>[_less]" followed by the same
# numbers as SEL_ (the deltas are delta1 delta2 of the weight p^(delta1-1) (1-p)^(delta2-1)) of
# selmodel(rma(yi, vi, method = <method>), type = "beta"[, alternative = "less"]); or
# "<case> SELB_<method>_ERROR <message>".
selb <- function(name, d, method, tag, alternative = "greater") {
  r <- tryCatch(selmodel(rma(yi, vi, data = d, method = method), type = "beta",
                         alternative = alternative),
                error = function(e) { cat(name, paste0(tag, "_ERROR"), conditionMessage(e), "\n"); NULL })
  if (!is.null(r))
    cat(name, tag, g(c(r$beta, r$se, r$zval, r$pval, r$ci.lb, r$ci.ub, r$tau2, r$se.tau2, r$LRT,
                       r$LRTdf, r$LRTp, r$ll, r$ll0, r$delta, r$se.delta)), "\n")
}
for (method in c("ML", "REML", "FE")) selb("hackshaw", hack, method, paste0("SELB_", method))
selb("bcg", bcg, "REML", "SELB_REML_less", alternative = "less")
selb("tiny", small_peese[c(1, 4), ], "ML", "SELB_ML")
bask <- data.frame(yi = dat.baskerville2012$smd, vi = dat.baskerville2012$se^2)
cat("baskerville yi", g(bask$yi), "\n")
cat("baskerville vi", g(bask$vi), "\n")
selb("baskerville", bask, "REML", "SELB_REML")
# metafor integrates with rel.tol = .Machine$double.eps^0.25, which leaves its log-likelihood
# off by ~1e-5 per study. "<case> SELB_<method>_LL" holds mu tau2 delta1 delta2 (metafor's
# estimates) and metafor's own log-likelihood function evaluated there with rel.tol = 1e-10.
selb_ll <- function(name, d, method, tag) {
  r <- selmodel(rma(yi, vi, data = d, method = method), type = "beta")
  pv <- pmin(pmax(pnorm(d$yi / sqrt(d$vi), lower.tail = FALSE), 1e-5), 1 - 1e-5)
  k <- nrow(d)
  ll <- -metafor:::.selmodel.ll.cont(c(r$beta, r$tau2, r$delta), yi = d$yi, vi = d$vi,
    X = cbind(rep(1, k)), preci = rep(1, k), k = k, pX = 1, pvals = pv, deltas = 2,
    delta.val = c(NA, NA), delta.transf = FALSE, mapfun = c(NA, NA), delta.min = r$delta.min,
    delta.max = r$delta.max, tau2.val = NA, tau2.transf = FALSE, tau2.max = Inf, beta.val = NA,
    wi.fun = r$wi.fun, steps = NA, pgrp = NA, alternative = "greater", pval.min = 1e-5,
    intCtrl = list(lower = -Inf, upper = Inf, subdivisions = 100L, rel.tol = 1e-10),
    verbose = FALSE, digits = 4)
  cat(name, tag, g(c(r$beta, r$tau2, r$delta, ll)), "\n")
}
selb_ll("hackshaw", hack, "ML", "SELB_ML_LL")
selb_ll("baskerville", bask, "REML", "SELB_REML_LL")
