# Extra metafor 3.8-1 oracle cases in the schema of tests/oracle/README.md, for tau^2
# estimators the shared cases do not cover (HSk, PMM). Each case takes the data and settings
# of a shared rma case and refits it with another method; the expected block has the same
# fields, computed the same way.
# Run from the repository root: Rscript tests/oracle_extra/make_cases.R
suppressMessages(library(metafor))
library(jsonlite)
# Numbers as the README's encoding rule: the fewest of 15, 16 or 17 significant digits
# that read back to the same double (written verbatim; jsonlite would round to 15).
num <- function(x) {
  for (d in 15:17) {
    text <- sprintf(paste0("%.", d, "g"), x)
    if (as.numeric(text) == x) break
  }
  structure(text, class = "json")
}
encode <- function(x) {
  if (is.list(x)) return(lapply(x, encode))
  if (is.numeric(x) && length(x) == 1 && !is.na(x) && x != round(x)) return(num(x))
  if (is.numeric(x) && length(x) > 1) return(lapply(as.list(x), encode))
  x
}
make <- function(template, method) {
  case <- fromJSON(file.path("tests/oracle/cases", paste0(template, ".json")), simplifyVector = FALSE)
  s <- case$settings
  d <- case$input
  yi <- unlist(d$yi); vi <- unlist(d$vi)
  ctrl <- s$control
  res <- rma(yi, vi, method = method, test = s$test, level = s$level, control = ctrl)
  tf <- get(s$transform)
  p <- predict(res); pt <- predict(res, transf = tf)
  pr <- function(x) list(pred = x$pred, se = x$se, ci.lb = x$ci.lb, ci.ub = x$ci.ub,
                         pi.lb = x$pi.lb, pi.ub = x$pi.ub)
  pr_t <- pr(pt)
  old <- case$expected
  e <- list(k = res$k, p = res$p, estimate = c(res$beta), se = res$se, zval = res$zval,
            pval = res$pval, ci.lb = res$ci.lb, ci.ub = res$ci.ub, tau2 = res$tau2,
            tau = sqrt(res$tau2), se.tau2 = res$se.tau2, QE = res$QE, QEp = res$QEp,
            df.QE = res$k - res$p, I2 = res$I2, H2 = res$H2, vt = res$vt, QM = res$QM,
            QMdf = res$QMdf, QMp = res$QMp, ddf = if (is.na(res$ddf[1])) NULL else res$ddf,
            s2w = res$s2w, weights = as.numeric(weights(res)),
            logLik = list(ML = res$fit.stats["ll", "ML"], REML = res$fit.stats["ll", "REML"]),
            predict = pr(p), predict_transf = pr_t[names(old$predict_transf)])
  stopifnot(identical(sort(names(e)), sort(names(old))))
  e <- e[names(old)]
  s$method <- method
  name <- sub(paste0("_", old_method <- case$settings$method, "$"), paste0("_", method), template)
  src <- sub(paste0("method='", old_method, "'"), paste0("method='", method, "'"), case$source,
             fixed = TRUE)
  out <- encode(list(name = name, source = src, input = case$input, settings = s, expected = e))
  json <- toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null",
                 pretty = TRUE, json_verbatim = TRUE)
  writeLines(json, file.path("tests/oracle_extra/cases", paste0(name, ".json")))
}
for (m in c("HSk", "PMM")) {
  make("rma_bcg_RR_HS", m)
  make("rma_hackshaw1998_GEN_HS", m)
}
