# Reference optima of metafor 3.8-1 / lme4 1.1-31 for the UM.FS GLMM of
# metadat::dat.nielweise2007 (odds ratio), used by tests/test_glmm.py.
# Run: Rscript tests/data/glmm_nielweise2007_lme4.R > tests/data/glmm_nielweise2007_lme4.txt
# Each fit: the optimiser, then fixef (log OR first, then the 17 study intercepts),
# theta (= tau), lme4's logLik (nAGQ = 7; the marginal log-likelihood minus the saturated
# one) and metafor's fit.stats["ll", "ML"] (the saturated log-likelihood minus half of
# lme4's deviance at the conditional modes: not the maximised objective).
suppressMessages({library(metafor); library(metadat)})
d <- dat.nielweise2007
out <- function(tag, r) {
  f <- r$res.ML
  cat(tag, "fixef", sprintf("%.17g", lme4::fixef(f)), "\n")
  cat(tag, "theta", sprintf("%.17g", lme4::getME(f, "theta")), "\n")
  cat(tag, "logLik", sprintf("%.17g", as.numeric(logLik(f))), "\n")
  cat(tag, "metafor_ll", sprintf("%.17g", r$fit.stats["ll", "ML"]), "\n")
  cat(tag, "beta_tau2", sprintf("%.17g", c(r$beta, r$tau2)), "\n")
}
fit <- function(...) suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci,
  n2i = n2i, data = d, model = "UM.FS", retfit = TRUE, ...))
out("default", fit())  # lme4's default: bobyqa, then Nelder_Mead
out("Nelder_Mead", fit(control = list(glmerCtrl = list(optimizer = "Nelder_Mead"))))
out("bobyqa", fit(control = list(glmerCtrl = list(optimizer = "bobyqa"))))
