# Optimal information size reference values: R's power.prop.test (stats, R 4.x), two-sided,
# sig.level 0.05, strict = FALSE, with a tight root-finding tolerance.
# Run: Rscript tests/data/ois_power_prop_test.R > tests/data/ois_power_prop_test.csv
# control = control risk p0, change = relative change (+ increase / - reduction).
cases <- data.frame(
  control = c(0.2, 0.177, 0.1, 0.4, 0.05),
  change = c(-0.25, 0.25, -0.25, -0.25, 0.25),
  power = c(0.8, 0.8, 0.9, 0.8, 0.8)
)
cat("control,change,power,n_per_group\n")
for (i in seq_len(nrow(cases))) {
  p0 <- cases$control[i]
  p1 <- p0 * (1 + cases$change[i])
  r <- power.prop.test(p1 = p0, p2 = p1, power = cases$power[i], sig.level = 0.05, tol = 1e-12)
  cat(sprintf("%.17g,%.17g,%.17g,%.17g\n", p0, cases$change[i], cases$power[i], r$n))
}
