# Design-based reference values from R's survey package, on the fixtures that
# tests/reference/make_design_fixtures.py writes from the built results of the shipped (synthetic)
# data, written to tests/data/reference/r_design_values.json (committed, so the Python tests of
# the design-based estimators need no R). Re-run after changing a fixture:
#
#   Rscript tests/reference/make_design_reference.R        (from the repository root)
#
# Needs R (>= 4.2) with the CRAN packages survey (4.x) and jsonlite. Every value is computed by
# survey itself; a call that fails stores {"error": message} under its key instead of stopping the
# script, and warnings R gives are kept beside the value under "warnings".

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

dir <- "tests/data/reference"
read <- function(name) read.csv(file.path(dir, name), stringsAsFactors = FALSE, comment.char = "#")
out <- list()

# ---- helpers ---------------------------------------------------------------------------------

# Evaluate `expr`; an error becomes list(error = message); warnings are collected and, when the
# value is a list, added to it as `warnings` (unique messages, in the order given).
safe <- function(expr) {
  warned <- character(0)
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) list(error = conditionMessage(e))),
    warning = function(w) {
      # glm's note on zero-weight rows (every domain of a calibrated design has them) is noise.
      if (!grepl("observations with zero weight not used for calculating dispersion",
                 conditionMessage(w), fixed = TRUE)) {
        warned <<- c(warned, conditionMessage(w))
      }
      invokeRestart("muffleWarning")
    }
  )
  if (length(warned) && is.list(value)) value$warnings <- unique(warned)
  value
}
named <- function(v) as.list(setNames(as.numeric(v), names(v)))  # a JSON object (write_json drops vector names)
num <- function(x) unname(as.numeric(x))  # a plain number (vector); svystat/htest parts are 1x1 matrices
coef_block <- function(m) {
  list(coef_names = names(coef(m)), coef = named(coef(m)), se = named(setNames(SE(m), names(coef(m)))),
       vcov = unname(as.matrix(vcov(m))))
}
htest_parts <- function(x) {
  parameter <- x$parameter
  if (!is.null(parameter) && is.null(names(parameter))) names(parameter) <- rep("df", length(parameter))
  list(statistic = num(x$statistic), statistic_name = names(x$statistic),
       parameter = if (is.null(parameter)) NULL else named(parameter), p = num(x$p.value))
}
# regTermTest's numbers: Wald gives Ftest, df, ddf, p; LRT gives chisq, lambda, p (and df).
term_test <- function(m, terms, ...) {
  r <- regTermTest(m, terms, ...)
  keep <- intersect(c("Ftest", "chisq", "df", "ddf", "lambda", "p"), names(r))
  rval <- lapply(r[keep], function(v) unname(as.numeric(v)))
  options <- list(...)
  rval$method <- if (is.null(options$method)) "Wald" else options$method
  if (rval$method == "LRT") {
    rval$lrt_approximation <- if (is.null(options$lrt.approximation)) "saddlepoint" else options$lrt.approximation
  }
  rval
}
n_in <- function(design) sum(weights(design) != 0)  # respondents with non-zero weight
# Every svyglm here is fitted to glm's convergence at epsilon 1e-14 (R's default 1e-8 leaves
# coefficients up to ~1e-6 from the maximum, as much as the comparisons' tolerance).
tight <- glm.control(epsilon = 1e-14, maxit = 100)
# glm's default start can send IRLS astray when svyglm's rescaled weights are large (see
# logit_converged below): refit from eta = 0 and report how far the coefficients moved.
refit_moved <- function(m, formula, design) {
  start <- rep(0, length(coef(m)))
  again <- eval(bquote(svyglm(.(formula), design = .(design), family = quasibinomial(),
                              start = .(start), control = tight)))
  max(abs(coef(again) - coef(m)))
}

# ---- data and designs ------------------------------------------------------------------------

no <- read("design_no_2010.csv")
no$segment <- factor(no$segment, levels = c("micro", "small", "medium", "large"))
no$expert <- as.numeric(no$sample == "expert")
items <- setdiff(names(no), c("row", "sample", "segment", "segment_score", "cell", "expert"))
pop <- read("design_population.csv")
pop <- data.frame(cell = pop$cell, Freq = pop$count)
D <- postStratify(svydesign(ids = ~1, strata = ~sample, weights = ~1, data = no), ~cell, pop)

