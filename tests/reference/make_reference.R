# Reference values for tests/unit/test_stats.py, computed in R on the fixed data sets in
# tests/data/reference/*.csv and written to tests/data/reference/r_values.json (committed, so
# the Python tests need no R). Re-run after changing a data set:
#
#   Rscript tests/reference/make_reference.R        (from the repository root)
#
# Needs R (>= 4.2) with the recommended package MASS and the CRAN packages survey and jsonlite
# (Debian: apt-get install r-base-core r-cran-survey; jsonlite comes with it). Every value is
# computed by base R, MASS or survey, independently of the Python implementation.

suppressPackageStartupMessages({
  library(MASS)
  library(survey)
  library(jsonlite)
})

dir <- "tests/data/reference"
read <- function(name) read.csv(file.path(dir, name), stringsAsFactors = FALSE)
out <- list()
htest <- function(x) {
  list(statistic = unname(x$statistic), df = if (is.null(x$parameter)) NA else unname(x$parameter),
       p = x$p.value)
}

# Pearson chi-square (Agresti 2007, Table 2.5: gender x party identification; X^2 = 30.1).
party <- read("agresti_party_identification.csv")
party_table <- xtabs(count ~ gender + party, party)
chisq <- chisq.test(party_table, correct = FALSE)
# Cramér's V and its CI by inverting the noncentral chi-square (Smithson 2003).
nc_bound <- function(chi2, df, target) {
  if (pchisq(chi2, df) <= target) return(0)
  uniroot(function(l) pchisq(chi2, df, ncp = l) - target, c(0, 10 * chi2 + 100), tol = 1e-12)$root
}
v_ci <- function(chi2, df, n, m, alpha = 0.05) {
  sqrt(c(nc_bound(chi2, df, 1 - alpha / 2), nc_bound(chi2, df, alpha / 2)) / (n * m))
}
n_party <- sum(party_table)
out$chisq_party <- c(htest(chisq), list(
  cramers_v = sqrt(unname(chisq$statistic) / (n_party * (min(dim(party_table)) - 1))),
  cramers_v_ci = v_ci(unname(chisq$statistic), unname(chisq$parameter), n_party, min(dim(party_table)) - 1)
))

# Sparse 5 x 3 table: Monte Carlo p with fixed margins (R's r2dtable), many resamples.
sparse <- read("sparse_frequency_segment.csv")
sparse_table <- xtabs(count ~ frequency + segment, sparse)
set.seed(20240115)
mc <- chisq.test(sparse_table, simulate.p.value = TRUE, B = 200000)
out$chisq_sparse_monte_carlo <- list(statistic = unname(mc$statistic), p = mc$p.value, B = 200000)

# Fisher's exact test (Fisher's tea-tasting experiment; two-sided p = 0.486).
tea <- read("fisher_tea_tasting.csv")
out$fisher_tea <- list(p = fisher.test(xtabs(count ~ poured_first + guess, tea))$p.value)

# McNemar (Agresti 2002, Table 10.1: presidential approval; z^2 = 17.36 without correction).
approval <- read("agresti_presidential_approval.csv")
approval_table <- xtabs(count ~ first_survey + second_survey, approval)
out$mcnemar_approval <- list(
  uncorrected = htest(mcnemar.test(approval_table, correct = FALSE)),
  corrected = htest(mcnemar.test(approval_table, correct = TRUE)),
  exact_p = binom.test(approval_table[1, 2], approval_table[1, 2] + approval_table[2, 1])$p.value
)

# Cochran-Mantel-Haenszel (Agresti 1990, penicillin and rabbits; R's mantelhaen.test example).
rabbits <- read("agresti_penicillin_rabbits.csv")
rabbits$delay <- factor(rabbits$delay, levels = c("immediate", "delayed"))
rabbits$response <- factor(rabbits$response, levels = c("cured", "died"))
rabbit_table <- xtabs(count ~ delay + response + penicillin_level, rabbits)
cmh <- function(correct) {
  x <- mantelhaen.test(rabbit_table, correct = correct)
  c(htest(x), list(odds_ratio = unname(x$estimate), ci = as.numeric(x$conf.int)))
}
out$cmh_rabbits <- list(uncorrected = cmh(FALSE), corrected = cmh(TRUE))

# Cochran-Armitage trend (Agresti 2002, sec. 5.3.5: alcohol and malformation, scores 0 .. 7).
alcohol <- read("agresti_alcohol_malformation.csv")
out$trend_alcohol <- htest(prop.trend.test(alcohol$malformed, alcohol$total, score = alcohol$score))

