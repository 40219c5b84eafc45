"""Design-based inference for weighted waves: Taylor-linearisation variances, domain estimation,
survey intervals for shares and design-based tests, computed as R's `survey` package (4.x)
computes them for a one-stage design with independent samples as strata and post-stratified or
raked weights.

Why written here rather than imported: statsmodels has no design-based (linearisation) variance
with strata and calibration, no Rao-Scott test and no svyglm; `samplics` is archived and broken
with the pinned polars; `svy` (its successor) needs polars 2 and a compiled core the project does
not pin (docs/design_based.md has the evaluation). The estimators are short once the variance
engine is right, and every value is checked against R `survey` to 1e-6 on the project's own data
(tests/reference/make_design_reference.R -> tests/data/reference/r_design_values.json,
tests/unit/test_design.py).

The design: every respondent has a calibrated weight w_i > 0, a stratum (the wave's independent
samples, e.g. a random panel and a self-selected expert sample) and a calibration cell per margin
(the post-stratification or raking cells; respondents of a sample that is not weighted sit in one
cell of their own per stratum, which leaves the variance as stratification alone would). An
estimate's influence values z_i are (1) residualised on the calibration cells, as R's svyrecvar
does for postStratify (one margin) and rake (several margins, ten sweeps), then (2) summed over
respondents within strata with the with-replacement factor n_h / (n_h - 1). Domains (a segment, the
respondents who answered an item) are estimated by zeroing the influence of everyone outside the
domain while keeping them in the design, never by dropping rows: that is domain estimation.
Memory is O(n x k) for k estimates at once and the work is a few sparse products, so a million
respondents take seconds.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse, stats

from smesocial.errors import NotEstimable

INTERVAL_METHODS = ("beta", "logit")
#: Sweeps R's svyrecvar makes over the margins of a raked design (a fixed count, not a tolerance).
RAKING_SWEEPS = 10


# --------------------------------------------------------------------------------------------
# The design


def _codes(labels: Sequence[object] | np.ndarray | pd.Series) -> np.ndarray:
    return pd.factorize(pd.Series(labels, dtype="object").astype(str), sort=True)[0]


# From this many respondents on, survey_glm frees each fit's arrays at once (see there): 50,000
# rows leave ~50 MB per fit behind, the point where waiting costs more memory than collecting
# costs time.
COLLECT_AFTER_FIT_ROWS = 50_000

def _indicator(codes: np.ndarray) -> sparse.csr_matrix:
    """groups x rows 0/1 matrix: `indicator @ x` sums x within groups in one sparse product."""
    n = codes.size
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(int(codes.max()) + 1, n))


@dataclass(frozen=True)
class Design:
    """A one-stage design: weights, strata and calibration margins, one entry per respondent.

    `in_population` marks the respondents whose weights describe the population (the weighted
    samples); population estimates are domains within it."""

    weights: np.ndarray
    strata: np.ndarray
    margins: tuple[np.ndarray, ...] = ()
    in_population: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=float)
        if w.ndim != 1 or not np.isfinite(w).all() or (w <= 0).any():
            raise ValueError("design weights must be finite and positive, one per respondent")
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "strata", _codes(self.strata))
        object.__setattr__(self, "margins", tuple(_codes(m) for m in self.margins))
        population = (np.ones(w.size, bool) if self.in_population is None
                      else np.asarray(self.in_population, dtype=bool))
        object.__setattr__(self, "in_population", population)
        if any(a.size != w.size for a in (self.strata, population, *self.margins)):
            raise ValueError("weights, strata, margins and in_population differ in length")

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Design:
        """From the weights stage's table: `weight`, `stratum`, `in_population` and one
        `margin_<k>` column per calibration margin. Without `stratum` the respondents are one
        stratum; without `in_population` all of them; without margins the weights are taken
        as given (not calibrated)."""
        margins = sorted(c for c in frame.columns if c.startswith("margin_"))
        strata = frame["stratum"].to_numpy() if "stratum" in frame else np.zeros(len(frame))
        population = (frame["in_population"].to_numpy(bool) if "in_population" in frame
                      else None)
        return cls(frame["weight"].to_numpy(float), strata,
                   tuple(frame[m].to_numpy() for m in margins), population)

    @property
    def n(self) -> int:
        return int(self.weights.size)

    @cached_property
    def _strata_indicator(self) -> sparse.csr_matrix:
        return _indicator(self.strata)

    @cached_property
    def _strata_sizes(self) -> np.ndarray:
        return np.bincount(self.strata).astype(float)

    @cached_property
    def _margin_indicators(self) -> tuple[tuple[np.ndarray, sparse.csr_matrix, np.ndarray], ...]:
        return tuple((codes, _indicator(codes), np.bincount(codes).astype(float))
                     for codes in self.margins)

    def degf(self, domain: np.ndarray | None = None) -> int:
        """Design degrees of freedom (R's degf): respondents with a weight in the domain minus
        the strata they fall in."""
        if domain is None:
            return self.n - int(self._strata_sizes.size)
        inside = np.asarray(domain, dtype=bool)
        return int(inside.sum()) - int(np.unique(self.strata[inside]).size)

    # ----------------------------------------------------------------------------------------
    # The variance engine

    def calibrated(self, influence: np.ndarray) -> np.ndarray:
        """Influence values residualised on the calibration cells (R svyrecvar): post-
        stratification removes each cell's mean of z / w, scaled back by w; raking repeats that
        over the margins ten times, as R does. The weights before calibration are 1."""
        x = np.array(influence, dtype=float, copy=True)
        squeeze = x.ndim == 1
        x = x.reshape(self.n, -1)
        w = self.weights[:, None]
        sweeps = 1 if len(self._margin_indicators) == 1 else RAKING_SWEEPS
        for _ in range(sweeps if self._margin_indicators else 0):
            for codes, indicator, sizes in self._margin_indicators:
                means = np.asarray(indicator @ (x / w)) / sizes[:, None]
                x -= w * means[codes]
        return x[:, 0] if squeeze else x

    def covariance(self, influence: np.ndarray) -> np.ndarray:
        """k x k linearisation covariance of k estimates from their n x k influence values."""
        x = self._stratum_centred(influence)
        scale = (self._strata_sizes / (self._strata_sizes - 1))[self.strata]
        return (x * scale[:, None]).T @ x

    def variance(self, influence: np.ndarray) -> np.ndarray:
        """The covariance's diagonal only (k estimates, O(n k) memory)."""
        x = self._stratum_centred(influence)
        scale = (self._strata_sizes / (self._strata_sizes - 1))[self.strata]
        return np.einsum("ij,ij,i->j", x, x, scale)

    def _stratum_centred(self, influence: np.ndarray) -> np.ndarray:
        if (self._strata_sizes < 2).any():
            raise NotEstimable("a stratum of the design has a single respondent: its variance "
                               "cannot be estimated (R: lonely PSU)")
        x = self.calibrated(np.asarray(influence, dtype=float).reshape(self.n, -1))
        means = np.asarray(self._strata_indicator @ x) / self._strata_sizes[:, None]
        return x - means[self.strata]


# --------------------------------------------------------------------------------------------
# Domain means (shares) and their intervals


@dataclass(frozen=True)
class DomainMeans:
    """Weighted means of k variables over one domain (its members who answered each)."""

    n: np.ndarray  # respondents in the domain with an answer
    total_weight: np.ndarray
    mean: np.ndarray
    variance: np.ndarray  # linearisation variance of the mean
    variance_srs: np.ndarray  # with-replacement simple random sampling variance (for the deff)
    df: np.ndarray  # design degrees of freedom of the domain (R degf of the subset)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(self.variance)

    @property
    def deff(self) -> np.ndarray:
        """Design effect: linearisation variance over the variance under simple random sampling
        with replacement of the same number of respondents (R: svymean(deff = "replace"); the
        default deff needs population-scaled weights)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.variance / self.variance_srs


def _domain(design: Design, domain: np.ndarray | None) -> np.ndarray:
    """The domain as a fresh boolean mask (everyone when None)."""
    if domain is None:
        return np.ones(design.n, bool)
    mask = np.array(domain, dtype=bool)
    if mask.shape != (design.n,):
        raise ValueError("a domain needs one boolean per respondent of the design")
    return mask


#: domain_means works on this many columns at a time: its n x k temporaries (about ten) then
#: take O(n x 16) memory whatever the number of items (0.4 GB each at a million respondents
#: and 50 shares). Blocks are balanced, never a single column (numpy sums a lone column in
#: another order), so every column's sums are the ones a single pass gives.
COLUMN_BLOCK = 16


def domain_means(design: Design, values: np.ndarray, domain: np.ndarray | None = None
                 ) -> DomainMeans:
    """Means of the columns of `values` (n x k; NaN = not answered) over `domain` (bool, n):
    sum(w y) / sum(w) over the domain's respondents who answered, as R's svymean on
    subset(design, domain & !is.na(y)) gives it."""
    y = np.asarray(values, dtype=float).reshape(design.n, -1)
    inside = _domain(design, domain)
    blocks = max(1, -(-y.shape[1] // COLUMN_BLOCK))
    if blocks == 1:
        return _domain_means(design, y, inside)
    parts = [_domain_means(design, np.ascontiguousarray(y[:, columns]), inside)
             for columns in np.array_split(np.arange(y.shape[1]), blocks)]
    return DomainMeans(*(np.concatenate([getattr(part, name) for part in parts])
                         for name in ("n", "total_weight", "mean", "variance", "variance_srs",
                                      "df")))


def _domain_means(design: Design, y: np.ndarray, inside: np.ndarray) -> DomainMeans:
    base = ~np.isnan(y) & inside[:, None]
    w = design.weights[:, None] * base
    y0 = np.where(base, y, 0.0)
    total = w.sum(axis=0)
    n = base.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (w * y0).sum(axis=0) / total
        influence = w * (y0 - mean) / total
        variance = design.variance(influence)
        # svyvar: the weighted variance with the n / (n - 1) factor, over n respondents
        spread = (w * (y0 - mean) ** 2).sum(axis=0) / total * n / (n - 1)
        variance_srs = spread / n
    return DomainMeans(n.astype(int), total, mean, variance, variance_srs,
                       _degf_columns(design, base))


def _degf_columns(design: Design, base: np.ndarray) -> np.ndarray:
    """degf per column without a Python loop: answered counts minus strata present."""
    per_stratum = np.asarray(design._strata_indicator @ base.astype(float))  # H x k
    return base.sum(axis=0) - (per_stratum > 0).sum(axis=0)


def proportion_interval(share: float, variance: float, df: float, n: int, design_rows: int,
                        alpha: float = 0.05, method: str = "beta") -> tuple[float, float]:
    """R svyciprop's interval for a share from its linearisation variance.

    `beta` (Korn and Graubard 1998): Clopper-Pearson on the effective n p(1-p)/var, scaled by
    (t_{rows-1} / t_df)^2 as R does, with `rows` = nrow(design), which for a calibrated design
    is every respondent of the wave (R keeps them all in a subset). `logit`: a t interval on the
    logit scale, expit(logit p +- t_df se / (p (1 - p))), which is R's svyglm-based logit
    interval (the intercept's linearisation se is the mean's over p(1-p)).

    A share of 0 or 1 has no design variance; its interval is Clopper-Pearson on the domain's
    `n` respondents (the effective n cannot exceed n: Korn and Graubard)."""
    if method not in INTERVAL_METHODS:
        raise ValueError(f"unknown interval method {method!r}; expected one of {INTERVAL_METHODS}")
    if not (0.0 < share < 1.0) or not variance > 0:
        k = round(share * n)
        low = 0.0 if k <= 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
        high = 1.0 if k >= n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
        return low, high
    if method == "logit":
        half = float(stats.t.ppf(1 - alpha / 2, df)) * math.sqrt(variance) / (share * (1 - share))
        centre = math.log(share / (1 - share))
        return float(_expit(centre - half)), float(_expit(centre + half))
    n_eff = share * (1 - share) / variance
    n_eff *= (stats.t.ppf(alpha / 2, design_rows - 1) / stats.t.ppf(alpha / 2, df)) ** 2
    low = float(stats.beta.ppf(alpha / 2, n_eff * share, n_eff * (1 - share) + 1))
    high = float(stats.beta.ppf(1 - alpha / 2, n_eff * share + 1, n_eff * (1 - share)))
    return low, high


def _expit(x: float | np.ndarray) -> float | np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------------------------
# Tests


@dataclass(frozen=True)
class DesignTest:
    """A design-based test: the statistic, its reference distribution and p."""

    name: str
    statistic: float
    df: float  # numerator df
    ddf: float  # denominator df (inf = chi-square)
    p: float
    estimate: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan


@dataclass(frozen=True)
class SurveyGLM:
    """A survey-weighted logistic regression (R svyglm, quasibinomial) on a domain."""

    names: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray  # linearisation (sandwich) covariance
    naive_cov: np.ndarray  # (X' W V X)^-1 with weights scaled to mean 1 (R's naive.cov)
    deviance: float
    df_residual: int

    def wald(self, terms: Sequence[str]) -> DesignTest:
        """R regTermTest(method = "Wald"): F = b' V^-1 b / q on (q, df_residual)."""
        index = [self.names.index(t) for t in terms]
        b = self.coef[index]
        v = self.vcov[np.ix_(index, index)]
        chisq = float(b @ np.linalg.solve(v, b))
        q = len(index)
        f = chisq / q
        return DesignTest("wald_f", f, q, self.df_residual,
                          float(stats.f.sf(f, q, self.df_residual)))

    def coefficient_interval(self, term: str, alpha: float = 0.05) -> tuple[float, float, float]:
        """(coef, low, high) with a t interval on df_residual (R confint(svyglm))."""
        i = self.names.index(term)
        half = float(stats.t.ppf(1 - alpha / 2, self.df_residual)) * math.sqrt(self.vcov[i, i])
        return float(self.coef[i]), float(self.coef[i] - half), float(self.coef[i] + half)


def survey_logit(design: Design, y: np.ndarray, columns: dict[str, np.ndarray],
                 domain: np.ndarray | None = None) -> SurveyGLM:
    """svyglm(y ~ columns, family = quasibinomial) on subset(design, domain & !is.na(y))."""
    return survey_glm(design, y, columns, domain, family="binomial")


def survey_glm(design: Design, y: np.ndarray, columns: dict[str, np.ndarray],
               domain: np.ndarray | None = None, family: str = "binomial") -> SurveyGLM:
    """svyglm(y ~ columns) on subset(design, domain & !is.na(y)), quasibinomial (logit link)
    or gaussian.

    The point estimates are statsmodels' GLM with the weights as variance weights (the
    pseudo-likelihood); the covariance is the linearisation sandwich of R's svy.varcoef:
    influence = X w (y - mu) (X' W V(mu) X)^-1, through the design's variance engine."""
    import statsmodels.api as sm

    outcome = np.asarray(y, dtype=float)
    inside = _domain(design, domain) & ~np.isnan(outcome)
    names = ("(Intercept)", *columns)
    x = np.column_stack([np.ones(design.n), *(np.asarray(c, float) for c in columns.values())])
    if np.isnan(x[inside]).any():
        raise NotEstimable("a model covariate is missing for a respondent in the base")
    # R scales the weights to mean 1 over the design's rows (zero outside the domain).
    scaled = np.where(inside, design.weights, 0.0)
    scaled = scaled / scaled.mean()
    xs, ys, ws = x[inside], outcome[inside], scaled[inside]
    if np.linalg.matrix_rank(xs) < xs.shape[1]:
        raise NotEstimable("the model's design matrix is singular in this base")
    if ys.min() == ys.max():
        raise NotEstimable("the outcome does not vary in this base")
    link = sm.families.Binomial() if family == "binomial" else sm.families.Gaussian()
    fit = sm.GLM(ys, xs, family=link, var_weights=ws).fit(tol=1e-12, maxiter=100)
    mu = fit.fittedvalues
    if family == "binomial":
        if (mu < 1e-8).any() or (mu > 1 - 1e-8).any():
            raise NotEstimable("perfect separation: a fitted probability is 0 or 1")
        working = ws * mu * (1 - mu)
    else:
        working = ws
    naive = np.linalg.inv(xs.T @ (xs * working[:, None]))
    influence = np.zeros((design.n, xs.shape[1]))
    influence[inside] = (xs * (ws * (ys - mu))[:, None]) @ naive
    vcov = design.covariance(influence)
    df_residual = design.degf(inside) + 1 - xs.shape[1]
    model = SurveyGLM(names, np.array(fit.params), vcov, naive, float(fit.deviance), df_residual)
    # statsmodels' model and results refer to each other, so their n-row arrays wait for the
    # cyclic collector, which counts objects, not bytes: at a million respondents each fit
    # would leave about a gigabyte behind until then. A full collection costs ~25 ms whatever
    # the size, so small designs (a battery fits hundreds) leave it to the collector.
    del fit
    if design.n >= COLLECT_AFTER_FIT_ROWS:
        gc.collect()
    return model


@dataclass(frozen=True)
class SurveyOrdinal:
    """A survey-weighted proportional-odds model (R svyolr, logistic): logit P(Y <= j) =
    zeta_j - beta x, one covariate."""

    beta: float
    zeta: np.ndarray
    vcov: np.ndarray  # linearisation covariance of (beta, zeta_1, ..., zeta_q)
    df_residual: int  # R: degf - number of slopes

    @property
    def se(self) -> float:
        return math.sqrt(float(self.vcov[0, 0]))

    def wald(self) -> DesignTest:
        """regTermTest on the slope: F = (beta / se)^2 on (1, df_residual)."""
        f = (self.beta / self.se) ** 2
        return DesignTest("wald_f", f, 1.0, float(self.df_residual),
                          float(stats.f.sf(f, 1, self.df_residual)))


def survey_ordinal_logit(design: Design, codes: np.ndarray, x: np.ndarray,
                         domain: np.ndarray | None = None) -> SurveyOrdinal:
    """svyolr(factor(codes) ~ x) on subset(design, domain & answered): the weighted pseudo-
    likelihood, maximised here on (answer, x) cells with their summed weights (the same
    likelihood, whatever n), and the sandwich variance with influence = w s(theta) H^-1 through
    the design's engine. Written out (R's gradient, MASS::polr's parametrisation) because
    statsmodels' OrderedModel has neither weights nor an analytic score."""
    from scipy.optimize import minimize

    y_all, x_all = np.asarray(codes, float), np.asarray(x, float)
    inside = _domain(design, domain) & ~np.isnan(y_all) & ~np.isnan(x_all)
    levels = np.unique(y_all[inside])
    if levels.size < 2:
        raise NotEstimable("constant item: every answer is the same")
    if np.unique(x_all[inside]).size < 2:
        raise NotEstimable("fewer than two non-empty groups")
    y = np.searchsorted(levels, np.where(inside, y_all, levels[0]))  # 0 .. K-1
    k = levels.size
    cells, index = np.unique(np.column_stack([y[inside], x_all[inside]]), axis=0,
                             return_inverse=True)
    cell_weight = np.bincount(index.ravel(), weights=design.weights[inside])
    cy, cx = cells[:, 0].astype(int), cells[:, 1]

    def gradients(theta: np.ndarray, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        """Per-observation gradient of -log P(answer) in (beta, zeta) (R svyolr's gmini)."""
        beta, zeta = theta[0], theta[1:]
        upper = np.concatenate([zeta, [np.inf]])[yy] - beta * xx
        lower = np.concatenate([[-np.inf], zeta])[yy] - beta * xx
        p_upper, p_lower = _expit(upper), _expit(lower)
        prob = p_upper - p_lower
        d_upper, d_lower = p_upper * (1 - p_upper), p_lower * (1 - p_lower)
        grad = np.zeros((yy.size, k))
        grad[:, 0] = xx * (d_upper - d_lower) / prob
        rows = np.arange(yy.size)
        top, bottom = yy < k - 1, yy > 0
        grad[rows[top], 1 + yy[top]] -= d_upper[top] / prob[top]
        grad[rows[bottom], yy[bottom]] += d_lower[bottom] / prob[bottom]
        return grad

    def negative_loglik(free: np.ndarray) -> tuple[float, np.ndarray]:
        theta, jac = _ordered(free)
        beta, zeta = theta[0], theta[1:]
        upper = np.concatenate([zeta, [np.inf]])[cy] - beta * cx
        lower = np.concatenate([[-np.inf], zeta])[cy] - beta * cx
        prob = _expit(upper) - _expit(lower)
        if (prob <= 0).any():
            return math.inf, np.zeros_like(free)
        value = -float(cell_weight @ np.log(prob))
        return value, (cell_weight @ gradients(theta, cy, cx)) @ jac

    shares = np.bincount(cy, weights=cell_weight, minlength=k) / cell_weight.sum()
    start_zeta = np.log(np.cumsum(shares)[:-1] / (1 - np.cumsum(shares)[:-1]))
    start = np.concatenate([[0.0, start_zeta[0]], np.log(np.diff(start_zeta) + 1e-3)])
    result = minimize(negative_loglik, start, jac=True, method="BFGS",
                      options={"gtol": 1e-10, "maxiter": 10_000})
    theta, _ = _ordered(result.x)
    if abs(theta[0]) > 20:
        raise NotEstimable("separation: the highest answers occur in one group only")
    # Hessian of the weighted -loglik in (beta, zeta): central differences of the analytic
    # gradient (R takes optim's finite-difference Hessian)
    step = 1e-5
    hessian = np.empty((k, k))
    for j in range(k):
        shift = np.zeros(k)
        shift[j] = step
        hessian[:, j] = (cell_weight @ (gradients(theta + shift, cy, cx)
                                        - gradients(theta - shift, cy, cx))) / (2 * step)
    hessian = (hessian + hessian.T) / 2
    influence = np.zeros((design.n, k))
    influence[inside] = -(design.weights[inside, None] * gradients(theta, y[inside],
                                                                   x_all[inside]))
    influence = influence @ np.linalg.inv(hessian)
    vcov = design.covariance(influence)
    return SurveyOrdinal(float(theta[0]), theta[1:], vcov, design.degf(inside) - 1)


def _ordered(free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(beta, zeta) from (beta, zeta_1, log increments), and d(beta, zeta) / d free."""
    zeta = np.cumsum(np.concatenate([[free[1]], np.exp(free[2:])]))
    k = free.size
    jac = np.zeros((k, k))
    jac[0, 0] = 1.0
    jac[1:, 1] = 1.0
    for i in range(2, k):
        jac[i:, i] = math.exp(free[i])
    return np.concatenate([[free[0]], zeta]), jac


def working_lrt(full: SurveyGLM, reduced: SurveyGLM, terms: Sequence[str]) -> DesignTest:
    """Rao-Scott working likelihood-ratio test of `terms` (R regTermTest(method = "LRT",
    lrt.approximation = "satterthwaite")): the deviance difference against a sum of chi-squares
    weighted by the eigenvalues of naive^-1 V, as an F on (ndf, df_residual)."""
    index = [full.names.index(t) for t in terms]
    v = full.vcov[np.ix_(index, index)]
    v0 = full.naive_cov[np.ix_(index, index)]
    lam = np.real(np.linalg.eigvals(np.linalg.solve(v0, v)))
    chisq = reduced.deviance - full.deviance
    mean = lam.mean()
    relative = (lam**2).mean() / mean**2
    ndf = lam.size / relative
    ddf = full.df_residual
    p = float(stats.f.sf(chisq / ndf / (mean * relative), ndf, ddf))
    return DesignTest("working_lrt", float(chisq), float(ndf), float(ddf), p)


def rao_scott(design: Design, rows: np.ndarray, cols: np.ndarray,
              domain: np.ndarray | None = None) -> tuple[DesignTest, DesignTest]:
    """Rao-Scott tests of independence of two categorical variables (NaN/None = missing) over
    a domain: (second-order F, first-order chi-square), as R svychisq(statistic = "F" and
    "Chisq"). Pearson's X^2 of the weighted table scaled to the design's rows, divided by the
    mean (first order; the corrected chi-square, with the uncorrected X^2 as `estimate`) or the
    trace (second order, F on d0 and d0 * degf; `estimate` the weighted table's Cramér's V) of
    the generalised design effects."""
    r = pd.Series(rows, dtype="object")
    c = pd.Series(cols, dtype="object")
    inside = _domain(design, domain) & r.notna().to_numpy() & c.notna().to_numpy()
    r_codes, r_levels = pd.factorize(r.where(inside).astype("object"), sort=True)
    c_codes, c_levels = pd.factorize(c.where(inside).astype("object"), sort=True)
    nr, nc = len(r_levels), len(c_levels)
    if nr < 2 or nc < 2:
        raise NotEstimable("a Rao-Scott test needs two levels of each variable in the base")
    cell = np.where(inside, r_codes + nr * c_codes, -1)  # column-major, as R's interaction
    cells = np.zeros((design.n, nr * nc))
    cells[inside, cell[inside]] = 1.0
    means = domain_means(design, np.where(inside[:, None], cells, np.nan))
    p = means.mean
    total = means.total_weight[0]
    w = np.where(inside, design.weights, 0.0)[:, None]
    influence = w * (cells - p) / total
    v = design.covariance(influence)
    n_rows = design.n
    # Contrasts orthogonal to the independence model (R: qr.resid of X12's interaction columns)
    grid_r, grid_c = np.tile(np.arange(nr), nc), np.repeat(np.arange(nc), nr)
    x1 = np.column_stack([np.ones(nr * nc), *(grid_r == i for i in range(1, nr)),
                          *(grid_c == j for j in range(1, nc))]).astype(float)
    x12 = np.column_stack([(grid_r == i) & (grid_c == j) for j in range(1, nc)
                           for i in range(1, nr)]).astype(float)
    q, _ = np.linalg.qr(x1)
    cmat = x12 - q @ (q.T @ x12)
    inv_d = np.diag(np.where(p == 0, 0.0, 1.0 / np.where(p == 0, 1.0, p)))
    denom = cmat.T @ (inv_d / n_rows) @ cmat
    numer = cmat.T @ inv_d @ v @ inv_d @ cmat
    delta = np.linalg.solve(denom, numer)
    trace = float(np.trace(delta))
    d0 = trace**2 / float(np.trace(delta @ delta))
    table = (p * n_rows).reshape(nc, nr).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    pearson = float(((table - expected) ** 2 / expected).sum())
    nu = design.degf()
    f = pearson / trace
    cramers_v = math.sqrt(pearson / (n_rows * (min(nr, nc) - 1)))  # of the weighted table
    second = DesignTest("rao_scott_f", f, d0, d0 * nu, float(stats.f.sf(f, d0, d0 * nu)),
                        cramers_v)
    chisq = pearson / (trace / delta.shape[0])
    # estimate: Pearson's X^2 of the weighted table itself, the statistic R prints
    first = DesignTest("rao_scott_chisq", chisq, float(delta.shape[0]), math.inf,
                       float(stats.chi2.sf(chisq, delta.shape[0])), pearson)
    return second, first


def rank_test(design: Design, values: np.ndarray, groups: dict[str, np.ndarray],
              domain: np.ndarray | None = None) -> DesignTest:
    """Design-based Kruskal-Wallis test (R svyranktest(test = "KruskalWallis") for k > 2
    groups): weighted mid-ranks over the domain's answers, scaled to (0, 1) by the total weight,
    regressed on the group indicators (a survey-weighted linear model); the Wald F of the group
    coefficients on (k - 1, degf - (k - 1)). `groups` are the indicators of all groups but one."""
    y = np.asarray(values, float)
    inside = _domain(design, domain) & ~np.isnan(y)
    w = design.weights[inside]
    order = np.argsort(y[inside], kind="stable")
    sorted_y, sorted_w = y[inside][order], w[order]
    mid = np.cumsum(sorted_w) - sorted_w / 2
    # ties share the mean of their mid-ranks (R: ave(..., factor(y)))
    _, tie, tie_size = np.unique(sorted_y, return_inverse=True, return_counts=True)
    mid = (np.bincount(tie, weights=mid) / tie_size)[tie]
    rank = np.full(design.n, np.nan)
    inside_rows = np.flatnonzero(inside)
    rank[inside_rows[order]] = mid / w.sum()
    model = survey_glm(design, rank, groups, inside, family="gaussian")
    return model.wald(list(groups))


def mean_difference(design: Design, first: np.ndarray, second: np.ndarray,
                    domain: np.ndarray | None = None, alpha: float = 0.05) -> DesignTest:
    """Paired difference of two items answered by the same respondents (the design-based
    McNemar): the weighted mean of first - second over those who answered both, with R
    svyttest's t test on the domain's degrees of freedom and its t interval."""
    d = np.asarray(first, float) - np.asarray(second, float)
    means = domain_means(design, d[:, None], domain)
    # R svyttest (one-sample form): df = degf - 1
    estimate, se, df = float(means.mean[0]), float(means.se[0]), int(means.df[0]) - 1
    if not se > 0:
        raise NotEstimable("the paired difference has no design variance (every pair agrees)")
    t = estimate / se
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return DesignTest("design_t", t, 1.0, float(df), float(2 * stats.t.sf(abs(t), df)),
                      estimate, estimate - half, estimate + half)


def contrast(design: Design, values: np.ndarray, domains: Sequence[np.ndarray],
             weights: Sequence[float], alpha: float = 0.05) -> DesignTest:
    """A linear contrast of one variable's means over several domains (e.g. largest minus
    smallest segment), with its linearisation se and a normal interval (R svycontrast of an
    svyby with covmat = TRUE; confint's default df is infinite)."""
    y = np.asarray(values, float)
    influence = np.zeros(design.n)
    estimate = 0.0
    for domain, weight in zip(domains, weights):
        base = np.asarray(domain, bool) & ~np.isnan(y)
        w = np.where(base, design.weights, 0.0)
        total = w.sum()
        mean = float((w * np.where(base, y, 0.0)).sum() / total)
        influence += weight * w * (np.where(base, y, 0.0) - mean) / total
        estimate += weight * mean
    se = math.sqrt(float(design.variance(influence[:, None])[0]))
    z = estimate / se if se > 0 else math.nan
    half = float(stats.norm.ppf(1 - alpha / 2)) * se
    return DesignTest("contrast_z", z, 1.0, math.inf,
                      float(2 * stats.norm.sf(abs(z))) if se > 0 else math.nan,
                      estimate, estimate - half, estimate + half)


def equal_means(design: Design, items: np.ndarray, domain: np.ndarray | None = None
                ) -> DesignTest:
    """Wald test that k items answered by the same respondents have equal weighted means (the
    design-based Cochran's Q): contrasts first - j, F = X^2 / (k - 1) on (k - 1, degf)."""
    y = np.asarray(items, float)
    inside = _domain(design, domain) & ~np.isnan(y).any(axis=1)
    w = np.where(inside, design.weights, 0.0)[:, None]
    total = w.sum()
    y0 = np.where(inside[:, None], y, 0.0)
    mean = (w * y0).sum(axis=0) / total
    v = design.covariance(w * (y0 - mean) / total)
    k = y.shape[1]
    cmat = np.column_stack([np.ones(k - 1), -np.eye(k - 1)])
    d = cmat @ mean
    vd = cmat @ v @ cmat.T
    chisq = float(d @ np.linalg.solve(vd, d))
    df = design.degf(inside)
    f = chisq / (k - 1)
    return DesignTest("wald_f", f, float(k - 1), float(df), float(stats.f.sf(f, k - 1, df)))