pooled <- read("design_pooled.csv")
pooled$segment_common <- factor(pooled$segment_common, levels = c("micro_small", "medium_large"))
pooled$dk <- as.numeric(pooled$country == "DK")
pooled_pop <- read("design_pooled_population.csv")
pooled_pop <- data.frame(cell = pooled_pop$cell, Freq = pooled_pop$count)
P <- postStratify(svydesign(ids = ~1, strata = ~stratum, weights = ~1, data = pooled), ~cell,
                  pooled_pop)

dk <- read("design_dk_ordinal.csv")
dk$segment <- factor(dk$segment, levels = c("micro", "small", "medium"))
# svyolr on a calibrated domain fails when the response has NA (survey 4.1-1: its weights keep
# every row, its model frame drops the NA rows). The domain's NA rows have weight 0, so an
# ordinal copy with NA filled by level 1 fits the same domain model: zero-weight rows add nothing
# to the likelihood, its score or the influence functions.
for (item in c("professionalism", "post_linkedin")) {
  dk[[paste0(item, "_filled")]] <- ifelse(is.na(dk[[item]]), 1L, dk[[item]])
}
dk_pop <- read("design_dk_population.csv")  # made-up targets, see the file's comment
dk_pop <- data.frame(cell = dk_pop$cell, Freq = dk_pop$count)
K <- postStratify(svydesign(ids = ~1, weights = ~1, data = dk), ~cell, dk_pop)

versions <- sessionInfo()
input_files <- c("design_no_2010.csv", "design_population.csv", "design_pooled.csv",
                 "design_pooled_population.csv", "design_dk_ordinal.csv", "design_dk_population.csv")
out$meta <- list(
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  r_version_string = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  jsonlite_version = as.character(packageVersion("jsonlite")),
  platform = versions$platform,
  input_md5 = as.list(setNames(unname(tools::md5sum(file.path(dir, input_files))), input_files)),
  designs = list(
    D = "postStratify(svydesign(ids = ~1, strata = ~sample, weights = ~1, data = design_no_2010), ~cell, design_population$count)",
    P = "postStratify(svydesign(ids = ~1, strata = ~stratum, weights = ~1, data = design_pooled), ~cell, design_pooled_population$count)",
    K = "postStratify(svydesign(ids = ~1, weights = ~1, data = design_dk_ordinal), ~cell, design_dk_population$count)"
  ),
  notes = list(
    domains = "every estimate is on subset(design, ...): calibrated designs keep all rows with weight 0 outside the subset (domain estimation); na.rm = TRUE only zeroes the NA rows that the subset already excludes",
    deff = "svymean(deff = TRUE): v / (svyvar(x) * (N - n) / (N * n)), N = sum of the domain's weights, n = respondents with non-zero weight, svyvar with divisor n - 1 (SRS without replacement); null when N < n (R refuses). deff_replace: svymean(deff = 'replace'): v / (svyvar(x) / n)",
    degf = "degf(design) = number of PSUs (respondents) with non-zero weight minus number of strata among them",
    svyciprop = "df = degf(design). logit: svyglm(y ~ 1, quasibinomial) Wald interval on the logit scale with t(df) quantile, back-transformed; likelihood: profile of that fit; xlogit: svymean SE by delta method on logit, t(df); beta: Korn-Graubard, n_eff = p(1-p)/var * (qt(0.025, nrow(design) - 1) / qt(0.025, df))^2, where nrow(design) is the row count of the whole data (750 for D, zero-weight rows included)",
    svyglm = "fitted with control = glm.control(epsilon = 1e-14, maxit = 100) (svyciprop's internal fit keeps R's default); df.residual = degf(design) + 1 - number of coefficients; confint(m) is Wald with t(df.residual) quantile; regTermTest uses df = df.residual",
    svychisq = "nu = number of PSUs minus number of strata over ALL rows of the design, zero-weight rows included (748 for subset(D, sample == 'panel'), 331 for K), not degf(subset): F has ndf = d0, ddf = d0 * nu (Rao-Scott second order); Wald ddf = nu; adjWald ddf = nu - ndf + 1. lincom fell back to saddlepoint (CompQuadForm is not installed), so lincom = saddlepoint here",
    svyttest = "one-sample svyttest(y ~ 0): t = svymean / SE, df = degf(design) - 1, CI with t(df)",
    svyranktest = "KruskalWallis (k > 2 groups): chisq = Wald statistic of the group coefficients of a weighted lm of rank scores, ndf = k - 1, ddf = degf(design) - ndf, p = pf(chisq / ndf, ndf, ddf); survey returns chisq under `parameter` and ndf under `statistic`, stored here by name",
    regTermTest = "Wald: Ftest = Wald chisq / df, ddf = df.residual, p = pf. LRT: chisq = working deviance difference, lambda = eigenvalues of the design effect matrix, p = pFsum(chisq, 1, lambda, ddf = df.residual, method = lrt.approximation): P(sum lambda_i chi2_1 > chisq * chi2_ddf / ddf); satterthwaite: pf(chisq / (ndf * scale), ndf, ddf) with tr = mean(lambda), scale = mean(lambda^2) / tr, ndf = length(lambda) * tr^2 / mean(lambda^2); saddlepoint: Kuonen's saddlepoint on lambda and -chisq / ddf",
    json = "jsonlite digits = NA: 15 significant digits; NA, NaN and Inf are written as null"
  )
)

