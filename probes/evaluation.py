"""Leakage-safe evaluation: group k-fold splits, metrics over all layers, group-bootstrap CIs.

Splits are made over *groups* (the entity or claim of a record), so paraphrases and negated
twins of the same fact never straddle train and test. Everything is seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from negprobe.errors import NegprobeError

from . import make_probe
from .resampling import bootstrap_weights, percentile_interval


def group_kfold(groups: Sequence | np.ndarray, n_splits: int, seed: int = 0) -> list[np.ndarray]:
    """Assign each unique group to one of ``n_splits`` folds (seeded); returns each fold's group set."""
    unique = np.unique(np.asarray(groups, dtype=object).astype(str))
    if len(unique) < n_splits:
        raise NegprobeError(f"{len(unique)} groups are fewer than the {n_splits} folds asked for")
    shuffled = np.random.default_rng(seed).permutation(unique)
    return [shuffled[k::n_splits] for k in range(n_splits)]


def split_groups(groups: Sequence | np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """A seeded ``fraction`` of the unique groups (at least one), e.g. for a validation split."""
    unique = np.unique(np.asarray(groups, dtype=object).astype(str))
    if len(unique) < 2:
        raise NegprobeError("need at least two groups to split off validation rows")
    k = min(len(unique) - 1, max(1, int(round(fraction * len(unique)))))
    return np.random.default_rng(seed).permutation(unique)[:k]


def accuracy(scores: Float[np.ndarray, "*L n"], y: np.ndarray) -> Float[np.ndarray, " *L"] | float:
    """Accuracy of ``scores > 0`` per row of ``scores`` [..., n]."""
    return ((scores > 0) == (np.asarray(y)[None] > 0.5)).mean(-1) if scores.ndim > 1 else float(((scores > 0) == (y > 0.5)).mean())


def auroc(scores: Float[np.ndarray, "*L n"], y: np.ndarray) -> Float[np.ndarray, " L"]:
    """Area under the ROC curve per row of ``scores`` [L, n] (Mann-Whitney U, ties averaged)."""
    from scipy.stats import rankdata

    scores = np.atleast_2d(scores)
    y = np.asarray(y) > 0.5
    n_pos, n_neg = y.sum(), (~y).sum()
    if n_pos == 0 or n_neg == 0:
        return np.full(scores.shape[0], np.nan)
    ranks = rankdata(scores, axis=1)
    return (ranks[:, y].sum(1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


METRICS = {"accuracy": accuracy, "auroc": auroc}


@dataclass(frozen=True)
class MetricWithCI:
    """A per-layer metric with its percentile CI ends, over ``n`` scored rows."""

    value: Float[np.ndarray, " L"]
    ci_low: Float[np.ndarray, " L"]
    ci_high: Float[np.ndarray, " L"]
    n: int


def _weighted_metric(scores: Float[np.ndarray, "L n"], y: np.ndarray, weights: Float[np.ndarray, "B n"],
                     metric: str) -> Float[np.ndarray, "B L"]:
    """Metric per (bootstrap draw, layer) with row weights [B, n] (group counts of a bootstrap draw)."""
    pos = (y > 0.5).astype(np.float64)
    if metric == "accuracy":
        correct = ((scores > 0) == (pos[None] > 0.5)).astype(np.float64)  # [L, n]
        return weights @ correct.T / weights.sum(1, keepdims=True)
    w_pos, w_neg = weights * pos, weights * (1 - pos)
    total = w_pos.sum(1, keepdims=True) * w_neg.sum(1, keepdims=True)
    out = np.empty((weights.shape[0], scores.shape[0]))
    for layer, row in enumerate(scores):
        order = np.argsort(row, kind="stable")
        sorted_scores = row[order]
        neg_sorted = w_neg[:, order]
        # ties: a negative with an equal score counts one half, whatever the sort order placed first
        first = np.searchsorted(sorted_scores, sorted_scores, side="left")
        last = np.searchsorted(sorted_scores, sorted_scores, side="right")
        cum = np.concatenate([np.zeros((len(weights), 1)), np.cumsum(neg_sorted, axis=1)], axis=1)
        strictly_less = cum[:, first]
        ties = cum[:, last] - cum[:, first]
        out[:, layer] = (w_pos[:, order] * (strictly_less + 0.5 * ties)).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return out / total


def pooled_metric_with_ci(
    scores: Float[np.ndarray, "*L n"], y: np.ndarray, groups: np.ndarray, metric: str, n_boot: int = 500, seed: int = 0,
    level: float = 0.95,
) -> MetricWithCI:
    """A per-layer metric of pooled out-of-fold ``scores`` ``[L, n]``, with a cluster-bootstrap CI.

    Each draw resamples the unique ``groups`` (claims) across the whole set with replacement, so the
    CI reflects how many independent groups there are, however the folds split them.
    """
    scores, y = np.atleast_2d(np.asarray(scores, dtype=np.float64)), np.asarray(y)
    if len(np.unique(y)) != 2:
        raise NegprobeError("the test rows have one class only; accuracy/AUROC need true and false rows")
    value = METRICS[metric](scores, y)
    boot = _weighted_metric(scores, y, bootstrap_weights(groups, len(y), n_boot, seed), metric)  # [B, L]
    return MetricWithCI(value, *percentile_interval(boot, level), len(y))


def folds_metric_with_ci(
    fold_scores: list[np.ndarray], fold_y: list[np.ndarray], fold_groups: list[np.ndarray], metric: str,
    n_boot: int = 500, seed: int = 0, level: float = 0.95,
) -> MetricWithCI:
    """Mean over folds of a per-layer metric, with a percentile CI from resampling groups within folds.

    ``fold_scores[k]`` is ``[L, n_k]`` (the held-out rows of fold k). A bootstrap draw resamples
    each fold's groups with replacement; rows enter with their group's draw count as weight.
    """
    fn = METRICS[metric]
    usable = [k for k in range(len(fold_scores)) if fold_scores[k].shape[1] > 0 and len(np.unique(fold_y[k])) == 2]
    if not usable:
        raise NegprobeError("the test rows have one class only; accuracy/AUROC need true and false rows")
    value = np.mean([fn(fold_scores[k], fold_y[k]) for k in usable], axis=0)
    per_fold = [_weighted_metric(fold_scores[k], fold_y[k],
                                 bootstrap_weights(fold_groups[k], len(fold_y[k]), n_boot, seed + i), metric)
                for i, k in enumerate(usable)]
    with np.errstate(invalid="ignore"):
        boot = np.nanmean(np.stack(per_fold), axis=0)  # [B, L]
    return MetricWithCI(value, *percentile_interval(boot, level), int(sum(fold_scores[k].shape[1] for k in usable)))


def _columns(X: np.ndarray | Tensor, mask: np.ndarray) -> np.ndarray | Tensor:
    """``X[:, mask]`` for an array or a tensor (a tensor is indexed with the mask as a tensor)."""
    return X[:, torch.from_numpy(mask)] if isinstance(X, Tensor) else X[:, mask]


def out_of_fold_scores(
    probe: str, X: Float[np.ndarray, "L n d"] | Float[Tensor, "L n d"], y: np.ndarray, groups: np.ndarray,
    n_folds: int | None = None, seed: int = 0, fit_kwargs: dict[str, np.ndarray] | None = None,
) -> Float[np.ndarray, "L n"]:
    """Decision scores ``[L, n]`` of every row from a probe that never saw its group.

    The one out-of-fold scorer: ``X`` is ``[L, n, d]``; groups are split into ``n_folds`` seeded
    group folds (``None``: leave one group out); fold k's probe is fitted (seed ``seed + k``) on the
    other folds' rows, with ``fit_kwargs`` (row-aligned arrays such as ``polarity`` or ``domain``)
    sliced alike, and scores fold k's rows.
    """
    y, groups = np.asarray(y, dtype=float), np.asarray(groups, dtype=object).astype(str)
    n_folds = len(np.unique(groups)) if n_folds is None else n_folds
    scores = np.zeros((X.shape[0], len(y)))
    for k, held in enumerate(group_kfold(groups, n_folds, seed)):
        test = np.isin(groups, held)
        if len(np.unique(y[~test])) < 2:
            raise NegprobeError(f"fold {k} has only one class among its training rows; use fewer folds")
        extra = {key: np.asarray(value)[~test] for key, value in (fit_kwargs or {}).items()}
        fitted = make_probe(probe, seed + k).fit(_columns(X, ~test), y[~test], **extra)
        scores[:, test] = fitted.decision_function(_columns(X, test))
    return scores


@dataclass(frozen=True, eq=False)
class FoldMetric:
    """A metric of each fold's held-out rows, per layer: one row per fold-specific probe, never pooled.

    Scores of probes fitted on different folds live on different scales (offset, norm), so a metric
    of the pooled out-of-fold scores mixes those scales; the fold metric scores each probe only
    against its own held-out rows (Forman & Scholz 2010, "Apples-to-apples in cross-validation").
    """

    values: Float[np.ndarray, "n_folds L"]
    held_out: tuple[tuple[str, ...], ...]  # the groups each fold held out
    n_rows: tuple[int, ...]  # held-out rows per fold

    @property
    def mean(self) -> Float[np.ndarray, " L"]:
        """The mean over folds of each fold's metric (the cross-validated estimate)."""
        return self.values.mean(0)


def per_fold_values(scores: Float[np.ndarray, "L n"], y: np.ndarray, fold: np.ndarray, metric: str = "auroc"
                    ) -> Float[np.ndarray, "n_folds L"]:
    """``metric`` of ``scores`` on each fold's rows alone (``fold[i]``: row i's fold, ``0..n_folds-1``)."""
    scores, y, fold = np.atleast_2d(np.asarray(scores, dtype=np.float64)), np.asarray(y), np.asarray(fold)
    out = []
    for k in range(int(fold.max()) + 1):
        rows = fold == k
        if len(np.unique(y[rows] > 0.5)) != 2:
            raise NegprobeError(f"fold {k}'s held-out rows have one class only; each fold needs both classes")
        out.append(np.atleast_1d(METRICS[metric](scores[:, rows], y[rows])))
    return np.stack(out)


def per_fold_metric(
    probe: str, X: Float[np.ndarray, "L n d"] | Float[Tensor, "L n d"], y: np.ndarray, groups: np.ndarray,
    n_folds: int | None = None, seed: int = 0, metric: str = "auroc",
) -> FoldMetric:
    """Held-out ``metric`` per fold and layer of the probes of :func:`out_of_fold_scores` (same folds).

    ``n_folds=None`` leaves one group out per fold (one claim: the folds are the claims).
    """
    groups = np.asarray(groups, dtype=object).astype(str)
    n_folds = len(np.unique(groups)) if n_folds is None else n_folds
    held_out = group_kfold(groups, n_folds, seed)
    fold = np.full(len(groups), -1)
    for k, held in enumerate(held_out):
        fold[np.isin(groups, held)] = k
    scores = out_of_fold_scores(probe, X, y, groups, n_folds, seed)
    return FoldMetric(per_fold_values(scores, y, fold, metric), tuple(tuple(map(str, h)) for h in held_out),
                      tuple(int((fold == k).sum()) for k in range(n_folds)))
