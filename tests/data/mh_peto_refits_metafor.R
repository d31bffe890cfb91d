suppressMessages(library(metafor))
ig <- data.frame(ai=c(7,12,13), n1i=c(11,30,19), ci=c(0,9,2), n2i=c(12,30,20))
b <- dat.bcg
b$tpos[3] <- 0; b$cpos[3] <- 0  # a double-zero table
bs <- b[order(b$year), ]  # cumulative: studies added by year (ties in data order)
p <- function(tag, x) { x <- as.data.frame(x); for (i in seq_len(nrow(x))) cat(tag, i, sprintf("%.17g", c(x$estimate[i], x$se[i], x$zval[i], x$pval[i], x$ci.lb[i], x$ci.ub[i], x$Q[i], x$Qp[i], x$I2[i], x$H2[i])), "\n") }
for (m in c("RR","OR","RD")) {
  r <- rma.mh(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=ig, measure=m)
  p(paste0("ig_loo_", m), leave1out(r)); p(paste0("ig_cum_", m), cumul(r))
  r <- rma.mh(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=b, measure=m)
  p(paste0("bcg_loo_", m), leave1out(r))
  p(paste0("bcg_cum_", m), cumul(rma.mh(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=bs, measure=m)))
}
r <- rma.peto(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=ig)
p("ig_loo_PETO", leave1out(r)); p("ig_cum_PETO", cumul(r))
r <- rma.peto(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=b)
p("bcg_loo_PETO", leave1out(r))
p("bcg_cum_PETO", cumul(rma.peto(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=bs)))
