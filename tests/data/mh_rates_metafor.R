# Reference values for tests/test_mantel_haenszel_rates.py: metafor 3.8-1 rma.mh for
# incidence rates (IRR, IRD). Run:
#   Rscript tests/data/mh_rates_metafor.R > tests/data/mh_rates_metafor.json
# Each case stores its data, the exact R call and metafor's numbers.
suppressMessages({library(metafor); library(jsonlite)})
# dat.hart1999 (warfarin vs aspirin, strokes per patient-years) and awkward variants.
h <- dat.hart1999
zero <- data.frame(x1i = c(0, 3, 5, 0), t1i = c(100, 250, 300, 80),
                   x2i = c(2, 0, 7, 0), t2i = c(110, 240, 310, 90))
none1 <- data.frame(x1i = c(0, 0, 0), t1i = c(100, 200, 150),
                    x2i = c(1, 4, 2), t2i = c(100, 210, 140))
missing <- data.frame(x1i = c(4, NA, 6, 2), t1i = c(120, 100, 300, 90),
                      x2i = c(8, 3, 9, 5), t2i = c(130, 90, 280, 100))
case <- function(name, call, dat) {
  res <- suppressWarnings(eval(call))
  message(name)
  na <- function(x) if (is.null(x) || is.na(x)) NULL else x
  list(name = name, call = paste(deparse(call, width.cutoff = 500L), collapse = " "),
       input = as.list(dat[c("x1i", "t1i", "x2i", "t2i")]),
       expected = list(beta = na(as.vector(res$beta)), se = na(res$se), zval = na(res$zval),
                       pval = na(res$pval), ci_lb = na(res$ci.lb), ci_ub = na(res$ci.ub),
                       QE = res$QE, QEp = res$QEp, I2 = res$I2, H2 = res$H2, k = res$k,
                       k_yi = res$k.yi, MH = na(res$MH), MHp = na(res$MHp),
                       logLik = as.vector(fitstats(res)[1, 1]),
                       logLik_REML = as.vector(fitstats(update(res, method = "MH"), REML = TRUE)[1, 1])))
}
cases <- list(
  case("hart1999_IRR", quote(rma.mh(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = h)), h),
  case("hart1999_IRD", quote(rma.mh(measure = "IRD", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = h)), h),
  case("zeros_IRR", quote(rma.mh(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = zero)), zero),
  case("zeros_IRD", quote(rma.mh(measure = "IRD", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = zero)), zero),
  case("no_events_group1_IRR", quote(rma.mh(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = none1)), none1),
  case("no_events_group1_IRD", quote(rma.mh(measure = "IRD", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = none1)), none1),
  case("missing_IRR", quote(rma.mh(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = missing)), missing),
  case("level90_IRR", quote(rma.mh(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = h, level = 90)), h)
)
cat(toJSON(list(source = paste0("R ", getRversion(), ", metafor ", packageVersion("metafor")),
                cases = cases), digits = NA, auto_unbox = TRUE, null = "null", na = "null",
           pretty = TRUE))
