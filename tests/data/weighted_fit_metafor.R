# Reference values for user-weighted fits (metafor's rma(yi, vi, weights = a, ...)),
# read by tests/test_weighted_fit.py. Run from the repository root:
#   Rscript tests/data/weighted_fit_metafor.R > tests/data/weighted_fit_metafor.json
# metafor 3.8-1, jsonlite.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg$ni <- with(dat.bcg, tpos + tneg + cpos + cneg)
norm <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
               n2i = n2i, data = dat.normand1999)
norm$ni <- norm$n1i + norm$n2i
flat <- data.frame(yi = c(0.1, 0.12, 0.11, 0.09, 0.1), vi = c(0.04, 0.05, 0.03, 0.06, 0.05),
                   a = c(1, 2, 3, 4, 5))

one <- function(res, pred) {
  list(
    estimate = unname(c(coef(res))), se = unname(res$se), zval = unname(res$zval),
    pval = unname(res$pval), ci_lb = unname(res$ci.lb), ci_ub = unname(res$ci.ub),
    pi_lb = if (is.null(pred$pi.lb)) NA else unname(pred$pi.lb),
    pi_ub = if (is.null(pred$pi.ub)) NA else unname(pred$pi.ub),
    tau2 = res$tau2, se_tau2 = if (is.null(res$se.tau2)) NA else res$se.tau2,
    QE = res$QE, QEp = res$QEp, I2 = res$I2, H2 = res$H2, s2w = res$s2w,
    R2 = if (is.null(res$R2)) NA else res$R2,
    ll_ml = as.numeric(logLik(res, REML = FALSE)), ll_reml = as.numeric(logLik(res, REML = TRUE)),
    study_weights = unname(weights(res))
  )
}
cases <- list()
add <- function(tag, data, weights, method, test = "z", level = 95, mods = NULL) {
  tight <- if (method %in% c("REML", "PM")) ", control = list(threshold = 1e-12, tol = 1e-12)" else ""
  call <- sprintf("rma(yi, vi, weights = %s, data = %s, method = \"%s\", test = \"%s\", level = %s%s%s)",
                  weights, data, method, test, level, tight,
                  if (is.null(mods)) "" else paste0(", mods = ", mods))
  res <- eval(parse(text = call))
  pred <- if (is.null(mods)) predict(res) else list()
  cases[[tag]] <<- c(list(call = call, data = data, weights = weights, method = method,
                          test = test, level = level, mods = if (is.null(mods)) NA else mods),
                     one(res, pred))
}
for (method in c("GENQ", "DL", "REML", "PM")) {
  for (test in c("z", "knha")) {
    add(paste("bcg", method, test, sep = "_"), "bcg", "ni", method, test)
  }
}
add("bcg_FE_z", "bcg", "ni", "FE", "z")
add("bcg_GENQ_z_90", "bcg", "ni", "GENQ", "z", 90)
add("bcg_GENQ_unit", "bcg", "rep(1, 13)", "GENQ", "z")
add("norm_GENQ_z", "norm", "ni", "GENQ", "z")
add("norm_GENQ_knha", "norm", "ni", "GENQ", "knha")
add("norm_GENQ_sqrt", "norm", "1 / sqrt(vi)", "GENQ", "knha")
add("flat_GENQ_z", "flat", "a", "GENQ", "z")
add("bcg_ablat_GENQ_z", "bcg", "ni", "GENQ", "z", mods = "~ ablat")
add("bcg_ablat_GENQ_knha", "bcg", "ni", "GENQ", "knha", mods = "~ ablat")
# Refits of a weighted fit: Egger's test (regtest keeps the weights), leave-one-out, cumulative.
wfit <- rma(yi, vi, weights = ni, data = bcg, method = "GENQ")
eg <- regtest(wfit)
l1o <- leave1out(wfit)
cu <- cumul(wfit)
refits <- list(
  call = "wfit <- rma(yi, vi, weights = ni, data = bcg, method = \"GENQ\"); regtest(wfit); leave1out(wfit); cumul(wfit)",
  regtest_zval = eg$zval, regtest_pval = eg$pval, regtest_est = unname(eg$est),
  leave1out_estimate = unname(l1o$estimate), leave1out_se = unname(l1o$se),
  leave1out_tau2 = unname(l1o$tau2),
  cumul_estimate = unname(cu$estimate), cumul_se = unname(cu$se)
)
# GOSH of a weighted fit: all 511 subsets of the 9 studies of dat.normand1999.
gfit <- rma(yi, vi, weights = ni, data = norm, method = "GENQ")
g <- gosh(gfit, progbar = FALSE)
refits$gosh_call <- "gosh(rma(yi, vi, weights = ni, data = norm, method = \"GENQ\"))"
refits$gosh_mean_estimate <- mean(g$res$estimate)
refits$gosh_mean_tau2 <- mean(g$res$tau2)
refits$gosh_mean_I2 <- mean(g$res$I2)
# Exact permutation test of the same weighted fit (all 2^9 sign flips).
refits$permutest_call <- "permutest(gfit, exact = TRUE)"
refits$permutest_pval <- permutest(gfit, exact = TRUE, progbar = FALSE)$pval
data <- list(
  bcg = list(yi = c(bcg$yi), vi = c(bcg$vi), ni = bcg$ni, ablat = bcg$ablat),
  norm = list(yi = c(norm$yi), vi = c(norm$vi), ni = norm$ni),
  flat = as.list(flat)
)
cat(toJSON(list(metafor = as.character(packageVersion("metafor")), data = data, cases = cases,
                refits = refits),
           digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE))
