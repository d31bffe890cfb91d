# Reference values for tests/test_bias_petpeese.py (PET-PEESE): R with metafor 3.8-1.
# Run: Rscript tests/data/bias_more_metafor.R > tests/data/bias_more_metafor.txt
# PET is lm(yi ~ sqrt(vi), weights = 1/vi) and PEESE lm(yi ~ vi, weights = 1/vi): unrestricted
# weighted least squares with a multiplicative dispersion (Stanley & Doucouliagos 2014).
# Lines: "<case> yi ..." and "<case> vi ..." (the data), then "<case> <PET|PEESE>" followed by
# b0 b1 se0 se1 t0 t1 p0 p1 ci.lb ci.ub (of b0, 95% confint) sigma df, and
# "<case> <PET|PEESE>_FE" with beta se zval pval ci.lb ci.ub of
# rma(yi, vi, mods = ~ sqrt(vi) or ~ vi, method = "FE") (same coefficients, no dispersion).
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
