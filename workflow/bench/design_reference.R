# R's side of workflow/bench/design.py (run by it; not meant to be run by hand):
#
#   Rscript workflow/bench/design_reference.R DATA.csv POPULATION.csv ESTIMATES.csv TIMES.csv REPEATS
#
# DATA has respondent_id, sample (panel / expert), segment, cell (the segment within the panel,
# "expert" for the expert sample) and one 0/1/NA column per indicator (item01, ...); POPULATION
# has cell and Freq (the panel's targets and the expert sample's size, so its weights stay 1).
# The design is the one the weights stage makes: samples as strata, post-stratified by cell.
# Each indicator's shares per segment of the panel, on the answered base, come from svyby with
# svyciprop's Korn-Graubard ("beta") interval; subset() of a calibrated design keeps every row
# (weight 0 outside), which is domain estimation, as smesocial.design does it. Building the
# design and the estimation are timed apart with system.time, REPEATS times each; reading the
# CSV is not timed. ESTIMATES gets item, segment, share, se, ci_low, ci_high (17 significant
# digits); TIMES gets step, repeat, elapsed and cpu seconds (user + system) and survey's version.

suppressPackageStartupMessages(library(survey))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 5) stop("usage: design_reference.R DATA POPULATION ESTIMATES TIMES REPEATS")
repeats <- as.integer(args[5])
data <- read.csv(args[1], stringsAsFactors = FALSE)
data$segment <- factor(data$segment)
population <- read.csv(args[2], stringsAsFactors = FALSE)
items <- grep("^item", names(data), value = TRUE)

make_design <- function() {
  postStratify(svydesign(ids = ~1, strata = ~sample, weights = ~1, data = data), ~cell, population)
}

estimate <- function(D) {
  rows <- lapply(items, function(item) {
    d <- eval(bquote(subset(D, sample == "panel" & !is.na(.(as.name(item))))))
    b <- svyby(as.formula(paste0("~", item)), ~segment, d, svyciprop, method = "beta",
               vartype = c("se", "ci"), na.rm = TRUE)
    data.frame(item = item, segment = as.character(b$segment), share = unname(b[[item]]),
               se = unname(SE(b)), ci_low = unname(b$ci_l), ci_high = unname(b$ci_u))
  })
  do.call(rbind, rows)
}

cpu <- function(t) unname(t[["user.self"]] + t[["sys.self"]])
times <- NULL
for (r in seq_len(repeats)) {
  invisible(gc())
  t <- system.time(D <- make_design())
  times <- rbind(times, data.frame(step = "design", `repeat` = r, elapsed = t[["elapsed"]],
                                   cpu = cpu(t), check.names = FALSE))
}
for (r in seq_len(repeats)) {
  invisible(gc())
  t <- system.time(estimates <- estimate(D))
  times <- rbind(times, data.frame(step = "estimation", `repeat` = r, elapsed = t[["elapsed"]],
                                   cpu = cpu(t), check.names = FALSE))
}
times$survey <- as.character(packageVersion("survey"))

for (column in c("share", "se", "ci_low", "ci_high")) {
  estimates[[column]] <- sprintf("%.17g", estimates[[column]])
}
write.csv(estimates, args[3], row.names = FALSE)
write.csv(times, args[4], row.names = FALSE)
