# Reference values for tests/test_metareg.py: metafor 3.8-1.
# Run: Rscript tests/data/metareg_predict_metafor.R > tests/data/metareg_predict_metafor.txt
# Each line: a tag, then "name=value" pairs printed with %.17g; the R call of each fit is
# printed on its CALL line. BCG trials (dat.bcg), log risk ratios, a numeric moderator
# (absolute latitude) and a categorical one (allocation: alternate, random, systematic).
suppressMessages(library(metafor))
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
tight <- list(tol = 1e-15, threshold = 1e-13, maxiter = 10000)
show <- function(tag, values) {
  cat(tag, paste0(names(values), "=", sprintf("%.17g", unlist(values))), "\n")
}
fits <- list(
  reml_z = quote(rma(yi, vi, mods = ~ ablat + alloc, data = dat, method = "REML", control = tight)),
  reml_knha = quote(rma(yi, vi, mods = ~ ablat + alloc, data = dat, method = "REML", test = "knha", control = tight)),
  dl_z = quote(rma(yi, vi, mods = ~ ablat, data = dat, method = "DL")),
  fe_z = quote(rma(yi, vi, mods = ~ ablat + alloc, data = dat, method = "FE"))
)
# New moderator values: (ablat, allocrandom, allocsystematic).
newmods <- rbind(c(10, 0, 0), c(30, 1, 0), c(50, 0, 1), c(33.5, 1, 0))
for (tag in names(fits)) {
  cat(tag, "CALL", paste(deparse(fits[[tag]], width.cutoff = 500L), collapse = " "), "\n")
  res <- eval(fits[[tag]])
  show(tag, list(QM = res$QM, QMp = res$QMp, QE = res$QE, QEp = res$QEp, tau2 = res$tau2,
                 R2 = if (is.null(res$R2)) NA else res$R2, k = res$k, p = res$p))
  show(paste0(tag, "_beta"), setNames(as.list(coef(res)), names(coef(res))))
  nm <- if (res$p == 2) newmods[, 1, drop = FALSE] else newmods
  pr <- predict(res, newmods = nm)
  for (i in seq_len(nrow(nm))) {
    show(paste0(tag, "_pred", i), list(
      x = nm[i, 1], pred = pr$pred[i], se = pr$se[i], ci_lb = pr$ci.lb[i], ci_ub = pr$ci.ub[i],
      pi_lb = if (is.null(pr$pi.lb)) pr$ci.lb[i] else pr$pi.lb[i],
      pi_ub = if (is.null(pr$pi.ub)) pr$ci.ub[i] else pr$pi.ub[i]))
  }
}
