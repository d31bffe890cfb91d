# Reference values for tests/test_estimators.py, test_profile_ci.py and test_model_comparison.py
# (read by tests/tau2_reference.py): metafor 3.8-1.
# Run: Rscript tests/data/tau2_more_metafor.R > tests/data/tau2_more_metafor.txt
# Each line: a tag, then "name=value" pairs printed with %.17g ("NA" = R's NA), or
# "<tag> ERROR <message>"; "<tag> WARN <message>" lines list R's warnings.
# Root finders run with tight tolerances (control tol / threshold) so that the values are
# accurate to far better than the tests' rtol 1e-6; the R call is printed in each CALL line.
suppressMessages(library(metafor))
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
dat$ni <- with(dat.bcg, tpos + tneg + cpos + cneg)
# Homogeneous data (Q below its df): every estimator is truncated at 0.
flat <- data.frame(yi = c(0.10, 0.12, 0.09, 0.11, 0.10), vi = c(0.04, 0.05, 0.03, 0.06, 0.05))
# Three very different studies: the REML profile likelihood is so flat that the upper
# bound of the PL interval lies beyond metafor's search limit max(100, 10 tau2).
wide <- data.frame(yi = c(-10, 0, 10), vi = c(1, 1, 1))
tight <- list(tol = 1e-14, threshold = 1e-12, maxiter = 10000)
# tau^2 near 100: an absolute change of 1e-12 is below the rounding of tau^2 itself.
tight_wide <- list(tol = 1e-14, threshold = 1e-9, maxiter = 10000)
ci_tight <- list(tol = 1e-13, maxiter = 10000)

run <- function(tag, expr) {
  call_text <- paste(deparse(substitute(expr), width.cutoff = 500L), collapse = " ")
  if (!startsWith(call_text, "confint(") && !startsWith(call_text, "anova(")) {
    cat(tag, "CALL", call_text, "\n")
  }
  withCallingHandlers(
    tryCatch(expr, error = function(e) { cat(tag, "ERROR", conditionMessage(e), "\n"); NULL }),
    warning = function(w) { cat(tag, "WARN", conditionMessage(w), "\n"); invokeRestart("muffleWarning") })
}
show <- function(tag, values) {
  cat(tag, paste0(names(values), "=", sprintf("%.17g", unlist(values))), "\n")
}
fit_line <- function(tag, r) {
  if (!is.null(r)) show(tag, list(tau2 = r$tau2, se_tau2 = r$se.tau2, beta = r$beta[1],
                                  se = r$se[1], k = r$k, p = r$p))
}

# 1. tau^2 estimators GENQ, HSk, PMM.
fit_line("bcg_HSk", run("bcg_HSk", rma(yi, vi, data = dat, method = "HSk")))
fit_line("bcg_PMM", run("bcg_PMM", rma(yi, vi, data = dat, method = "PMM", control = tight)))
fit_line("bcg_PM", run("bcg_PM", rma(yi, vi, data = dat, method = "PM", control = tight)))
fit_line("bcg_GENQ_ni", run("bcg_GENQ_ni", rma(yi, vi, weights = ni, data = dat, method = "GENQ")))
fit_line("bcg_GENQ_invvar", run("bcg_GENQ_invvar", rma(yi, vi, weights = 1 / vi, data = dat, method = "GENQ")))
fit_line("bcg_GENQ_unit", run("bcg_GENQ_unit", rma(yi, vi, weights = rep(1, 13), data = dat, method = "GENQ")))
fit_line("bcg_ablat_HSk", run("bcg_ablat_HSk", rma(yi, vi, mods = ~ ablat, data = dat, method = "HSk")))
fit_line("bcg_ablat_PMM", run("bcg_ablat_PMM", rma(yi, vi, mods = ~ ablat, data = dat, method = "PMM", control = tight)))
fit_line("bcg_ablat_GENQ_ni", run("bcg_ablat_GENQ_ni", rma(yi, vi, mods = ~ ablat, weights = ni, data = dat, method = "GENQ")))
fit_line("bcg_ablat_year_PMM", run("bcg_ablat_year_PMM", rma(yi, vi, mods = ~ ablat + year, data = dat, method = "PMM", control = tight)))
fit_line("flat_HSk", run("flat_HSk", rma(yi, vi, data = flat, method = "HSk")))
fit_line("flat_PMM", run("flat_PMM", rma(yi, vi, data = flat, method = "PMM", control = tight)))
fit_line("flat_GENQ_unit", run("flat_GENQ_unit", rma(yi, vi, weights = rep(1, 5), data = flat, method = "GENQ")))