# ---- A. weights ------------------------------------------------------------------------------

out$weights <- list(D = unname(weights(D)), P = unname(weights(P)), K = unname(weights(K)))

# ---- B. shares by domain ---------------------------------------------------------------------

share_entry <- function(item, domain) {
  f <- as.formula(paste0("~", item))
  in_domain <- eval(domain, no) & !is.na(no[[item]])
  d <- subset(D, in_domain)
  rval <- list(n = n_in(d), degf = degf(d))
  rval <- c(rval, safe({
    m <- svymean(f, d, na.rm = TRUE, deff = TRUE)
    list(mean = num(coef(m)), se = num(SE(m)), deff = num(deff(m)),
         deff_replace = num(deff(svymean(f, d, na.rm = TRUE, deff = "replace"))))
  }))
  for (method in c("logit", "beta", "likelihood", "xlogit")) {
    rval[[method]] <- safe({
      p <- svyciprop(f, d, method = method, level = 0.95, na.rm = TRUE)
      ci <- unname(as.numeric(attr(p, "ci")))
      if (method %in% c("logit", "beta")) ci else list(estimate = unname(as.numeric(p)), ci = ci)
    })
  }
  # svyciprop(method = "logit") is svyglm(y ~ 1, quasibinomial) plus a Wald interval with
  # t(degf). svyglm rescales the weights to mean 1 over ALL rows (zero-weight rows included), so a
  # small domain of small weights gets large glm weights (about 50 for panel_medium), and glm's
  # default start then sends IRLS off to a false "converged" fit (intercept about -4e15, CI [0, 0]).
  # logit_converged is the same computation started at the answer, logit(mean); logit_fit_ok says
  # whether svyciprop's own fit agrees with it. Undefined for a mean of 0 or 1.
  rval$logit_converged <- safe({
    share <- rval$mean
    if (is.null(share) || share <= 0 || share >= 1) {
      NULL
    } else {
      # start inlined: svyglm evaluates its glm call away from this frame.
      m <- eval(bquote(svyglm(.(as.formula(paste(item, "~ 1"))), d, family = quasibinomial(),
                              start = .(qlogis(share)), control = tight)))
      ci <- plogis(as.numeric(confint(m, 1, method = "Wald", ddf = degf(d))))
      list(estimate = plogis(num(coef(m))), ci = ci, logit = num(coef(m)), se_logit = num(SE(m)))
    }
  })
  if (is.list(rval$logit_converged) && is.null(rval$logit_converged$error) && is.numeric(rval$logit)) {
    rval$logit_fit_ok <- isTRUE(all.equal(rval$logit, rval$logit_converged$ci, tolerance = 1e-8))
  }
  rval
}
domains <- list(panel = quote(sample == "panel"))
for (s in levels(no$segment)) {
  domains[[paste0("panel_", s)]] <- bquote(sample == "panel" & segment == .(s))
}
out$shares <- list()
for (item in items) {
  out$shares[[item]] <- lapply(domains, function(domain) share_entry(item, domain))
}

# svyby with svyciprop (beta) per segment: must equal the per-segment subsets above.
out$shares_svyby <- list()
for (item in c("present_facebook", "purpose_recruitment_linkedin")) {
  out$shares_svyby[[item]] <- safe({
    d <- subset(D, sample == "panel" & !is.na(no[[item]]))
    b <- svyby(as.formula(paste0("~", item)), ~segment, d, svyciprop, method = "beta",
               vartype = "ci", na.rm = TRUE)
    list(segment = as.character(b$segment), estimate = unname(b[[item]]),
         ci_low = unname(b$ci_l), ci_high = unname(b$ci_u))
  })
}

