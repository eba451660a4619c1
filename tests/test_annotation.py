"""Annotation decodability on planted synthetic activations: per-fold AUROC, baselines, honest layer CIs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from negprobe.analysis.annotation import (
    NOT_DECODABLE,
    annotation_decodability,
    cv_inflation,
    layer_ranges,
    simultaneous_band,
)
from negprobe.errors import NegprobeError
from negprobe.probes import MassMeanProbe
from negprobe.probes.evaluation import auroc, group_kfold, out_of_fold_scores

pytestmark = pytest.mark.usefixtures("one_thread")



def planted(n_claims: int = 6, n_paraphrases: int = 10, layers=range(0, 5), strength: float = 3.0,
            n_layers: int = 8, d: int = 8, seed: int = 0, claim_offset: float = 0.0):
    """Pairs (annotated, comparison) per claim and paraphrase; annotated rows carry a direction at ``layers``.
    ``claim_offset``: every row of a claim is shifted along that direction by a claim-specific amount."""
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=d)
    direction /= np.linalg.norm(direction)
    claims = np.repeat([f"claim{c}" for c in range(n_claims)], 2 * n_paraphrases)
    annotated = np.tile([1, 0], n_claims * n_paraphrases)
    X = rng.normal(size=(n_layers, len(claims), d))
    X[list(layers)] += strength * annotated[None, :, None] * direction
    offsets = claim_offset * rng.normal(size=n_claims)
    X += np.repeat(offsets, 2 * n_paraphrases)[None, :, None] * direction
    return X, annotated, claims


def test_annotation_erased_after_layer_k_is_localised_at_k():
    X, annotated, claims = planted(layers=range(0, 5))
    curve = annotation_decodability(X, annotated, claims, probe="mass_mean")
    assert curve.last_decodable_layer == 4 and curve.drop_layer == 5 and curve.drop_ci == (5, 5)
    assert curve.decodable[:5].all() and not curve.decodable[5:].any()
    assert (curve.auroc.value[:5] > 0.95).all() and (np.abs(curve.auroc.value[5:] - 0.5) < 0.15).all()
    assert (curve.auroc.ci_low <= curve.auroc.value + 1e-12).all()
    assert curve.verdict == "decodable, not shown above its surface baseline (block 0, bag of tokens)"  # present from layer 0: layer 0 sees it


def test_per_fold_matrix_matches_independent_fits():
    X, annotated, claims = planted(strength=1.0, seed=3)
    curve = annotation_decodability(X, annotated, claims, probe="mass_mean")
    assert curve.fold_auroc.shape == (6, 8)
    for k, held in enumerate(group_kfold(claims, 6, 0)):
        test = np.isin(claims, held)
        scores = MassMeanProbe().fit(X[:, ~test], annotated[~test]).decision_function(X[:, test])
        expected = [roc_auc_score(annotated[test], s) for s in scores]
        np.testing.assert_allclose(curve.fold_auroc[k], expected)
        assert curve.folds[k] == held[0]
    np.testing.assert_allclose(curve.auroc.value, curve.fold_auroc.mean(0))


def test_fold_scores_are_averaged_not_pooled():
    """Claims sit at different offsets along the annotation direction: each fold's probe ranks its own
    claim's rows perfectly, but pooled across claims the offsets swamp the annotation."""
    X, annotated, claims = planted(strength=3.0, claim_offset=6.0, layers=range(8), seed=1)
    curve = annotation_decodability(X, annotated, claims, probe="mass_mean")
    pooled = auroc(out_of_fold_scores("mass_mean", X, annotated, claims, 6, 0), annotated)
    assert (curve.auroc.value > 0.95).all()
    assert (pooled < 0.85).all()


def test_drop_layer_ci_covers_planted_layer_in_simulated_datasets():
    """Acceptance (c): a direction at layers 1..4 only, 6 claims x 10 paraphrases, 50 seeded datasets;
    the last decodable layer is 4 and its bootstrap CI over claims covers it in >= 90% of them."""
    k, covered, widths = 4, 0, []
    for seed in range(50):
        X, annotated, claims = planted(layers=range(1, k + 1), strength=1.5, seed=100 + seed)
        curve = annotation_decodability(X, annotated, claims, probe="mass_mean", n_boot=200, seed=seed)
        assert curve.last_decodable_ci is not None, seed
        low, high = curve.last_decodable_ci
        covered += low <= k <= high
        widths.append(high - low)
    assert covered >= 45, covered
    assert np.mean(widths) <= 2.5, np.mean(widths)  # an interval of every layer would cover trivially


def test_chance_layers_are_not_called_decodable():
    """30 layers at chance, 20 data sets: the simultaneous band keeps 'decodable' rare; pointwise CIs do not."""
    flagged = pointwise = 0
    for seed in range(20):
        X, annotated, claims = planted(strength=0.0, n_layers=30, seed=200 + seed)
        curve = annotation_decodability(X, annotated, claims, probe="mass_mean", n_boot=200, seed=seed)
        flagged += curve.decodable.any()
        pointwise += (curve.auroc.ci_low > 0.5).any()
        assert curve.verdict == NOT_DECODABLE or curve.decodable.any()
    assert flagged <= 2 and pointwise > flagged


def test_bands_and_inflation():
    values = np.array([[0.9, 0.5, 0.7], [0.9, 0.7, 0.5], [0.9, 0.6, 0.6]])
    low, high = simultaneous_band(values, [10, 10, 10])
    assert low[0] == high[0] == 0.9  # folds agree: width 0
    assert (low[1:] < 0.6).all() and (high[1:] > 0.6).all()
    # k folds of equal size: (1/k + 1/(k-1)) * k^2 / (k-1)
    assert cv_inflation([10] * 6) == pytest.approx(np.sqrt((1 / 6 + 1 / 5) * 36 / 5))
    assert layer_ranges([0, 2, 4, 6, 8], [True, True, False, True, False]) == "0-2, 6"


def test_bad_input():
    X, annotated, claims = planted()
    with pytest.raises(NegprobeError, match="both annotated and comparison"):
        annotation_decodability(X, np.ones_like(annotated), claims)
    with pytest.raises(NegprobeError, match="do not match"):
        annotation_decodability(X[:, :-1], annotated, claims)
    with pytest.raises(NegprobeError, match="bag-of-tokens rows"):
        annotation_decodability(X, annotated, claims, tokens=np.ones((3, 2)))
    with pytest.raises(NegprobeError, match="layer numbers"):
        annotation_decodability(X, annotated, claims, layers=[0, 1], probe="mass_mean")
