"""Annotation tracking on planted synthetic activations."""

from __future__ import annotations

import numpy as np
import pytest

from negprobe.analysis.annotation import annotation_decodability
from negprobe.errors import NegprobeError


def planted(n_groups: int, k: int, n_layers: int = 8, d: int = 16, seed: int = 0):
    """Annotated rows carry a direction in layers 0..k and none after; 4 rows per claim group."""
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=d)
    direction *= 3 / np.linalg.norm(direction)
    groups = np.repeat([f"claim{g}" for g in range(n_groups)], 4)
    annotated = np.tile([0, 1, 0, 1], n_groups)
    X = rng.normal(size=(n_layers, len(groups), d))
    X[: k + 1] += annotated[None, :, None] * direction
    return X, annotated, groups


def test_annotation_erased_after_layer_k_is_localised_at_k():
    X, annotated, groups = planted(60, k=4)
    curve = annotation_decodability(X, annotated, groups, probe="mass_mean", n_folds=4)
    assert curve.last_decodable_layer == 4 and curve.drop_layer == 5
    assert (curve.auroc.value[:5] > 0.9).all() and (np.abs(curve.auroc.value[5:] - 0.5) < 0.15).all()
    assert (curve.auroc.ci_low <= curve.auroc.value + 1e-12).all()


def test_ci_shrinks_as_rows_grow():
    widths = []
    for n_groups in (20, 300):
        X, annotated, groups = planted(n_groups, k=3, seed=1)
        curve = annotation_decodability(X, annotated, groups, probe="mass_mean", n_folds=4)
        widths.append(np.mean(curve.auroc.ci_high[4:] - curve.auroc.ci_low[4:]))
    assert widths[1] < 0.5 * widths[0]


def test_bad_input():
    X, annotated, groups = planted(10, k=2)
    with pytest.raises(NegprobeError, match="both annotated and plain"):
        annotation_decodability(X, np.ones_like(annotated), groups)
    with pytest.raises(NegprobeError, match="do not match"):
        annotation_decodability(X[:, :-1], annotated, groups)
