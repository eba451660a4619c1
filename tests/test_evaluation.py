"""Leakage-safe splits and metrics against scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from negprobe.errors import NegprobeError
from negprobe.probes.evaluation import _weighted_metric, auroc, folds_metric_with_ci, group_kfold
from negprobe.probes.sweep_eval import make_splits


def test_auroc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    scores = np.round(rng.normal(size=(4, 300)) + y, 1)  # rounding makes ties
    np.testing.assert_allclose(auroc(scores, y), [roc_auc_score(y, s) for s in scores])


def test_weighted_metrics_equal_metrics_on_repeated_rows():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 50)
    scores = np.round(rng.normal(size=(3, 50)) + y, 1)
    counts = rng.integers(0, 3, 50).astype(float)
    rows = np.repeat(np.arange(50), counts.astype(int))
    for metric, ref in (("auroc", lambda s: [roc_auc_score(y[rows], r) for r in s[:, rows]]),
                        ("accuracy", lambda s: ((s[:, rows] > 0) == y[rows]).mean(1))):
        np.testing.assert_allclose(_weighted_metric(scores, y, counts[None], metric)[0], ref(scores))


def test_ci_brackets_value_and_shrinks_with_more_groups():
    rng = np.random.default_rng(2)

    def width(n_groups):
        groups = np.repeat(np.arange(n_groups), 4).astype(str)
        y = rng.integers(0, 2, len(groups))
        scores = (y - 0.5 + rng.normal(scale=1.0, size=len(groups)))[None]
        res = folds_metric_with_ci([scores], [y], [groups], "accuracy", n_boot=400)
        assert res.ci_low[0] <= res.value[0] <= res.ci_high[0]
        return res.ci_high[0] - res.ci_low[0]

    assert width(400) < 0.6 * width(25)


def test_no_group_in_train_and_test_of_any_split():
    rows = pd.DataFrame({
        "dataset": ["cities"] * 60 + ["neg_cities"] * 60 + ["elements"] * 40,
        "group": [f"city{i % 30}" for i in range(60)] * 2 + [f"el{i % 20}" for i in range(40)],
    })
    splits = make_splits(rows, ["cities", "neg_cities"], ["cities", "neg_cities", "elements"], 5, 0.2, seed=3)
    tested = []
    for split in splits:
        train_groups = set(rows["group"].iloc[split.train])
        assert set(rows["group"].iloc[split.fit]).isdisjoint(rows["group"].iloc[split.val])
        assert set(split.fit) | set(split.val) == set(split.train)
        assert set(rows["dataset"].iloc[split.train]) <= {"cities", "neg_cities"}
        for idx in split.test.values():
            assert train_groups.isdisjoint(rows["group"].iloc[idx])
            tested.extend(idx)
    assert sorted(tested) == list(range(len(rows)))  # every row is tested exactly once


def test_bad_splits():
    with pytest.raises(NegprobeError, match="fewer than the 5 folds"):
        group_kfold(["a", "b", "c"], 5)
    with pytest.raises(NegprobeError, match="one class only"):
        folds_metric_with_ci([np.zeros((2, 4))], [np.ones(4)], [np.array(list("abcd"))], "accuracy")


def test_pooled_metric_with_ci_matches_sklearn_and_resamples_groups():
    from sklearn.metrics import roc_auc_score

    from negprobe.probes.evaluation import pooled_metric_with_ci

    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 60)
    groups = np.repeat(np.arange(30), 4)
    scores = np.stack([rng.normal(size=len(y)) + y * shift for shift in (0.0, 1.0, 3.0)])
    result = pooled_metric_with_ci(scores, y, groups, "auroc", n_boot=300)
    np.testing.assert_allclose(result.value, [roc_auc_score(y, s) for s in scores])
    assert (result.ci_low <= result.value).all() and (result.value <= result.ci_high).all()
    # a group effect shared by all rows of a group widens the CI against the same rows as independent groups
    clustered = scores + np.repeat(rng.normal(0, 2, 30), 4)[None] * y[None]
    narrow = pooled_metric_with_ci(clustered, y, np.arange(len(y)), "auroc", n_boot=300)
    wide = pooled_metric_with_ci(clustered, y, groups, "auroc", n_boot=300)
    assert (wide.ci_high - wide.ci_low)[1] > (narrow.ci_high - narrow.ci_low)[1]


def test_per_fold_auroc_is_averaged_not_pooled():
    """Two folds, each ranked perfectly by its own probe, on scales 10 apart: the pooled AUROC mixes
    the scales (0.75: fold A's negatives outrank fold B's positives); the per-fold mean is 1."""
    from negprobe.probes.evaluation import per_fold_values

    scores = np.array([[10.1, 10.0, 10.1, 10.0, 0.1, 0.0, 0.1, 0.0]])
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    fold = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(per_fold_values(scores, y, fold), [[1.0], [1.0]])
    np.testing.assert_allclose(auroc(scores, y), [0.75])
    with pytest.raises(NegprobeError, match="fold 1's held-out rows have one class"):
        per_fold_values(scores, y, np.array([0, 0, 0, 0, 1, 0, 1, 0]))  # fold 1: two positives only


def test_per_fold_metric_scores_each_fold_with_its_own_probe():
    from negprobe.probes import MassMeanProbe
    from negprobe.probes.evaluation import per_fold_metric

    rng = np.random.default_rng(4)
    groups = np.repeat([f"g{i}" for i in range(5)], 8)
    y = np.tile([0, 1], 20)
    X = rng.normal(size=(3, 40, 6)) + 0.8 * y[None, :, None] * np.array([1.0, 0.5, 0.0])[:, None, None]
    result = per_fold_metric("mass_mean", X, y, groups, seed=2)  # n_folds None: leave one group out
    assert result.values.shape == (5, 3) and result.n_rows == (8,) * 5
    for k, held in enumerate(group_kfold(groups, 5, 2)):
        assert result.held_out[k] == tuple(held)
        test = np.isin(groups, held)
        scores = MassMeanProbe().fit(X[:, ~test], y[~test]).decision_function(X[:, test])
        np.testing.assert_allclose(result.values[k], [roc_auc_score(y[test], s) for s in scores])
    np.testing.assert_allclose(result.mean, result.values.mean(0))