# ---- C. Rao-Scott tests ----------------------------------------------------------------------

statistics <- c("F", "Chisq", "Wald", "adjWald", "lincom", "saddlepoint")
out$rao_scott <- list()
for (item in c("present_facebook", "present_linkedin", "present_blog")) {
  by_segment <- list()
  by_sample <- list()
  for (s in statistics) {
    by_segment[[s]] <- safe(htest_parts(svychisq(as.formula(paste0("~", item, " + segment")),
                                                 subset(D, sample == "panel"), statistic = s)))
    by_sample[[s]] <- safe(htest_parts(svychisq(as.formula(paste0("~", item, " + sample")), D,
                                                statistic = s)))
  }
  out$rao_scott[[item]] <- list(by_segment_panel = by_segment, by_sample = by_sample)
}

# ---- D. svyglm (quasibinomial) -----------------------------------------------------------------

glm_entry <- function(formula, design, tests) {
  safe({
    # The design object itself goes into the call: regTermTest(method = "LRT") refits it.
    m <- eval(bquote(svyglm(.(formula), design = .(design), family = quasibinomial(),
                            control = .(tight))))
    ci <- confint(m)
    rval <- c(list(n = n_in(design), df_residual = m$df.residual, converged = m$converged,
                   coef_moved_on_refit_from_zero = refit_moved(m, formula, design)), coef_block(m),
              list(odds_ratio = named(exp(coef(m))),
                   confint = list(df = m$df.residual, low = named(ci[, 1]), high = named(ci[, 2])),
                   odds_ratio_ci = list(low = named(exp(ci[, 1])), high = named(exp(ci[, 2])))))
    for (name in names(tests)) rval[[name]] <- safe(do.call(term_test, c(list(m), tests[[name]])))
    rval
  })
}
lrt_tests <- function(term) {
  setNames(list(list(term, method = "Wald"), list(term, method = "LRT"),
                list(term, method = "LRT", lrt.approximation = "satterthwaite")),
           c("wald", "lrt", "lrt_satterthwaite"))
}
out$svyglm_no <- list()
for (item in grep("^(present_|post_daily_weekly_)", items, value = TRUE)) {
  out$svyglm_no[[item]] <- glm_entry(
    as.formula(paste(item, "~ expert + segment")),
    subset(D, !is.na(no[[item]])), setNames(lrt_tests(~expert), paste0("expert_", c("wald", "lrt", "lrt_satterthwaite"))))
}

out$svyglm_pooled <- list()
for (item in grep("^post_daily_weekly_", names(pooled), value = TRUE)) {
  bases <- list(without_expert = subset(P, stratum != "no_expert" & !is.na(pooled[[item]])),
                with_expert = subset(P, !is.na(pooled[[item]])))
  out$svyglm_pooled[[item]] <- lapply(bases, function(design) list(
    additive = glm_entry(as.formula(paste(item, "~ dk + segment_common")), design,
                         list(dk_wald = list(~dk, method = "Wald"))),
    interaction = glm_entry(as.formula(paste(item, "~ dk * segment_common")), design, list(
      dk_wald = list(~dk, method = "Wald"),
      interaction_wald = list(~dk:segment_common, method = "Wald"),
      interaction_lrt = list(~dk:segment_common, method = "LRT"),
      interaction_lrt_satterthwaite = list(~dk:segment_common, method = "LRT",
                                           lrt.approximation = "satterthwaite")))
  ))
}

# ---- E. paired differences (McNemar analogue) ----------------------------------------------------

