# Reference fits with lme4 for formula models (multilevel.models.lmm.fit_formula, multilevel.models.glmm).
#
# Usage:   Rscript fit_formula_lme4.R CASES.json OUT.json
#
# CASES.json lists the fits: each has an id, a CSV file, an lme4 formula, REML (TRUE/FALSE),
# a family ("gaussian" or "binomial"), nAGQ (binomial only), whether to compute profile
# confidence intervals, and how many parametric bootstrap replicates to run (0 for none). Everything lme4 reports for a fit goes to OUT.json, in lme4's own order
# and names (the Python side compares by position and shows both names).

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: Rscript fit_formula_lme4.R CASES.json OUT.json")
cases <- fromJSON(args[1], simplifyDataFrame = FALSE)

# Tight optimiser settings, as in fit_lme4.R: lme4's defaults stop 1e-4 short on flat surfaces.
lmm_control <- lmerControl(optimizer = "bobyqa",
                           optCtrl = list(rhoend = 1e-12, maxfun = 100000),
                           check.conv.singular = "ignore")
# glmer also stops its inner (PIRLS) iterations for the conditional modes at a relative change
# of 1e-7 by default; the Laplace deviance is then off by about 1e-4 and its finite-difference
# Hessian (the standard errors) by 0.2% (measured on the admissions data). tolPwrss = 1e-12
# makes the reference exact.
glmm_control <- glmerControl(optimizer = "bobyqa",
                             optCtrl = list(rhoend = 1e-12, maxfun = 100000),
                             tolPwrss = 1e-12,
                             check.conv.singular = "ignore")

describe <- function(fit, profile, boot) {
  coefs <- summary(fit)$coefficients
  vc <- as.data.frame(VarCorr(fit))
  sds <- vc[vc$grp != "Residual" & is.na(vc$var2), ]
  cors <- vc[vc$grp != "Residual" & !is.na(vc$var2), ]
  re <- as.data.frame(ranef(fit, condVar = TRUE))
  group <- names(ranef(fit))[1]
  lines <- coef(fit)[[group]]
  out <- list(
    fixed_names   = rownames(coefs),
    estimate      = unname(coefs[, "Estimate"]),
    std_error     = unname(coefs[, "Std. Error"]),
    sd_names      = sds$var1,
    group_sd      = sds$sdcor,
    cor_var1      = cors$var1,
    cor_var2      = cors$var2,
    correlation   = cors$sdcor,
    residual_sd   = if (isLMM(fit)) sigma(fit) else NA_real_,
    loglik        = as.numeric(logLik(fit)),
    aic           = AIC(fit),
    bic           = BIC(fit),
    singular      = isSingular(fit),
    n_obs         = nobs(fit),
    n_groups      = nrow(lines),
    re_group      = as.character(re$grp),
    re_term       = as.character(re$term),
    re_value      = re$condval,
    re_sd         = re$condsd,
    coef_groups   = rownames(lines),
    coef_names    = colnames(lines),
    coef          = unname(as.matrix(lines))
  )
  if (profile) {
    ci <- suppressWarnings(suppressMessages(confint(fit, method = "profile", oldNames = FALSE)))
    out$profile_names <- rownames(ci)
    out$profile_lower <- unname(ci[, 1])
    out$profile_upper <- unname(ci[, 2])
  }
  if (boot > 0) {
    ci <- suppressWarnings(suppressMessages(
      confint(fit, method = "boot", nsim = boot, seed = 1, oldNames = FALSE)))
    out$boot_names <- rownames(ci)
    out$boot_lower <- unname(ci[, 1])
    out$boot_upper <- unname(ci[, 2])
  }
  out
}

datasets <- list()
results <- list()
for (case in cases) {
  if (is.null(datasets[[case$csv]])) {
    datasets[[case$csv]] <- read.csv(case$csv, stringsAsFactors = FALSE)
  }
  data <- datasets[[case$csv]]
  form <- as.formula(case$formula)
  if (case$family == "binomial") {
    fit <- glmer(form, data = data, family = binomial, nAGQ = case$nAGQ, control = glmm_control)
  } else {
    fit <- lmer(form, data = data, REML = case$reml, control = lmm_control)
  }
  boot <- if (is.null(case$boot)) 0L else as.integer(case$boot)
  results[[case$id]] <- describe(fit, isTRUE(case$profile), boot)
}

write_json(list(lme4_version = as.character(packageVersion("lme4")), fits = results),
           args[2], auto_unbox = FALSE, digits = NA, na = "null", pretty = TRUE)
