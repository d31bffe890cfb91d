# Reference values for tests/test_robust.py: metafor 3.8-1 robust(x, cluster, clubSandwich = TRUE)
# (clubSandwich's CR2 sandwich, Satterthwaite t-tests, HTZ Wald test) for rma.uni and rma.mv
# fits, with and without moderators.
# Run: Rscript tests/data/robust_cr2_metafor.R > tests/data/robust_cr2_metafor.json
# Each case stores its data (yi, vi or V, cluster, study, X), the exact R calls and the numbers.
suppressMessages({library(metafor); library(clubSandwich); library(jsonlite)})
tight_uni <- list(threshold = 1e-12, maxiter = 1000)
tight_mv <- list(rel.tol = 1e-12)

case <- function(name, call, cluster, study, note) {
  res <- eval(call)
  rob <- robust(res, cluster = cluster, clubSandwich = TRUE)
  X <- model.matrix(res)
  message(name)
  list(
    name = name, note = note, model = class(res)[1],
    call = paste(deparse(call, width.cutoff = 500L), collapse = " "),
    robust_call = "robust(res, cluster = cluster, clubSandwich = TRUE)",
    method = res$method, test = res$test,
    input = list(yi = as.vector(res$yi), vi = as.vector(res$vi),
                 V = if (inherits(res, "rma.mv")) unname(as.matrix(res$V)) else NULL,
                 cluster = cluster, study = study, X = unname(X), coef_names = colnames(X)),
    expected = list(
      beta = as.vector(res$beta), tau2 = if (inherits(res, "rma.mv")) NULL else res$tau2,
      sigma2 = if (inherits(res, "rma.mv")) res$sigma2 else NULL,
      se = rob$se, tval = rob$zval, pval = rob$pval, ci_lb = rob$ci.lb, ci_ub = rob$ci.ub,
      ddf = as.vector(rob$ddf), vb = unname(as.matrix(rob$vb)),
      QM = rob$QM, QMdf = as.vector(rob$QMdf), QMp = rob$QMp, n_clusters = rob$n)
  )
}

k11 <- dat.konstantopoulos2011
k11$y80 <- k11$year - 1980
b98 <- dat.berkey1998
V98 <- bldiag(lapply(split(b98[c("v1i", "v2i")], b98$trial), as.matrix))

cases <- list(
  case("uni_REML_district",
       quote(rma(yi, vi, data = k11, method = "REML", control = tight_uni)),
       k11$district, k11$school, "rma.uni, intercept only, clustered by district"),
  case("uni_DL_year_district",
       quote(rma(yi, vi, mods = ~ y80, data = k11, method = "DL")),
       k11$district, k11$school, "rma.uni, one moderator (q = 1), DerSimonian-Laird"),
  case("uni_REML_year2_district",
       quote(rma(yi, vi, mods = ~ y80 + I(y80^2), data = k11, method = "REML",
                 control = tight_uni)),
       k11$district, k11$school, "rma.uni, two moderators: HTZ test with q = 2"),
  case("mv_REML_district_school",
       quote(rma.mv(yi, vi, random = ~ 1 | district/school, data = k11, method = "REML",
                    control = tight_mv)),
       k11$district, k11$school, "three-level, intercept only"),
  case("mv_REML_year2_district_school",
       quote(rma.mv(yi, vi, mods = ~ y80 + I(y80^2), random = ~ 1 | district/school,
                    data = k11, method = "REML", control = tight_mv)),
       k11$district, k11$school, "three-level, two moderators: HTZ test with q = 2"),
  case("mv_berkey1998_V",
       quote(rma.mv(yi, V98, mods = ~ outcome - 1, random = ~ 1 | trial, data = b98,
                    method = "REML")),
       b98$trial, NULL, "known V, no intercept: HTZ test of both coefficients (q = 2)")
)
out <- list(source = paste0("R ", getRversion(), ", metafor ", packageVersion("metafor"),
                            ", metadat ", packageVersion("metadat"), ", clubSandwich ",
                            packageVersion("clubSandwich")),
            cases = cases)
cat(toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = TRUE))