pairs <- c(
  lapply(c("facebook", "twitter", "linkedin", "youtube", "blog"), function(x)
    c(paste0("purpose_profiling_marketing_", x), paste0("purpose_customer_dialogue_", x))),
  list(c("purpose_recruitment_linkedin", "purpose_profiling_marketing_linkedin")),
  lapply(c("facebook", "twitter", "youtube", "blog"), function(x)
    c(paste0("purpose_profiling_marketing_", x), paste0("purpose_recruitment_", x)))
)
out$paired <- list()
for (pair in pairs) {
  a <- pair[1]
  b <- pair[2]
  out$paired[[paste0(a, "__minus__", b)]] <- safe({
    d <- subset(D, sample == "panel" & !is.na(no[[a]]) & !is.na(no[[b]]))
    difference <- svymean(as.formula(paste0("~I(", a, " - ", b, ")")), d, na.rm = TRUE)
    t <- svyttest(as.formula(paste0("I(", a, " - ", b, ") ~ 0")), d, na.rm = TRUE)
    ma <- svymean(as.formula(paste0("~", a)), d, na.rm = TRUE)
    mb <- svymean(as.formula(paste0("~", b)), d, na.rm = TRUE)
    list(a = a, b = b, n = n_in(d), degf = degf(d),
         mean_difference = num(coef(difference)), se_difference = num(SE(difference)),
         svyttest = c(htest_parts(t), list(conf_int = num(t$conf.int), estimate = num(t$estimate))),
         mean_a = num(coef(ma)), se_a = num(SE(ma)), mean_b = num(coef(mb)), se_b = num(SE(mb)))
  })
}

# ---- F. trend over the size segments -----------------------------------------------------------

out$trend <- list()
for (item in grep("^present_", items, value = TRUE)) {
  d <- subset(D, sample == "panel" & !is.na(no[[item]]))
  out$trend[[item]] <- list(
    n = n_in(d),
    svyglm = safe({
      f <- as.formula(paste(item, "~ segment_score"))
      m <- svyglm(f, design = d, family = quasibinomial(), control = tight)
      c(list(df_residual = m$df.residual, coef_moved_on_refit_from_zero = refit_moved(m, f, d)),
        coef_block(m),
        list(segment_score_wald = term_test(m, ~segment_score, method = "Wald")))
    }),
    # As the brief asks; survey 4.1-1 refuses covmat = TRUE on a calibrated design's domain.
    largest_minus_smallest_svyby = safe({
      b <- svyby(as.formula(paste0("~", item)), ~segment, d, svymean, covmat = TRUE, na.rm = TRUE)
      difference <- svycontrast(b, setNames(c(-1, 0, 0, 1), levels(no$segment)))
      list(estimate = num(coef(difference)), se = num(SE(difference)))
    }),
    segment_means_svyby = safe({
      b <- svyby(as.formula(paste0("~", item)), ~segment, d, svymean, na.rm = TRUE)
      list(segment = as.character(b$segment), mean = num(b[[item]]), se = num(SE(b)))
    }),
    # The same contrast of the two domain means (large - micro) by linearisation: the domain
    # mean is the ratio of totals sum(w y 1_s) / sum(w 1_s), so svycontrast's delta method gives
    # the domain influence functions svyby would combine.
    largest_minus_smallest = safe({
      y <- ifelse(is.na(no[[item]]), 0, no[[item]])  # NA only in rows outside d (weight 0)
      dd <- update(d, y_large = y * (segment == "large"), in_large = as.numeric(segment == "large"),
                   y_micro = y * (segment == "micro"), in_micro = as.numeric(segment == "micro"))
      totals <- svytotal(~y_large + in_large + y_micro + in_micro, dd)
      difference <- svycontrast(totals, quote(y_large / in_large - y_micro / in_micro))
      list(contrast = "large - micro", estimate = num(coef(difference)), se = num(SE(difference)),
           method = "svycontrast(svytotal(~y_large + in_large + y_micro + in_micro), y_large/in_large - y_micro/in_micro)")
    })
  )
}

# ---- G. Danish ordinal fixture (artificial calibration) -------------------------------------------

