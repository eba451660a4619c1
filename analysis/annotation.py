"""Annotation decodability: can a linear probe tell an annotated text from the same text without it?

**What it shows, and what it does not.** A decodable annotation is *present* in the residual stream
at the read token; it does not show that the model *uses* it (Belinkov 2022, "Probing classifiers:
promises, shortcomings, and advances"; Hewitt & Liang 2019 on control tasks). Use evidence is
causal (patching, :mod:`negprobe.analysis.causal`).

**Rows.** Annotated rows (label 1) against comparison rows (label 0) that differ in the annotation
alone: the same document with vs without the notice, with a truth-neutral notice of matched length
and position, and so on (:mod:`negprobe.analysis.contrasts` builds them).

**Per-fold AUROC, averaged, never pooled.** Folds leave one group out (a claim; with one claim, a
paraphrase, whose annotated and comparison rows stay on one side). Each fold's probe scores only
its own held-out rows; the curve is the mean over folds of each fold's AUROC per layer
(:func:`negprobe.probes.evaluation.per_fold_metric`). Probes fitted on different folds have
different scales, so pooling their scores into one AUROC would mix offsets with signal. The CI is
a percentile bootstrap over folds (claims) of that mean (:func:`negprobe.probes.resampling.bootstrap_mean`),
widened for the correlation between folds that share training rows (Nadeau & Bengio 2003,
"Inference for the generalization error": a plain bootstrap over six leave-one-claim-out folds
covers far less than 95%, see :func:`cv_inflation`).

**Surface baselines, on the same rows and folds.** (a) The same probe on the first cached layer
(layer 0): ``AUROC(l) - AUROC(layer 0)``; (b) the same probe on a bag of the read sentence's tokens
(:func:`negprobe.analysis.surface_baseline.bag_of_tokens`). *Above baseline* at layer ``l`` is
``AUROC(l)`` minus the per-fold larger of the two baselines, with its CI over claims.

**Verdicts over many layers.** A layer counts as *decodable* (or *above baseline*) where a band
that holds at all layers at once excludes chance (0.5, or 0 for the difference): the corrected
standard error times a Bonferroni Student-t critical value (:func:`simultaneous_band`), so that
thirty layers at chance do not yield a "decodable" layer most of the time. The pointwise CIs are
for plots; a pointwise CI may exclude chance at a layer the verdict does not count.

**Drop layer** (:func:`negprobe.analysis.drop_layer.decodability_drop_layer`) of the mean curve,
defined only where some layer is decodable, with a CI that recomputes the statistic in every
bootstrap draw over claims (:func:`negprobe.analysis.drop_layer.bootstrap_layer_ci` with the
widened per-fold curves as items); the last decodable layer is ``drop - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Bool, Float

from negprobe.errors import NegprobeError
from negprobe.probes.evaluation import MetricWithCI, per_fold_metric
from negprobe.probes.resampling import bootstrap_mean

from .drop_layer import bootstrap_layer_ci, decodability_drop_layer

CHANCE = 0.5
NOT_DECODABLE = "not decodable"
NOT_ABOVE = "decodable, not shown above its surface baseline (block 0, bag of tokens)"


@dataclass(frozen=True, eq=False)
class Baseline:
    """A surface baseline's held-out AUROC: per fold, and its mean with a CI over folds (claims)."""

    name: str  # "layer 0" or "bag of tokens"
    fold_auroc: Float[np.ndarray, " n_folds"]
    auroc: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True, eq=False)
