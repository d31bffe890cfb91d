# Reference values for tests/test_multilevel.py: metafor 3.8-1 rma.mv (and robust()).
# Run: Rscript tests/data/rma_mv_metafor.R > tests/data/rma_mv_metafor.json
# Each case stores its data (yi, V, cluster, study, X), the exact R call, and metafor's
# numbers: coefficients, sigma2, fit statistics, QE, I^2 per level (metafor FAQ formula),
# profile-likelihood CIs of each sigma2 (confint) and predict().
suppressMessages({library(metafor); library(jsonlite)})
tight <- list(rel.tol = 1e-12)
ci_control <- list(tol = 1e-12)  # uniroot tolerance of the profile-likelihood bounds

i2_levels <- function(res) {
  W <- solve(res$V)
  X <- model.matrix(res)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  100 * res$sigma2 / (sum(res$sigma2) + (res$k - res$p) / sum(diag(P)))
}

case <- function(name, call, dat, V, cluster, study, note) {
  res <- eval(call)
  message(name)
  # The profile refits inside confint() use the model's control; under rel.tol = 1e-12
  # some of them stop with a convergence error, so the bounds come from the same model
  # fitted with nlminb's default control (its estimates agree with the tight fit to 1e-8).
  ci <- confint(update(res, control = list()), control = ci_control)
  if (res$sigma2s == 1) ci <- list(ci)
  sig_ci <- t(sapply(seq_len(res$sigma2s), function(j) ci[[j]]$random[1, ]))
  pr <- predict(res)
  X <- model.matrix(res)
  fs <- fitstats(res)
  rob <- robust(res, cluster = cluster, adjust = TRUE)
  rob2 <- tryCatch(robust(res, cluster = cluster, clubSandwich = TRUE), error = function(e) NULL)
  list(
    name = name, note = note,
    call = paste(deparse(call, width.cutoff = 500L), collapse = " "),
    method = res$method, test = res$test,
    input = list(yi = as.vector(res$yi), V = unname(as.matrix(res$V)), cluster = cluster,
                 study = study, X = unname(X), coef_names = colnames(X)),
    expected = list(
      beta = as.vector(res$beta), se = res$se, zval = res$zval, pval = res$pval,
      ci_lb = res$ci.lb, ci_ub = res$ci.ub, ddf = if (res$test == "t") res$ddf[[1]] else NA,
      QM = res$QM, QMp = res$QMp, QE = res$QE, QEp = res$QEp,
      sigma2 = res$sigma2, k = res$k, p = res$p,
      logLik = fs[1, 1], deviance = fs[2, 1], AIC = fs[3, 1],
      BIC = fs[4, 1], AICc = fs[5, 1],
      I2 = i2_levels(res),
      sigma2_ci_lb = sig_ci[, 2], sigma2_ci_ub = sig_ci[, 3],
      pred = pr$pred[1], pred_se = pr$se[1], pred_ci_lb = pr$ci.lb[1], pred_ci_ub = pr$ci.ub[1],
      pred_pi_lb = pr$pi.lb[1], pred_pi_ub = pr$pi.ub[1],
      robust_cr1 = list(se = rob$se, zval = rob$zval, pval = rob$pval, ci_lb = rob$ci.lb,
                        ci_ub = rob$ci.ub, ddf = rob$ddf[[1]], QM = rob$QM, QMp = rob$QMp,
                        n_clusters = rob$n),
      robust_cr2 = if (is.null(rob2)) NULL else list(
        se = rob2$se, zval = rob2$zval, pval = rob2$pval, ci_lb = rob2$ci.lb,
        ci_ub = rob2$ci.ub, ddf = as.vector(rob2$ddf))
    )
  )
}

k11 <- dat.konstantopoulos2011
b98 <- dat.berkey1998
# nlminb's default control for these two (rel.tol = 1e-12 ends in a convergence error).
V98 <- bldiag(lapply(split(b98[c("v1i", "v2i")], b98$trial), as.matrix))
# A boundary case: five districts of dat.konstantopoulos2011 whose district variance is 0
# (metafor's nlminb stops at about 2e-12 on its log scale; the default control is used
# because a tighter rel.tol makes nlminb report non-convergence while chasing log(0)).
kb <- subset(k11, district %in% c(12, 58, 86, 108, 644))

cases <- list(
  case("konstantopoulos_REML",
       quote(rma.mv(yi, vi, random = ~ 1 | district/school, data = k11, method = "REML",
                    control = tight)),
       k11, NULL, k11$district, k11$school, "three-level, REML (metafor's rma.mv help)"),
  case("konstantopoulos_ML",
       quote(rma.mv(yi, vi, random = ~ 1 | district/school, data = k11, method = "ML",
                    control = tight)),
       k11, NULL, k11$district, k11$school, "three-level, ML"),
  case("konstantopoulos_year_t",
       quote(rma.mv(yi, vi, mods = ~ I(year - 1980), random = ~ 1 | district/school,
                    data = k11, method = "REML", test = "t", control = tight)),
       k11, NULL, k11$district, k11$school, "three-level, moderator, t-test"),
  case("konstantopoulos_boundary",
       quote(rma.mv(yi, vi, random = ~ 1 | district/school, data = kb, method = "REML")),
       kb, NULL, kb$district, kb$school, "three-level with a district sigma2 on the boundary"),
  case("berkey1998_V",
       quote(rma.mv(yi, V98, mods = ~ outcome - 1, random = ~ 1 | trial, data = b98,
                    method = "REML")),
       b98, V98, b98$trial, NULL, "known block-diagonal V (v1i/v2i), random intercept per trial"),
  case("berkey1998_V_ML",
       quote(rma.mv(yi, V98, mods = ~ outcome - 1, random = ~ 1 | trial, data = b98,
                    method = "ML")),
       b98, V98, b98$trial, NULL, "known V, ML")
)
# robust() for rma.uni: REML random-effects model of the 56 schools, clustered by district.
uni <- rma(yi, vi, data = k11, method = "REML", control = list(threshold = 1e-12, maxiter = 1000))
rob_uni <- robust(uni, cluster = k11$district, adjust = TRUE)
robust_uni <- list(
  call = "robust(rma(yi, vi, data = k11, method = \"REML\"), cluster = k11$district, adjust = TRUE)",
  input = list(yi = as.vector(uni$yi), vi = uni$vi, cluster = k11$district),
  expected = list(beta = as.vector(uni$beta), tau2 = uni$tau2, se = rob_uni$se,
                  zval = rob_uni$zval, pval = rob_uni$pval, ci_lb = rob_uni$ci.lb,
                  ci_ub = rob_uni$ci.ub, ddf = rob_uni$ddf[[1]], n_clusters = rob_uni$n))
out <- list(source = paste0("R ", getRversion(), ", metafor ", packageVersion("metafor"),
                            ", metadat ", packageVersion("metadat"), ", clubSandwich ",
                            packageVersion("clubSandwich")),
            cases = cases, robust_rma_uni = robust_uni)
cat(toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = TRUE))