# Kruskal-Wallis (Hollander & Wolfe 1973, p. 116: mucociliary efficiency; H = 0.771).
muco <- read("hollander_wolfe_mucociliary.csv")
muco$group <- factor(muco$group, levels = c("normal", "obstructive", "asbestosis"))
out$kruskal_mucociliary <- htest(kruskal.test(efficiency ~ group, data = muco))

# Logistic regression: y ~ country + segment, and with the interaction; LR tests.
lc <- read("logit_country_segment.csv")
lc$dk <- as.numeric(lc$country == "DK")
lc$segment <- factor(lc$segment, levels = c("medium", "micro", "small"))
m0 <- glm(y ~ segment, family = binomial, data = lc)
m1 <- glm(y ~ dk + segment, family = binomial, data = lc)
m2 <- glm(y ~ dk * segment, family = binomial, data = lc)
ci <- confint.default(m1)["dk", ]
out$logit_country <- list(
  coef_dk = unname(coef(m1)["dk"]), se_dk = unname(sqrt(diag(vcov(m1)))["dk"]),
  odds_ratio = unname(exp(coef(m1)["dk"])), odds_ratio_ci = unname(exp(ci)),
  lr_main = unname(deviance(m0) - deviance(m1)),
  p_main = anova(m0, m1, test = "LRT")[2, "Pr(>Chi)"],
  lr_interaction = unname(deviance(m1) - deviance(m2)),
  df_interaction = anova(m1, m2, test = "LRT")[2, "Df"],
  p_interaction = anova(m1, m2, test = "LRT")[2, "Pr(>Chi)"]
)

# Proportional-odds model of an ordered item on the segment score (MASS::polr).
os <- read("ordinal_segment.csv")
os$level <- factor(os$level, levels = sort(unique(os$level)), ordered = TRUE)
polr_fit <- polr(level ~ score, data = os, method = "logistic", Hess = TRUE)
se_score <- sqrt(diag(vcov(polr_fit)))["score"]
out$polr_score <- list(coef = unname(coef(polr_fit)["score"]), se = unname(se_score),
                       thresholds = unname(polr_fit$zeta),
                       wald_chi2 = unname((coef(polr_fit)["score"] / se_score)^2))

# Design-based weighted share: survey::svymean (linearisation SE) and svyciprop (Korn-Graubard
# "beta"); Kish's effective n and a Wilson interval on it (prop.test without correction).
ws <- read("weighted_share.csv")
design <- svydesign(ids = ~1, weights = ~weight, data = ws)
mean_y <- svymean(~y, design)
kg <- svyciprop(~y, design, method = "beta")
kish <- sum(ws$weight)^2 / sum(ws$weight^2)
share <- unname(coef(mean_y))
out$weighted_share <- list(
  share = share, se = as.numeric(SE(mean_y)), korn_graubard_ci = as.numeric(confint(kg)),
  kish_n = kish,
  wilson_kish_ci = as.numeric(suppressWarnings(prop.test(share * kish, kish, correct = FALSE))$conf.int)
)

# Wilson interval of an unweighted share (prop.test without continuity correction).
out$wilson_4_of_10 <- as.numeric(prop.test(4, 10, correct = FALSE)$conf.int)

# Cochran's Q as the generalised CMH statistic with respondents as strata (Agresti 2002,
# sec. 11.2.3): item x answer tables, one per respondent; equals Cochran's Q.
cq <- read("cochran_q_items.csv")
k <- ncol(cq)
long <- data.frame(respondent = rep(seq_len(nrow(cq)), times = k),
                   item = factor(rep(names(cq), each = nrow(cq)), levels = names(cq)),
                   answer = factor(unlist(cq), levels = c(0, 1)))
informative <- rowSums(cq) > 0 & rowSums(cq) < k  # constant respondents add nothing to Q
long <- long[long$respondent %in% which(informative), ]
gcmh <- mantelhaen.test(xtabs(~ item + answer + respondent, long))
out$cochran_q <- c(htest(gcmh), list(n = nrow(cq)))

# Holm and Benjamini-Hochberg adjustment.
pv <- read("pvalues.csv")$p
out$p_adjust <- list(p = pv, holm = p.adjust(pv, "holm"), bh = p.adjust(pv, "BH"))

out$generated_by <- list(
  script = "tests/reference/make_reference.R",
  r = R.version.string,
  packages = list(MASS = as.character(packageVersion("MASS")),
                  survey = as.character(packageVersion("survey")),
                  jsonlite = as.character(packageVersion("jsonlite")))
)
write_json(out, file.path(dir, "r_values.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat("wrote", file.path(dir, "r_values.json"), "\n")
