"""The one cluster bootstrap and the one out-of-fold scorer, against planted structure."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from negprobe.errors import NegprobeError
from negprobe.probes.evaluation import auroc, out_of_fold_scores
from negprobe.probes.resampling import (
    bootstrap_mean,
    bootstrap_statistic,
    bootstrap_weights,
    crossed_bootstrap_mean,
    percentile_interval,
)


def test_weights_move_whole_units_and_sum_to_the_unit_count():
    groups = np.repeat(["a", "b", "c", "d"], [1, 2, 3, 4])
    w = bootstrap_weights(groups, len(groups), n_boot=300, seed=1)
    assert w.shape == (300, 10)
    for unit in "abcd":
        cols = w[:, groups == unit]
        assert (cols == cols[:, :1]).all()  # every row of a unit shares its unit's draw count
    unit_counts = np.stack([w[:, groups == u][:, 0] for u in "abcd"], 1)
    assert (unit_counts.sum(1) == 4).all()
    np.testing.assert_array_equal(w, bootstrap_weights(groups, 10, 300, seed=1))  # seeded


def test_mean_ci_covers_the_true_mean_at_its_level():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(200):
        x = rng.normal(3.0, 1.0, 40)
        _, low, high = bootstrap_mean(x, n_boot=400, seed=int(rng.integers(1 << 30)))
        hits += low <= 3.0 <= high
    assert 0.88 <= hits / 200 <= 0.99


def test_clustered_rows_count_as_one_unit():
    """Ten identical copies of each of 8 claims: the cluster CI equals the CI over the 8 claims alone,
    and is wider than the (wrong) CI that treats the 80 rows as independent."""
    rng = np.random.default_rng(3)
    per_claim = rng.normal(0, 1, 8)
    rows = np.repeat(per_claim, 10)
    groups = np.repeat(np.arange(8), 10)
    _, lo_c, hi_c = bootstrap_mean(rows, groups, n_boot=2000, seed=0)
    _, lo_1, hi_1 = bootstrap_mean(per_claim, n_boot=2000, seed=0)
    _, lo_iid, hi_iid = bootstrap_mean(rows, n_boot=2000, seed=0)
    assert abs((hi_c - lo_c) - (hi_1 - lo_1)) < 0.1 * (hi_1 - lo_1)
    assert hi_iid - lo_iid < 0.6 * (hi_c - lo_c)


def test_mean_over_a_batch_axis():
    values = np.stack([np.full(20, 1.0), np.linspace(0, 2, 20)])  # [2, n]
    mean, low, high = bootstrap_mean(values, n_boot=200)
    np.testing.assert_allclose(mean, [1.0, 1.0])
    assert low[0] == high[0] == 1.0 and low[1] < 1.0 < high[1]


def test_statistic_with_observed_ends_stays_on_observed_values():
    layers = np.array([3, 3, 4, 7, 7, 7, 9, 2])

    def weighted_median(v, w):
        order = np.argsort(v)
        cum = np.cumsum(w[order])
        return float(v[order][np.searchsorted(cum, cum[-1] / 2)])

    value, low, high = bootstrap_statistic(layers, weighted_median, n_boot=500, observed=True)
    assert value in layers and low in layers and high in layers and low <= value <= high


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(NegprobeError, match="groups for"):
        bootstrap_weights(["a", "b"], 3, 10)
    with pytest.raises(NegprobeError, match="n_boot"):
        bootstrap_weights(None, 3, 0)
    with pytest.raises(NegprobeError, match="level"):
        percentile_interval(np.zeros(10), level=1.5)


def test_out_of_fold_scores_never_see_their_group():
    """Labels that depend only on group identity, carried by a random per-group code in X: a probe
    that saw the group memorises it (in-sample AUROC ~1), out of fold it is at chance."""
    rng = np.random.default_rng(0)
    n_groups, per_group, d = 40, 6, 64
    codes = rng.normal(0, 1, (n_groups, d))
    groups = np.repeat(np.arange(n_groups), per_group)
    y = (np.arange(n_groups) % 2)[groups].astype(float)
    X = torch.tensor(codes[groups] + 0.1 * rng.normal(0, 1, (len(groups), d)), dtype=torch.float32)[None]
    oof = out_of_fold_scores("logistic", X, y, groups, n_folds=5, seed=0)
    assert oof.shape == (1, len(y))
    assert abs(float(auroc(oof, y)[0]) - 0.5) < 0.15
    # a real, shared direction transfers to unseen groups
    signal = torch.tensor(np.outer(2 * y - 1, np.eye(d)[0]) * 4.0, dtype=torch.float32)[None]
    oof = out_of_fold_scores("logistic", X + signal, y, groups, n_folds=5, seed=0)
    assert float(auroc(oof, y)[0]) > 0.85


def test_out_of_fold_scores_slice_fit_arguments_and_leave_one_group_out():
    rng = np.random.default_rng(1)
    groups = np.repeat(["t1", "t2", "t3"], 50)
    y = rng.integers(0, 2, 150).astype(float)
    X = torch.tensor(rng.normal(0, 1, (2, 150, 8)) + (2 * y - 1)[None, :, None], dtype=torch.float32)
    polarity = np.ones(150, dtype=int)
    scores = out_of_fold_scores("ttpd", X, y, groups, None, 0, {"polarity": polarity, "domain": groups})
    assert scores.shape == (2, 150) and (auroc(scores, y) > 0.9).all()


def test_crossed_bootstrap_reduces_to_the_unit_bootstrap_with_one_seed():
    units = np.random.default_rng(3).normal(size=17)
    mean, low, high = crossed_bootstrap_mean(units[None, :], n_boot=500, seed=4)
    ref = bootstrap_mean(units, n_boot=500, seed=4)
    np.testing.assert_allclose([mean, low, high], ref)


def test_crossed_bootstrap_of_seed_only_variation_is_the_seed_bootstrap():
    seeds = np.array([0.0, 1.0, 5.0, 2.0])
    values = np.repeat(seeds[:, None], 9, axis=1)  # the units agree within each seed
    _, low, high = crossed_bootstrap_mean(values, n_boot=500, seed=7)
    _, ref_low, ref_high = bootstrap_mean(seeds, n_boot=500, seed=8)  # the seed axis draws with seed + 1
    np.testing.assert_allclose([low, high], [ref_low, ref_high])


def test_crossed_bootstrap_covers_a_crossed_random_effects_mean():
    """m[s, i] = a_s + b_i + noise: the CI must cover 0 about 95% of the time (crossed bootstrap is
    known to be slightly conservative), and resampling only the units would under-cover."""
    rng = np.random.default_rng(0)
    covered, unit_only = 0, 0
    for _ in range(200):
        values = rng.normal(0, 1, (6, 1)) + rng.normal(0, 1, (1, 20)) + rng.normal(0, 0.3, (6, 20))
        _, low, high = crossed_bootstrap_mean(values, n_boot=300, seed=int(rng.integers(1 << 30)))
        covered += low <= 0 <= high
        _, ulow, uhigh = bootstrap_mean(values.mean(0), n_boot=300, seed=int(rng.integers(1 << 30)))
        unit_only += ulow <= 0 <= uhigh
    assert covered / 200 >= 0.88
    assert unit_only < covered - 20


def test_crossed_bootstrap_keeps_batch_axes_and_refuses_a_vector():
    values = np.random.default_rng(1).normal(size=(3, 2, 5))
    mean, low, high = crossed_bootstrap_mean(values, n_boot=50)
    assert mean.shape == low.shape == high.shape == (3,)
    np.testing.assert_allclose(mean, values.mean((1, 2)))
    with pytest.raises(NegprobeError, match="seed, unit"):
        crossed_bootstrap_mean(np.zeros(4))


def test_strata_weigh_each_answer_key_equally_so_a_constant_answer_is_no_effect():
    """A model that answers "no" to all 10 questions, 7 keyed yes and 3 keyed no: believer margins -2 (yes key)
    and +2 (no key). Unbalanced, the mean is -0.8 and the rate 0.3 (the key's 3/10); balanced, both say nothing."""
    keys = np.array(["yes"] * 7 + ["no"] * 3)
    margins = np.where(keys == "yes", -2.0, 2.0)[None, :]
    mean, low, high = crossed_bootstrap_mean(margins, n_boot=300, strata=keys)
    assert mean == pytest.approx(0.0) and low == pytest.approx(0.0) and high == pytest.approx(0.0)
    rate = crossed_bootstrap_mean((margins > 0).astype(float), n_boot=300, strata=keys)[0]
    assert rate == pytest.approx(0.5) and crossed_bootstrap_mean(margins, n_boot=10)[0] == pytest.approx(-0.8)
    # content within the strata still shows: a believer-leaning model scores above 0 on both keys
    leaning = np.where(keys == "yes", 1.0, 0.5)[None, :] + np.random.default_rng(0).normal(0, 0.1, 10)
    mean, low, high = crossed_bootstrap_mean(leaning, n_boot=300, strata=keys)
    assert mean == pytest.approx(0.75, abs=0.05) and low > 0.5


def test_balanced_weights_keep_stratum_sizes_in_every_draw():
    from negprobe.probes.resampling import balanced_weights

    point, draws = balanced_weights(["a", "a", "b", "b", "b"], 5, n_boot=50, seed=1)
    np.testing.assert_allclose(point, [0.25, 0.25, 1 / 6, 1 / 6, 1 / 6])
    np.testing.assert_allclose(draws[:, :2].sum(1), 0.5)
    np.testing.assert_allclose(draws[:, 2:].sum(1), 0.5)
