"""Leakage-safe evaluation: group k-fold splits, metrics over all layers, group-bootstrap CIs.

Splits are made over *groups* (the entity or claim of a record), so paraphrases and negated
twins of the same fact never straddle train and test. Everything is seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from activations.errors import NegprobeError


def group_kfold(groups, n_splits: int, seed: int = 0) -> list[np.ndarray]:
    """Assign each unique group to one of ``n_splits`` folds (seeded); returns each fold's group set."""
    unique = np.unique(np.asarray(groups, dtype=object).astype(str))
    if len(unique) < n_splits:
        raise NegprobeError(f"{len(unique)} groups are fewer than the {n_splits} folds asked for")
    shuffled = np.random.default_rng(seed).permutation(unique)
    return [shuffled[k::n_splits] for k in range(n_splits)]


def split_groups(groups, fraction: float, seed: int = 0) -> np.ndarray:
    """A seeded ``fraction`` of the unique groups (at least one), e.g. for a validation split."""
    unique = np.unique(np.asarray(groups, dtype=object).astype(str))
    if len(unique) < 2:
        raise NegprobeError("need at least two groups to split off validation rows")
    k = min(len(unique) - 1, max(1, int(round(fraction * len(unique)))))
    return np.random.default_rng(seed).permutation(unique)[:k]


def accuracy(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Accuracy of ``scores > 0`` per row of ``scores`` [..., n]."""
    return ((scores > 0) == (np.asarray(y)[None] > 0.5)).mean(-1) if scores.ndim > 1 else float(((scores > 0) == (y > 0.5)).mean())


def auroc(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Area under the ROC curve per row of ``scores`` [L, n] (Mann-Whitney U, ties averaged)."""
    scores = np.atleast_2d(scores)
    y = np.asarray(y) > 0.5
    n_pos, n_neg = y.sum(), (~y).sum()
    if n_pos == 0 or n_neg == 0:
        return np.full(scores.shape[0], np.nan)
    ranks = np.apply_along_axis(_average_ranks, 1, scores)
    return (ranks[:, y].sum(1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_vals = values[order]
    boundaries = np.flatnonzero(np.diff(sorted_vals)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(values)]])
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = 0.5 * (s + e - 1) + 1
    return ranks


METRICS = {"accuracy": accuracy, "auroc": auroc}


@dataclass
class MetricWithCI:
    value: np.ndarray  # [L]
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: int


def folds_metric_with_ci(
    fold_scores: list[np.ndarray], fold_y: list[np.ndarray], fold_groups: list[np.ndarray], metric: str,
    n_boot: int = 500, seed: int = 0, level: float = 0.95,
) -> MetricWithCI:
    """Mean over folds of a per-layer metric, with a percentile CI from resampling groups within folds.

    ``fold_scores[k]`` is ``[L, n_k]`` (the held-out rows of fold k).
    """
    fn = METRICS[metric]
    usable = [k for k in range(len(fold_scores)) if fold_scores[k].shape[1] > 0 and len(np.unique(fold_y[k])) == 2]
    if not usable:
        raise NegprobeError("the test rows have one class only; accuracy/AUROC need true and false rows")
    value = np.mean([fn(fold_scores[k], fold_y[k]) for k in usable], axis=0)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        per_fold = []
        for k in usable:
            groups = fold_groups[k]
            unique, inverse = np.unique(groups, return_inverse=True)
            members = [np.flatnonzero(inverse == g) for g in range(len(unique))]
            chosen = rng.integers(0, len(unique), len(unique))
            rows = np.concatenate([members[g] for g in chosen])
            if len(np.unique(fold_y[k][rows])) < 2:
                continue
            per_fold.append(fn(fold_scores[k][:, rows], fold_y[k][rows]))
        if per_fold:
            draws.append(np.mean(per_fold, axis=0))
    draws = np.array(draws)
    alpha = (1 - level) / 2
    return MetricWithCI(value, np.quantile(draws, alpha, axis=0), np.quantile(draws, 1 - alpha, axis=0),
                        int(sum(fold_scores[k].shape[1] for k in usable)))