class DecodabilityCurve:
    """Held-out decodability of one contrast per layer (layer slots index ``layers``).

    ``decodable``/``above`` mark layers where the simultaneous band excludes chance / zero; the drop
    layer is the half-peak statistic of :func:`~negprobe.analysis.drop_layer.decodability_drop_layer`
    on the mean curve, so the *last decodable layer* (drop - 1) is the last one at or above halfway
    between the peak and chance. Baseline "layer 0" is the first layer of ``layers``.
    """

    auroc: MetricWithCI  # mean over folds per layer; pointwise CI over folds (claims)
    layers: list[int]
    drop_layer: int | None  # slot from which it stays undecodable (len(layers): never; None: not decodable)
    fold_auroc: Float[np.ndarray, "n_folds n_layers"]  # each fold's held-out AUROC
    folds: tuple[str, ...]  # the group (claim or paraphrase) each fold held out
    decodable: Bool[np.ndarray, " n_layers"]  # simultaneous band excludes chance
    above_baseline: MetricWithCI  # AUROC minus the per-fold larger baseline; pointwise CI over folds
    above: Bool[np.ndarray, " n_layers"]  # simultaneous band of above_baseline excludes 0
    baselines: tuple[Baseline, ...]
    drop_ci: tuple[int, int] | None = None  # slots; bootstrap over claims of the statistic itself
    unit: str = "claim"  # what a fold holds out: "claim", or "paraphrase" with a single claim
    fold_rows: tuple[int, ...] = ()  # rows each fold held out (the Nadeau-Bengio widening needs them)

    @property
    def last_decodable_layer(self) -> int | None:
        """The last layer at which the annotation is still decodable (drop_layer - 1; -1: none)."""
        return None if self.drop_layer is None else self.layer_before(self.drop_layer)

    @property
    def last_decodable_ci(self) -> tuple[int, int] | None:
        """CI of :attr:`last_decodable_layer` in layer numbers (-1: not decodable in that draw)."""
        return None if self.drop_ci is None else (self.layer_before(self.drop_ci[0]), self.layer_before(self.drop_ci[1]))

    def layer_before(self, slot: int) -> int:
        """The layer number of slot ``slot - 1`` (-1 for slot 0)."""
        return self.layers[slot - 1] if slot > 0 else -1

    def layer_at(self, slot: int) -> int:
        """The layer number of ``slot`` (``len(layers)``, "never", maps past the last layer)."""
        return self.layers[slot] if slot < len(self.layers) else self.layers[-1] + 1

    @property
    def verdict(self) -> str:
        """``not decodable`` / :data:`NOT_ABOVE` / ``decodable above baseline at k of L layers (excess at the
        last layer ...)``. The count is not a localisation: which layers clear a simultaneous band depends on
        each layer's fold spread, so the excess is also given at the last layer, fixed in advance (never the
        largest one, which would be a maximum read off the test curve)."""
        if not self.decodable.any():
            return NOT_DECODABLE
        if not self.above.any():
            return NOT_ABOVE
        b = self.above_baseline
        return (f"decodable above baseline at {int(self.above.sum())} of {len(self.layers)} layers (excess at the "
                f"last layer, {self.layers[-1]}: {b.value[-1]:+.2f} [{b.ci_low[-1]:+.2f}, {b.ci_high[-1]:+.2f}])")


def layer_ranges(layers: list[int], mask) -> str:
    """``"3-7, 9"``: the layers where ``mask`` holds, consecutive slots joined into ranges."""
    slots = np.flatnonzero(np.asarray(mask, dtype=bool))
    runs: list[list[int]] = []
    for slot in slots:
        if runs and slot == runs[-1][-1] + 1:
            runs[-1].append(int(slot))
        else:
            runs.append([int(slot)])
    return ", ".join(f"{layers[r[0]]}" if len(r) == 1 else f"{layers[r[0]]}-{layers[r[-1]]}" for r in runs)


def simultaneous_band(values: Float[np.ndarray, "n_folds L"], n_rows, level: float = 0.95
                      ) -> tuple[Float[np.ndarray, " L"], Float[np.ndarray, " L"]]:
    """A band around the mean over folds that holds at all layers at once with probability ``level``.

    ``mean +- c * se``: ``se`` is the Nadeau-Bengio corrected standard error of a mean of
    cross-validation folds (:func:`cv_inflation`), ``c`` the Student-t quantile with ``k - 1``
    degrees of freedom (``k`` folds) at the Bonferroni level over layers: valid with six claims,
    where a bootstrap over six units cannot reach the tail a maximum over layers needs. Layers
    whose folds agree exactly (``se`` 0) get a band of width 0.
    """
    from scipy.stats import t as student_t

    values = np.asarray(values, dtype=np.float64)
    k, n_layers = values.shape
    se = np.sqrt(_fold_variance_factor(n_rows)) * values.std(0, ddof=1)
    c = float(student_t.ppf(1 - (1 - level) / (2 * n_layers), k - 1))
    mean = values.mean(0)
    return mean - c * se, mean + c * se


def _fold_variance_factor(n_rows) -> float:
    """``1/k + n_test/n_train`` (Nadeau & Bengio 2003): corrected variance of a mean of ``k`` folds over ``S^2``."""
    rows = np.asarray(n_rows, dtype=np.float64)
    if len(rows) < 2:
        raise NegprobeError("decodability needs at least two folds (claims or paraphrases)")
    return float(1 / len(rows) + np.mean(rows / (rows.sum() - rows)))


def cv_inflation(n_rows) -> float:
    """Factor on bootstrap deviations that corrects for folds sharing training rows (Nadeau & Bengio 2003).

    Fold metrics of cross-validation are positively correlated (each fold's probe is trained on the
    other folds' rows), so resampling folds as if independent understates the variance of their mean.
    The corrected variance of the mean of ``k`` folds is ``(1/k + n_test/n_train) * S^2`` (``S^2`` the
    sample variance of the fold values); a bootstrap over folds has ``(k-1)/k^2 * S^2``; the factor is
    the square root of their ratio.
    """
    k = len(n_rows)
    return float(np.sqrt(_fold_variance_factor(n_rows) * k * k / (k - 1)))


def _inflated(values: np.ndarray, factor: float) -> np.ndarray:
    """Fold values spread ``factor`` times further from their mean (same mean; bootstrap draws widen alike)."""
    mean = values.mean(0, keepdims=True)
    return mean + factor * (values - mean)


def _drop_statistic(curve: np.ndarray) -> int:
    """The drop layer of one draw's mean curve; 0 when that draw never rises above chance."""
    return decodability_drop_layer(curve, CHANCE) if curve.max() > CHANCE else 0


