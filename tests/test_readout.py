"""Normalised truth readouts, inversion rate, paired differences and the validity gate."""

from __future__ import annotations

import numpy as np
import pytest

from negprobe.analysis.readout import (
    ReadoutScale,
    ValidityGate,
    counterpart_pairs,
    inversion_rate,
    paired_counterpart_statistic,
    paired_difference,
)
from negprobe.errors import NegprobeError
from negprobe.probes import MassMeanProbe


def test_scale_maps_training_class_means_to_zero_and_one():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    X = rng.normal(size=(3, 200, 8)) + (2 * y - 1)[None, :, None] * np.array([1.0, 0.5, 0.2])[:, None, None]
    probe = MassMeanProbe().fit(X, y)
    scores = probe.decision_function(X)
    readout = ReadoutScale.fit(scores, y).apply(scores)
    np.testing.assert_allclose(readout[:, y == 1].mean(1), 1.0, atol=1e-9)
    np.testing.assert_allclose(readout[:, y == 0].mean(1), 0.0, atol=1e-9)


def test_planted_flip_is_read_as_inversion():
    readout = np.array([[0.1, 0.2, 0.9, 0.8], [0.7, 0.8, 0.9, 0.6]])  # two layers, four false paraphrases
    np.testing.assert_allclose(inversion_rate(readout, [0, 0, 0, 0]), [0.5, 1.0])


def test_paired_difference_and_ci():
    rng = np.random.default_rng(1)
    a = 0.8 + 0.1 * rng.normal(size=(2, 400))
    b = 0.3 + 0.1 * rng.normal(size=(2, 400))
    mean, low, high = paired_difference(a, b)
    assert np.all(low < mean) and np.all(mean < high) and np.all(np.abs(mean - 0.5) < 0.03)
    with pytest.raises(NegprobeError, match="must align"):
        paired_difference(a, b[:, :10])


def test_validity_gate():
    gate = ValidityGate(np.array([0.9, 0.6, 0.7]), np.array([0.7, 0.9, 0.5]))
    assert gate.passed.tolist() == [True, False, False]
    assert gate.describe(0) == "valid" and "uninformative" in gate.describe(2)
    with_ci = ValidityGate(np.array([0.9]), np.array([0.5]), 0.65, np.array([0.3]), np.array([0.7]))
    assert "paired counterpart AUROC 0.50 [0.30, 0.70]" in with_ci.describe(0)


def test_heldout_only_gate_ignores_the_counterpart():
    gate = ValidityGate(np.array([0.9, 0.6, np.nan]), None)
    assert gate.heldout_only and gate.passed.tolist() == [True, False, False]
    assert gate.describe(0) == "valid (held-out AUROC only; refitted reader)"
    assert "refitted reader, held-out truth data only" in gate.describe(1)
    nothing = ValidityGate(np.array([0.9]), np.array([np.nan]))  # no counterpart pairs: cannot pass
    assert not nothing.passed.any() and "no counterpart pairs" in nothing.describe(0)


def test_counterpart_pairs_join_rows_by_pair_id():
    pair_ids = ["b:01", "a:00", "a:00", "c:00", "b:01"]  # c has no counterpart: left out
    claim_rows, cp_rows = counterpart_pairs(pair_ids, [1, 0, 1, 0, 0])
    assert claim_rows.tolist() == [1, 4] and cp_rows.tolist() == [2, 0]
    empty = counterpart_pairs(["a:00"], [0])
    assert empty[0].size == empty[1].size == 0


def test_paired_statistic_against_a_direct_count():
    rng = np.random.default_rng(3)
    claims = np.repeat(["a", "b", "c"], [4, 7, 5])
    a = rng.normal(size=(2, 16))
    b = a + rng.normal(0.3, 1.0, size=(2, 16))
    b[:, 0] = a[:, 0]  # one tie
    value, low, high = paired_counterpart_statistic(a, b, claims, n_boot=300)
    for layer in range(2):
        shares = []
        for c in "abc":
            m = claims == c
            shares.append(np.mean([1.0 if q > p else 0.5 if q == p else 0.0 for p, q in zip(a[layer, m], b[layer, m])]))
        assert value[layer] == pytest.approx(np.mean(shares))
        assert min(shares) <= low[layer] <= value[layer] <= high[layer] <= max(shares)
    with pytest.raises(NegprobeError, match="NaN"):
        paired_counterpart_statistic(np.full((1, 2), np.nan), np.zeros((1, 2)), ["a", "a"])


def test_scale_needs_both_classes():
    with pytest.raises(NegprobeError, match="true and false"):
        ReadoutScale.fit(np.zeros((2, 5)), np.ones(5))


def test_paired_difference_resamples_whole_groups():
    from negprobe.analysis.readout import paired_difference

    rng = np.random.default_rng(0)
    group_effect = np.repeat(rng.normal(0, 1.0, 10), 6)  # ten claims, six paraphrases each, shared offsets
    a = (group_effect + rng.normal(0, 0.1, 60))[None]
    b = np.zeros_like(a)
    mean, low, high = paired_difference(a, b, n_boot=500)
    _, glow, ghigh = paired_difference(a, b, n_boot=500, groups=np.repeat(np.arange(10), 6))
    assert mean[0] == pytest.approx(a.mean())
    assert glow[0] <= mean[0] <= ghigh[0]
    assert (ghigh - glow)[0] > 1.5 * (high - low)[0]  # pairs of one claim are not independent
