"""Drop-layer statistics recover planted structure; the bootstrap CI covers it and shrinks with items."""

from __future__ import annotations

import numpy as np
import pytest

from negprobe.activations import NegprobeError
from negprobe.analysis.drop_layer import bootstrap_layer_ci, decodability_drop_layer, first_layer_staying, flip_layer

N_LAYERS = 24


def step_curve(k: int, high: float = 0.95, low: float = 0.5, n: int = N_LAYERS) -> np.ndarray:
    """Decodable (``high``) through layer ``k``, chance after."""
    return np.where(np.arange(n) <= k, high, low)


@pytest.mark.parametrize("k", [0, 5, 17, N_LAYERS - 2])
def test_step_curve_drops_at_k_plus_one(k):
    assert decodability_drop_layer(step_curve(k)) == k + 1


def test_rise_then_fall_and_never_dropping():
    curve = np.array([0.5, 0.6, 0.8, 0.9, 0.85, 0.72, 0.6, 0.52, 0.5])  # peak 0.9 at 3 -> threshold 0.7
    assert decodability_drop_layer(curve) == 6
    assert decodability_drop_layer(step_curve(N_LAYERS - 1)) == N_LAYERS  # never dropped
    assert decodability_drop_layer(np.array([0.2, 0.9, 0.8, 0.4, 0.3]), floor=0.2) == 3  # threshold 0.55


def test_one_noisy_dip_does_not_fool_it():
    curve = step_curve(15)
    curve[6] = 0.5  # a single dip to chance long before the real drop
    assert decodability_drop_layer(curve) == 16
    assert decodability_drop_layer(curve + 0.01 * np.random.default_rng(0).standard_normal(N_LAYERS)) == 16


def test_chance_curve_is_undefined():
    with pytest.raises(NegprobeError, match="never exceeds"):
        decodability_drop_layer(np.full(N_LAYERS, 0.5))
    with pytest.raises(NegprobeError, match="non-finite"):
        decodability_drop_layer(np.array([0.9, np.nan, 0.5]))


@pytest.mark.parametrize("j", [1, 9, N_LAYERS - 1])
def test_flip_layer_planted(j):
    readout = np.where(np.arange(N_LAYERS) < j, 0.2, 0.8)  # reads false, then true from layer j
    assert flip_layer(readout) == j
    assert flip_layer(readout, direction="up") == j
    assert flip_layer(1 - readout) == j  # "auto" follows layer 0's side
    assert flip_layer(1 - readout, direction="down") == j


def test_flip_layer_persistence_and_edges():
    readout = np.where(np.arange(N_LAYERS) < 12, 0.2, 0.8)
    readout[4] = 0.9  # a transient flip that reverts does not count
    assert flip_layer(readout) == 12
    assert flip_layer(np.full(N_LAYERS, 0.2)) == N_LAYERS  # never flips
    assert flip_layer(np.full(N_LAYERS, 0.8), direction="up") == 0  # never read false
    assert flip_layer(np.array([0.2, 0.5, 0.6])) == 1  # readout == threshold reads true
    assert first_layer_staying([True, False, True, True]) == 2
    with pytest.raises(NegprobeError, match="direction"):
        flip_layer(readout, direction="sideways")


def noisy_items(n_items: int, seed: int, centre: float = 11.5, width: float = 2.0, sd: float = 0.15) -> np.ndarray:
    """Items whose mean curve decays smoothly from 0.95 to 0.5, crossing halfway between layers 11 and 12."""
    layers = np.arange(N_LAYERS)
    planted = 0.5 + 0.45 / (1 + np.exp((layers - centre) / width))
    return planted + sd * np.random.default_rng(seed).standard_normal((n_items, N_LAYERS))


def test_bootstrap_ci_covers_planted_and_shrinks():
    planted = 12
    layers = np.arange(N_LAYERS)
    assert decodability_drop_layer(0.5 + 0.45 / (1 + np.exp((layers - 11.5) / 2.0))) == planted
    widths = {}
    for n_items in (20, 500):
        widths[n_items] = []
        for seed in range(5):  # mean width over a few data sets: one draw of 20 items can be lucky
            value, low, high = bootstrap_layer_ci(noisy_items(n_items, seed=seed), decodability_drop_layer, n_boot=400)
            assert low <= planted <= high, (n_items, seed, value, low, high)
            assert low <= value <= high
            widths[n_items].append(high - low)
    assert np.mean(widths[500]) < np.mean(widths[20])
    assert max(widths[500]) <= 1


def test_bootstrap_is_seeded_and_groups_move_together():
    items = noisy_items(60, seed=1)
    first = bootstrap_layer_ci(items, decodability_drop_layer, n_boot=200, seed=3)
    assert bootstrap_layer_ci(items, decodability_drop_layer, n_boot=200, seed=3) == first
    # three paraphrases per claim, sharing the claim's offset: resampling claims keeps them together
    groups = np.repeat(np.arange(20), 3)
    claim_offsets = np.random.default_rng(2).normal(0, 0.1, 20)[groups][:, None]
    value, low, high = bootstrap_layer_ci(items + claim_offsets, lambda c: float(c.max()), n_boot=200, groups=groups)
    assert low <= value <= high
    with pytest.raises(NegprobeError, match="groups"):
        bootstrap_layer_ci(items, decodability_drop_layer, groups=groups[:-1])
    with pytest.raises(NegprobeError, match="n_items, n_layers"):
        bootstrap_layer_ci(items[0], decodability_drop_layer)
