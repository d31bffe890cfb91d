# Reference values for tests/test_mantel_haenszel.py (awkward tables): metafor 3.8-1.
# Run: Rscript tests/data/mh_peto_awkward_metafor.R > tests/data/mh_peto_awkward_metafor.txt
# Each line: case, measure, then beta se zval pval ci.lb ci.ub QE QEp I2 H2 k k.yi
# ("NA" = R's NA), or "ERROR <message>"; "WARN <message>" lines list R's warnings.
suppressMessages(library(metafor))
cases <- list(
  no_events = data.frame(ai = c(0, 0, 0), n1i = c(10, 20, 15), ci = c(0, 0, 0), n2i = c(12, 18, 15)),
  all_events = data.frame(ai = c(10, 20, 15), n1i = c(10, 20, 15), ci = c(12, 18, 15), n2i = c(12, 18, 15)),
  missing = data.frame(ai = c(7, NA, 13, 4), n1i = c(11, 30, 19, 20), ci = c(0, 9, 2, 5), n2i = c(12, 30, 20, NA)),
  one_group_no_events = data.frame(ai = c(0, 0), n1i = c(10, 12), ci = c(3, 2), n2i = c(10, 11)),
  rd_zero_variance = data.frame(ai = c(10, 12), n1i = c(10, 12), ci = c(0, 0), n2i = c(10, 11)),
  double_zero_only = data.frame(ai = c(0, 12), n1i = c(10, 12), ci = c(0, 11), n2i = c(10, 11)),
  one_table_no_events = data.frame(ai = 0, n1i = 10, ci = 0, n2i = 12)
)
out <- function(tag, r) {
  cat(tag, sprintf("%.17g", c(r$beta, r$se, r$zval, r$pval, r$ci.lb, r$ci.ub, r$QE, r$QEp, r$I2, r$H2, r$k, r$k.yi)), "\n")
}
for (name in names(cases)) {
  d <- cases[[name]]
  for (m in c("RR", "OR", "RD", "PETO")) {
    tag <- paste(name, m)
    r <- withCallingHandlers(
      tryCatch(
        if (m == "PETO") rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d)
        else rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, measure = m),
        error = function(e) { cat(tag, "ERROR", conditionMessage(e), "\n"); NULL }),
      warning = function(w) { cat(tag, "WARN", conditionMessage(w), "\n"); invokeRestart("muffleWarning") })
    if (!is.null(r)) out(tag, r)
  }
}