olr_entry <- function(item, response, tight) {
  safe({
    d <- subset(K, !is.na(dk[[item]]))
    f <- as.formula(paste0("factor(", response, ", ordered = TRUE) ~ segment_score"))
    n_par <- 1 + length(unique(na.omit(dk[[item]]))) - 1
    m <- if (tight) {
      svyolr(f, d, control = list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-5, n_par)))
    } else {
      svyolr(f, d)
    }
    c(list(n = n_in(d), response = response, levels = levels(factor(dk[[item]])),
           df_residual = m$df.residual, convergence = m$convergence), coef_block(m))
  })
}
# Point estimates only: the same weights on the answered rows as an uncalibrated design.
olr_check <- function(item) {
  safe({
    answered <- !is.na(dk[[item]])
    plain <- svydesign(ids = ~1, weights = ~w, data = cbind(dk, w = weights(K))[answered, ])
    m <- svyolr(as.formula(paste0("factor(", item, ", ordered = TRUE) ~ segment_score")), plain,
                control = list(reltol = 1e-15, maxit = 10000))
    named(coef(m))
  })
}
kw_parts <- function(x) {
  # survey's multi-group svyranktest returns the statistic under `parameter` and its df under
  # `statistic`; here they are put back under their own names.
  list(chisq = num(x$parameter), ndf = num(x$statistic), ddf = num(x$ddf), p = num(x$p.value),
       p_formula = "pf(chisq / ndf, ndf, ddf, lower.tail = FALSE)", ddf_formula = "degf(design) - ndf")
}
out$dk_ordinal <- list(
  weights_note = "calibrated to made-up targets (design_dk_population.csv), not a claim",
  svyolr = lapply(setNames(nm = c("professionalism", "post_linkedin")), function(item) list(
    as_asked = olr_entry(item, item, FALSE),
    default = olr_entry(item, paste0(item, "_filled"), FALSE),
    tight = olr_entry(item, paste0(item, "_filled"), TRUE),
    coef_check_uncalibrated_answered_rows = olr_check(item),
    note = "as_asked is svyolr on subset(K, !is.na(item)), which survey 4.1-1 refuses; default and tight fit the same domain with the NA responses (weight 0) filled. svyolr maximises by optim(BFGS) and takes vcov from optim's finite-difference Hessian: default = optim's reltol 1e-8 and ndeps 1e-3; tight = reltol 1e-15, maxit 10000, ndeps 1e-5: compare a converged estimator against tight. Coefficients: segment_score (beta) then zeta thresholds 'j|j+1', logit P(Y <= j) = zeta_j - beta x"
  )),
  kruskal_wallis = list(
    full_design = safe(kw_parts(svyranktest(professionalism ~ segment, K, test = "KruskalWallis"))),
    answered = safe(kw_parts(svyranktest(professionalism ~ segment,
                                         subset(K, !is.na(professionalism)),
                                         test = "KruskalWallis")))
  ),
  rao_scott_want_more = lapply(setNames(nm = c("F", "Chisq")), function(s)
    safe(htest_parts(svychisq(~want_more_with_resources + segment, K, statistic = s)))),
  trend_want_more = safe({
    d <- subset(K, !is.na(want_more_with_resources))
    f <- want_more_with_resources ~ segment_score
    m <- svyglm(f, design = d, family = quasibinomial(), control = tight)
    c(list(n = n_in(d), df_residual = m$df.residual,
           coef_moved_on_refit_from_zero = refit_moved(m, f, d)), coef_block(m),
      list(segment_score_wald = term_test(m, ~segment_score, method = "Wald")))
  })
)

# ---- H. Wald test of equal means of paired binary items (Cochran's Q analogue) --------------------

out$equal_means <- list()
triples <- list(c("present_facebook", "present_linkedin", "present_twitter"))
for (triple in triples) {
  out$equal_means[[paste(triple, collapse = "__")]] <- safe({
    answered <- Reduce(`&`, lapply(triple, function(v) !is.na(no[[v]])))
    d <- subset(D, sample == "panel" & answered)
    m <- svymean(as.formula(paste0("~", paste(triple, collapse = " + "))), d, na.rm = TRUE)
    C <- rbind(c(1, -1, 0), c(1, 0, -1))
    difference <- C %*% coef(m)
    V <- C %*% vcov(m) %*% t(C)
    X2 <- as.numeric(t(difference) %*% solve(V) %*% difference)
    contrast <- svycontrast(m, list(first_minus_second = setNames(C[1, ], triple),
                                    first_minus_third = setNames(C[2, ], triple)))
    list(items = triple, n = n_in(d), degf = degf(d), means = named(coef(m)),
         vcov = unname(as.matrix(vcov(m))), contrasts = C,
         X2 = X2, F = X2 / 2, ndf = 2, ddf = degf(d),
         p_F = pf(X2 / 2, 2, degf(d), lower.tail = FALSE),
         p_chisq = pchisq(X2, 2, lower.tail = FALSE),
         svycontrast = list(estimate = named(coef(contrast)), se = named(SE(contrast)),
                            vcov = unname(as.matrix(vcov(contrast)))))
  })
}

write_json(out, file.path(dir, "r_design_values.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