# 2. Profile-likelihood CI for tau^2.
pl_line <- function(tag, fit, level = 95) {
  cat(tag, "CALL", sprintf('confint(%s, type = "PL", level = %s, control = ci_tight)',
                           deparse(substitute(fit)), level), "\n")
  ci <- run(tag, confint(fit, type = "PL", level = level, control = ci_tight))
  if (!is.null(ci)) {
    r <- ci$random
    show(tag, list(tau2 = r["tau^2", "estimate"], lower = r["tau^2", "ci.lb"],
                   upper = r["tau^2", "ci.ub"], i2_lower = r["I^2(%)", "ci.lb"],
                   i2_upper = r["I^2(%)", "ci.ub"], ll = c(logLik(fit))))
    cat(tag, "SIGNS", paste0("[", ci$lb.sign, "]"), paste0("[", ci$ub.sign, "]"), "\n")
  }
}
bcg_reml <- rma(yi, vi, data = dat, method = "REML", control = tight)
bcg_ml <- rma(yi, vi, data = dat, method = "ML", control = tight)
bcg_ablat_reml <- rma(yi, vi, mods = ~ ablat, data = dat, method = "REML", control = tight)
bcg_ablat_ml <- rma(yi, vi, mods = ~ ablat, data = dat, method = "ML", control = tight)
flat_reml <- rma(yi, vi, data = flat, method = "REML", control = tight)
wide_reml <- rma(yi, vi, data = wide, method = "REML", control = tight_wide)
wide_ml <- rma(yi, vi, data = wide, method = "ML", control = tight_wide)
cat("models CALL", 'bcg_reml <- rma(yi, vi, data = dat, method = "REML", control = tight);',
    'bcg_ml: method = "ML"; bcg_ablat_*: mods = ~ ablat; flat_reml, wide_*: data = flat, wide',
    "(wide with control = tight_wide); bcg_fe, bcg_ablat_fe: method = \"FE\";",
    "bcg_ablat_year_ml: mods = ~ ablat + year, method = \"ML\"\n")
pl_line("pl_bcg_REML", bcg_reml)
pl_line("pl_bcg_ML", bcg_ml)
pl_line("pl_bcg_REML_90", bcg_reml, level = 90)
pl_line("pl_bcg_ablat_REML", bcg_ablat_reml)
pl_line("pl_bcg_ablat_ML", bcg_ablat_ml)
pl_line("pl_flat_REML", flat_reml)
pl_line("pl_wide_REML", wide_reml)
pl_line("pl_wide_ML", wide_ml)

# 3. Fit statistics and likelihood-ratio tests.
fs_line <- function(tag, fit) {
  f <- fitstats(fit)
  show(tag, list(ll = f["logLik:", 1], dev = f["deviance:", 1], AIC = f["AIC:", 1],
                 BIC = f["BIC:", 1], AICc = f["AICc:", 1], parms = fit$parms))
}
bcg_fe <- rma(yi, vi, data = dat, method = "FE")
bcg_ablat_fe <- rma(yi, vi, mods = ~ ablat, data = dat, method = "FE")
bcg_ablat_year_ml <- rma(yi, vi, mods = ~ ablat + year, data = dat, method = "ML", control = tight)
for (name in c("bcg_reml", "bcg_ml", "bcg_ablat_reml", "bcg_ablat_ml", "bcg_fe",
               "bcg_ablat_fe", "bcg_ablat_year_ml")) {
  cat(paste0("fs_", name), "CALL", paste0("fitstats(", name, ")"), "\n")
  fs_line(paste0("fs_", name), get(name))
}
lrt_line <- function(tag, full, reduced) {
  cat(tag, "CALL", sprintf("anova(%s, %s)", deparse(substitute(full)),
                           deparse(substitute(reduced))), "\n")
  a <- run(tag, anova(full, reduced))
  if (!is.null(a)) show(tag, list(LRT = a$LRT, pval = a$pval, df = a$parms.f - a$parms.r,
                                  ll_f = a$fit.stats.f[["ll"]], ll_r = a$fit.stats.r[["ll"]]))
}
lrt_line("lrt_ml_ablat", bcg_ablat_ml, bcg_ml)
lrt_line("lrt_ml_ablat_year", bcg_ablat_year_ml, bcg_ablat_ml)
lrt_line("lrt_ml_year_vs_null", bcg_ml, bcg_ablat_year_ml)
lrt_line("lrt_reml_tau2", bcg_reml, bcg_fe)
lrt_line("lrt_reml_ablat_tau2", bcg_ablat_reml, bcg_ablat_fe)
lrt_line("lrt_ml_tau2", bcg_ml, bcg_fe)
# Different data: metafor refuses (the test checks that igmeta refuses too).
lrt_line("lrt_different_data", bcg_ablat_ml, wide_ml)
