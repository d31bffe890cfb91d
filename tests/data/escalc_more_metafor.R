# Reference values for tests/test_effects_escalc_more.py: metafor 3.8-1 escalc for SMDH, SMD
# (vtype), ROM, SMCR, COR, UCOR, IR, IRLN, IRR, IRD, IRSD, AS, PHI, YUQ.
# Run: Rscript tests/data/escalc_more_metafor.R > tests/data/escalc_more_metafor.csv
# One row per study and call. Columns: case, measure, call (the exact escalc call), the
# settings vtype/add/to/drop00 ("" = metafor's default), row, the input columns (NA = missing
# or not an input of this measure), yi, vi (%.17g, NA = R's NA), and note: R's warnings
# (joined by " | "), or "ERROR <message>" when escalc stops (then yi and vi are NA).
suppressMessages(library(metafor))
inputs <- c("ai", "bi", "ci", "di", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "ri", "ni",
            "xi", "ti", "x1i", "t1i", "x2i", "t2i")
cat(paste(c("case", "measure", "call", "vtype", "add", "to", "drop00", "row", inputs,
            "yi", "vi", "note"), collapse = ","), "\n", sep = "")
num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
quote_csv <- function(s) paste0('"', gsub('"', '""', s), '"')
run <- function(case, d, measure, cols, vtype = "", add = "", to = "", drop00 = "") {
  args <- paste0(cols, " = ", cols, collapse = ", ")
  extra <- ""
  if (vtype != "") extra <- paste0(extra, ', vtype = "', vtype, '"')
  if (add != "") extra <- paste0(extra, ", add = ", add)
  if (to != "") extra <- paste0(extra, ', to = "', to, '"')
  if (drop00 != "") extra <- paste0(extra, ", drop00 = ", drop00)
  call <- sprintf('escalc(measure = "%s", %s, data = d%s)', measure, args, extra)
  warns <- character(0)
  res <- withCallingHandlers(
    tryCatch(eval(parse(text = call)), error = function(e) conditionMessage(e)),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  head <- c(case, measure, quote_csv(call), vtype, add, to, drop00)
  failed <- is.character(res)
  note <- if (failed) paste("ERROR", gsub("\n", " ", res)) else paste(gsub("\n", " ", warns), collapse = " | ")
  for (i in seq_len(nrow(d))) {
    vals <- sapply(inputs, function(col) if (col %in% cols) num(d[[col]][i]) else "NA")
    yv <- if (failed) c("NA", "NA") else c(num(res$yi[i]), num(res$vi[i]))
    cat(paste(c(head, i, vals, yv, quote_csv(note)), collapse = ","), "\n", sep = "")
  }
}

# ---- two-group means: SMDH, SMD (vtype), ROM, MD
means_cols <- c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
normand <- dat.normand1999[, means_cols]
awkward_means <- data.frame(
  m1i = c(10, 5, 7, -2, NA, 4, 3),
  sd1i = c(2, 0, 1.5, 1, 1, 1, 0),
  n1i = c(20, 10, 1, 15, 12, 30, 8),
  m2i = c(8, 5, 6, 3, 2, 0, 3),
  sd2i = c(3, 0, 2, 1.2, 1, 1.1, 0.5),
  n2i = c(25, 12, 1, 14, 12, 28, 9))
for (case in c("normand1999", "awkward_means")) {
  d <- if (case == "normand1999") normand else awkward_means
  for (vt in c("", "LS2")) run(case, d, "SMDH", means_cols, vtype = vt)
  for (vt in c("", "UB", "LS2", "AV")) run(case, d, "SMD", means_cols, vtype = vt)
  for (vt in c("", "HO", "AV", "AVHO")) run(case, d, "ROM", means_cols, vtype = vt)
  run(case, d, "MD", means_cols, vtype = "UB")
}
normand_one <- normand
normand_one$sd2i[3] <- -1
run("negative_sd", normand_one, "SMDH", means_cols)
normand_one <- normand
normand_one$n1i[2] <- 0
run("zero_n", normand_one, "ROM", means_cols)

# ---- pre-post standardised mean change, raw-score standardisation
smcr_cols <- c("m1i", "m2i", "sd1i", "ni", "ri")
prepost <- data.frame(
  m1i = c(30.6, 23.5, 0.5, 53.4, 35.6, 10, 12, 8, NA),
  m2i = c(38.5, 26.8, 0.7, 75.9, 36.0, 12, 11, 8, 4),
  sd1i = c(15.0, 3.1, 0.1, 14.5, 4.7, 2, 3, 0, 1),
  ni = c(20, 50, 9, 10, 14, 12, 1, 7, 10),
  ri = c(0.47, 0.64, 0.77, 0.89, 0.44, 1, -1, 0.5, 0.3))
for (vt in c("", "LS2")) run("prepost", prepost, "SMCR", smcr_cols, vtype = vt)
bad <- prepost[1:3, ]
bad$ri[2] <- 1.2
run("r_above_one", bad, "SMCR", smcr_cols)
bad <- prepost[1:3, ]
bad$sd1i[3] <- -0.1
run("negative_sd_smcr", bad, "SMCR", smcr_cols)

# ---- raw correlations
cor_cols <- c("ri", "ni")
molloy <- dat.molloy2014[, cor_cols]
awkward_cor <- data.frame(ri = c(0.3, 1, -1, 0.5, 0.2, NA, 0), ni = c(50, 20, 20, 4, 1, 30, 2))
for (case in c("molloy2014", "awkward_cor")) {
  d <- if (case == "molloy2014") molloy else awkward_cor
  for (vt in c("", "AV")) run(case, d, "COR", cor_cols, vtype = vt)
  for (vt in c("", "UB", "AV")) run(case, d, "UCOR", cor_cols, vtype = vt)
}
run("cor_ub", molloy, "COR", cor_cols, vtype = "UB")
bad <- molloy[1:3, ]
bad$ri[2] <- -1.5
run("r_below_minus_one", bad, "COR", cor_cols)

# ---- incidence rates
hart <- dat.hart1999[, c("x1i", "t1i", "x2i", "t2i")]
niel <- dat.nielweise2008[, c("x1i", "t1i", "x2i", "t2i")]
zeros <- data.frame(x1i = c(0, 0, 3, 5, NA, 12), t1i = c(100, 50, 80, 120, 90, 300),
                    x2i = c(0, 4, 0, 7, 2, 10), t2i = c(110, 60, 75, 100, 95, 280))
two <- c("x1i", "t1i", "x2i", "t2i")
for (case in c("hart1999", "nielweise2008", "zeros")) {
  d <- list(hart1999 = hart, nielweise2008 = niel, zeros = zeros)[[case]]
  for (m in c("IRR", "IRD", "IRSD")) run(case, d, m, two)
}
for (m in c("IRR", "IRD", "IRSD")) {
  run("zeros", zeros, m, two, drop00 = "TRUE")
  run("zeros", zeros, m, two, to = "all")
  run("zeros", zeros, m, two, to = "if0all", add = "0.25")
  run("zeros", zeros, m, two, to = "none")
  run("zeros", zeros, m, two, add = "0")
}
one <- c("xi", "ti")
single <- data.frame(xi = c(hart$x1i, 0, NA), ti = c(hart$t1i, 250, 40))
for (m in c("IR", "IRLN")) {
  run("single_rates", single, m, one)
  run("single_rates", single, m, one, to = "all")
  run("single_rates", single, m, one, to = "if0all")
  run("single_rates", single, m, one, to = "none")
}
bad <- zeros[1:3, ]
bad$t2i[2] <- 0
run("zero_time", bad, "IRR", two)
bad <- single[1:3, ]
bad$ti[3] <- -5
run("negative_time", bad, "IR", one)
bad <- zeros[1:3, ]
bad$x1i[3] <- -1
run("negative_count", bad, "IRD", two)

# ---- 2x2 tables: arcsine risk difference, phi, Yule's Q
tab <- c("ai", "bi", "ci", "di")
bcg <- data.frame(ai = dat.bcg$tpos, bi = dat.bcg$tneg, ci = dat.bcg$cpos, di = dat.bcg$cneg)
awkward_tab <- data.frame(ai = c(0, 0, 5, 10, NA, 3), bi = c(10, 12, 0, 0, 5, 7),
                          ci = c(0, 3, 4, 8, 2, 0), di = c(12, 9, 6, 0, 8, 10))
for (case in c("bcg", "awkward_tab")) {
  d <- if (case == "bcg") bcg else awkward_tab
  run(case, d, "AS", tab)
  run(case, d, "AS", tab, add = "0.5")
  run(case, d, "YUQ", tab)
  for (vt in c("", "ST", "CS")) run(case, d, "PHI", tab, vtype = vt)
}
run("awkward_tab", awkward_tab, "YUQ", tab, to = "all", drop00 = "TRUE")
run("awkward_tab", awkward_tab, "AS", tab, to = "if0all", add = "0.5", drop00 = "TRUE")