def _metric(values: np.ndarray, n_rows: int, n_boot: int, seed: int, bounds: tuple[float, float]) -> MetricWithCI:
    """Mean over folds with its bootstrap CI over folds, the ends kept inside the metric's ``bounds``."""
    mean, low, high = bootstrap_mean(np.asarray(values, dtype=np.float64).T, n_boot=n_boot, seed=seed)
    return MetricWithCI(np.atleast_1d(mean), np.clip(np.atleast_1d(low), *bounds), np.clip(np.atleast_1d(high), *bounds),
                        n_rows)


def fold_mean_ci(values: Float[np.ndarray, "n_folds L"], n_rows, n_boot: int, seed: int,
                 bounds: tuple[float, float]) -> MetricWithCI:
    """Mean over folds of per-fold ``values`` with the bootstrap CI over folds, widened by :func:`cv_inflation`
    of the folds' held-out row counts ``n_rows`` (the CI every curve of this module carries)."""
    return _metric(_inflated(np.asarray(values, dtype=np.float64), cv_inflation(n_rows)), int(sum(n_rows)), n_boot,
                   seed, bounds)


def _baseline(name: str, fold_auroc: np.ndarray, factor: float, n_boot: int, seed: int) -> Baseline:
    mean, low, high = bootstrap_mean(_inflated(fold_auroc, factor), n_boot=n_boot, seed=seed)
    return Baseline(name, fold_auroc, float(mean), float(np.clip(low, 0, 1)), float(np.clip(high, 0, 1)))


def _check(X, y: np.ndarray, groups: np.ndarray, tokens) -> None:
    if X.ndim != 3 or X.shape[1] != len(y) or len(groups) != len(y):
        raise NegprobeError(f"activations {tuple(X.shape)} do not match {len(y)} labels / {len(groups)} groups")
    if len(np.unique(y)) != 2:
        raise NegprobeError("annotation tracking needs both annotated and comparison rows")
    if tokens is not None and len(tokens) != len(y):
        raise NegprobeError(f"{len(tokens)} bag-of-tokens rows for {len(y)} labels")


def annotation_decodability(  # long: one pass from rows to a typed curve, each step a call
    X, annotated, groups, layers: list[int] | None = None, probe: str = "logistic", n_folds: int | None = None,
    seed: int = 0, n_boot: int = 200, tokens: Float[np.ndarray, "n vocab"] | None = None, unit: str = "claim",
) -> DecodabilityCurve:
    """Per-fold held-out AUROC per layer of a probe for ``annotated`` (1) vs comparison (0) rows.

    ``X`` is ``[n_layers, n, d]``; ``groups`` are the claims (or, with one claim, paraphrases):
    ``n_folds=None`` leaves one out per fold, so the CI resamples claims. ``tokens`` (bag-of-tokens
    counts of the read sentence, ``[n, vocab]``) adds that surface baseline on the same folds.
    """
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X, dtype=torch.float32)
    y = np.asarray(annotated, dtype=float)
    groups = np.asarray(groups).astype(str)
    _check(X, y, groups, tokens)
    folds = per_fold_metric(probe, X, y, groups, n_folds, seed)
    layer_list = list(layers) if layers is not None else list(range(X.shape[0]))
    if len(layer_list) != X.shape[0]:
        raise NegprobeError(f"{len(layer_list)} layer numbers for {X.shape[0]} layers of activations")
    fold_auroc, factor = folds.values, cv_inflation(folds.n_rows)  # [n_folds, L]
    baselines = [_baseline("layer 0", fold_auroc[:, 0], factor, n_boot, seed)]
    if tokens is not None:
        token_folds = per_fold_metric(probe, np.asarray(tokens, dtype=np.float32)[None], y, groups, n_folds, seed)
        baselines.append(_baseline("bag of tokens", token_folds.values[:, 0], factor, n_boot, seed))
    strongest = np.max(np.stack([b.fold_auroc for b in baselines]), axis=0)  # [n_folds]
    difference = _inflated(fold_auroc - strongest[:, None], factor)
    spread, n = _inflated(fold_auroc, factor), int(sum(folds.n_rows))
    decodable = simultaneous_band(fold_auroc, folds.n_rows)[0] > CHANCE
    above = decodable & (simultaneous_band(fold_auroc - strongest[:, None], folds.n_rows)[0] > 0)
    drop, drop_ci = None, None
    if decodable.any():
        drop = decodability_drop_layer(fold_auroc.mean(0), CHANCE)
        _, low, high = bootstrap_layer_ci(spread, _drop_statistic, n_boot=n_boot, seed=seed)
        drop_ci = (int(low), int(high))
    return DecodabilityCurve(
        auroc=_metric(spread, n, n_boot, seed, (0.0, 1.0)), layers=layer_list, drop_layer=drop, fold_auroc=fold_auroc,
        folds=tuple(",".join(h) for h in folds.held_out), decodable=decodable,
        above_baseline=_metric(difference, n, n_boot, seed, (-1.0, 1.0)), above=above, baselines=tuple(baselines), drop_ci=drop_ci,
        unit=unit, fold_rows=tuple(int(r) for r in folds.n_rows))
