# Reference fits with lme4, R's standard package for mixed models.
#
# The course fits its models in Python (multilevel.fit). To check that those numbers are right we
# fit the same models to the same data with lme4 and compare. This script is the lme4 half.
#
# Usage:   Rscript fit_lme4.R DATA_DIR OUT.json
#
# DATA_DIR holds one CSV per data set, with three columns:
#   y      the outcome (e.g. salary in $)
#   x      the predictor (e.g. experience in years)
#   group  the group label (e.g. department)
# For every CSV we fit five models, each by REML and by maximum likelihood (ML), and write one JSON
# file with what lme4 reports for each fit.

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: Rscript fit_lme4.R DATA_DIR OUT.json")
data_dir <- args[1]
out_file <- args[2]

# The models, named as in multilevel.MODELS, in lme4's formula language.
models <- list(
  varying_intercepts              = y ~ x + (1 | group),      # each group its own intercept
  varying_slopes                  = y ~ x + (0 + x | group),  # each group its own slope
  varying_both                    = y ~ x + (1 + x | group),  # both, correlated
  varying_both_uncorrelated       = y ~ x + (1 + x || group), # both, correlation fixed at 0
  varying_intercepts_no_predictor = y ~ 1 + (1 | group)       # the "empty" model: no x at all
)

# Everything we compare for one fitted model.
describe_fit <- function(fit) {
  # Constant (fixed) part: estimates and standard errors, renamed to the course's words.
  coefs <- summary(fit)$coefficients
  fixed <- data.frame(
    term      = c("(Intercept)" = "intercept", x = "slope")[rownames(coefs)],
    estimate  = coefs[, "Estimate"],
    std_error = coefs[, "Std. Error"],
    row.names = NULL
  )

  # Varying (random) part: the SD of each varying part and, if estimated, their correlation.
  vc <- as.data.frame(VarCorr(fit))
  part_name <- c("(Intercept)" = "intercept", x = "slope")
  sds <- vc[vc$grp != "Residual" & is.na(vc$var2), ]
  group_sd <- setNames(as.list(sds$sdcor), part_name[sds$var1])
  corr <- vc[vc$grp != "Residual" & !is.na(vc$var2), "sdcor"]

  # Each group's line (constant + its own deviation) and how uncertain its deviations are:
  # coef() gives the lines, condsd the conditional SD of each deviation (lme4's condVar).
  lines <- coef(fit)$group
  groups <- data.frame(
    group     = rownames(lines),
    intercept = lines[, "(Intercept)"],
    slope     = if ("x" %in% names(lines)) lines[, "x"] else NA_real_,
    row.names = NULL
  )
  re <- as.data.frame(ranef(fit, condVar = TRUE))
  for (part in names(part_name)) {
    rows <- re[re$term == part, ]
    column <- paste0(part_name[[part]], "_se")
    groups[[column]] <- rows$condsd[match(groups$group, rows$grp)]
  }

  list(
    fixed_effects = fixed,
    group_sd      = group_sd,
    correlation   = if (length(corr) == 1) corr else NA_real_,
    residual_sd   = sigma(fit),
    loglik        = as.numeric(logLik(fit)), # the REML criterion for REML fits, as lme4 reports
    aic           = AIC(fit),
    bic           = BIC(fit),
    singular      = isSingular(fit),
    n_obs         = nobs(fit),
    n_groups      = nrow(groups),
    group_lines   = groups
  )
}

# lme4's default optimizer stops when the log-likelihood changes by less than about 1e-6; the
# variance parameters can then still be off by 1e-4 relative (measured on the radon data), and
# even with tight tolerances nloptwrap can stop early in a flat direction (measured: a group SD
# 1.6e-4 off on 8 groups). We compare at 1e-4, so the reference uses BOBYQA from the minqa
# package run to a final trust-region radius of 1e-12. A singular fit (a group SD estimated
# as 0) is a result to compare, not an error: it is recorded in "singular".
control <- lmerControl(optimizer = "bobyqa",
                       optCtrl = list(rhoend = 1e-12, maxfun = 100000),
                       check.conv.singular = "ignore")

results <- list()
for (path in sort(list.files(data_dir, pattern = "\\.csv$", full.names = TRUE))) {
  dataset <- sub("\\.csv$", "", basename(path))
  data <- read.csv(path, colClasses = c(group = "character"))
  for (model in names(models)) {
    for (reml in c(TRUE, FALSE)) {
      fit <- lmer(models[[model]], data = data, REML = reml, control = control)
      results[[length(results) + 1]] <- c(
        list(dataset = dataset, model = model, reml = reml),
        describe_fit(fit)
      )
    }
  }
}

meta <- list(lme4_version = as.character(packageVersion("lme4")), r_version = R.version.string)
write_json(list(meta = meta, fits = results), out_file,
           auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE)
