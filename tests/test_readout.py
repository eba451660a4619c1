"""Normalised truth readouts, inversion rate, paired differences and the validity gate."""

from __future__ import annotations

import numpy as np
import pytest

from negprobe.analysis.readout import ReadoutScale, ValidityGate, inversion_rate, paired_difference
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
