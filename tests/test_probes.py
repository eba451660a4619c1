"""Each probe family against an independent reference or a planted direction."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from negprobe.errors import NegprobeError
from negprobe.probes import (
    CCSProbe,
    LATProbe,
    LogisticRegressionProbe,
    MassMeanProbe,
    RandomDirectionProbe,
    ShuffledLabelProbe,
    TTPDProbe,
    make_probe,
)


def cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def planted(n=600, d=32, seed=0, noise=1.0):
    """Affirmed/negated twins: x = tau * t_G + tau * p * t_P + p * polarity + noise."""
    rng = np.random.default_rng(seed)
    t_G, t_P, pol_dir = (rng.normal(size=d) for _ in range(3))
    t_G, t_P, pol_dir = 3 * t_G / np.linalg.norm(t_G), 2 * t_P / np.linalg.norm(t_P), 4 * pol_dir / np.linalg.norm(pol_dir)
    tau = rng.choice([-1.0, 1.0], n)  # truth of the affirmed twin
    rows, labels, polarity = [], [], []
    for p in (1.0, -1.0):
        truth = tau * p  # negating flips the truth value
        x = truth[:, None] * t_G + (truth * p)[:, None] * t_P + p * pol_dir + noise * rng.normal(size=(n, d))
        rows.append(x)
        labels.append((truth > 0).astype(int))
        polarity.append(np.full(n, int(p > 0)))
    X = np.concatenate(rows)
    pairs = np.stack([np.arange(n), np.arange(n) + n], 1)
    return X.astype(np.float32), np.concatenate(labels), np.concatenate(polarity), pairs, t_G, t_P, pol_dir


def test_logistic_matches_sklearn_per_layer():
    rng = np.random.default_rng(1)
    layers = []
    for k in range(3):
        X = rng.normal(size=(500, 24)) * rng.uniform(0.5, 3, 24) + rng.normal(size=24)
        w = rng.normal(size=24)
        y = (X @ w + rng.normal(scale=2.0 + k, size=500) > np.median(X @ w)).astype(int)
        layers.append((X.astype(np.float32), y))
    y = layers[0][1]  # one label vector for all layers (as in a sweep)
    batched = LogisticRegressionProbe(C=0.5, tol=1e-6).fit(np.stack([X for X, _ in layers]), y)
    for k, (X, _) in enumerate(layers):
        ref = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, tol=1e-8, max_iter=5000)).fit(X, y)
        ref_scores = ref.decision_function(X)
        ours = batched.decision_function(np.stack([X for X, _ in layers]))[k]
        np.testing.assert_allclose(ours, ref_scores, atol=5e-3, rtol=1e-3)
        single = LogisticRegressionProbe(C=0.5).fit(X, y)  # default tolerance: same probabilities to 1e-2
        np.testing.assert_allclose(single.predict_proba(X)[:, 1], ref.predict_proba(X)[:, 1], atol=1e-2)
        assert single.score(X, y) == pytest.approx(ref.score(X, y), abs=0.005)


def test_mass_mean_matches_numpy_closed_form():
    X, y, *_ = planted(seed=2)
    probe = MassMeanProbe().fit(X, y)
    diff = X[y == 1].mean(0) - X[y == 0].mean(0)
    assert cosine(probe.direction_, diff) > 1 - 1e-6
    iid = MassMeanProbe(iid=True, shrinkage=0.1).fit(X, y)
    centred = np.concatenate([X[y == 1] - X[y == 1].mean(0), X[y == 0] - X[y == 0].mean(0)]).astype(np.float64)
    cov = centred.T @ centred / (len(X) - 2)
    cov = 0.9 * cov + 0.1 * np.trace(cov) / len(cov) * np.eye(len(cov))
    assert cosine(iid.direction_, np.linalg.solve(cov, diff)) > 1 - 1e-5
    # threshold and scale: Platt scaling of the training projections (scikit-learn as reference)
    s = (X @ probe.direction_)[:, None]
    platt = LogisticRegression(C=1e4, tol=1e-10, max_iter=10000).fit(s / s.std(), y)
    np.testing.assert_allclose(probe.predict_proba(X)[:, 1], platt.predict_proba(s / s.std())[:, 1], atol=1e-2)
    assert probe.decision_function(X) @ (2 * y - 1) > 0  # oriented towards "true" with training labels


def test_ccs_recovers_planted_direction():
    # noisy enough that the unregularised CCS objective is not degenerate (separable data lets
    # any consistent direction reach zero loss)
    X, y, _, pairs, t_G, t_P, _ = planted(n=1000, seed=3, noise=1.5)
    probe = CCSProbe(n_restarts=4, seed=0).fit(X, y, pairs=pairs)
    # centred per side, a pair is (tau (t_G + t_P), tau (t_P - t_G)): consistency forces w . t_P = 0,
    # so CCS finds the polarity-invariant truth direction t_G
    assert cosine(probe.direction_, t_G) > 0.95
    assert probe.score(X[pairs[:, 0]], y[pairs[:, 0]]) > 0.9


def test_ttpd_recovers_truth_and_polarity_directions():
    X, y, polarity, _, t_G, t_P, pol_dir = planted(seed=4, noise=0.5)
    probe = TTPDProbe().fit(X, y, polarity=polarity)
    assert cosine(probe.direction_, t_G) > 0.95
    assert cosine(probe.t_P_[0], t_P) > 0.95
    assert cosine(probe.polarity_direction_[0], pol_dir) > 0.95
    assert probe.score(X, y) > 0.95


def test_lat_recovers_planted_direction():
    X, y, _, pairs, t_G, t_P, _ = planted(seed=6, noise=0.5)
    aff = pairs[:, 0]
    probe = LATProbe(seed=0).fit(X[aff], y[aff])
    assert cosine(probe.direction_, t_G + t_P) > 0.95
    assert probe.score(X[aff], y[aff]) > 0.95


def test_controls_are_near_chance_without_signal():
    rng = np.random.default_rng(7)
    X_train, X_test = rng.normal(size=(400, 16)), rng.normal(size=(400, 16))
    y_train, y_test = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    for probe in (RandomDirectionProbe(seed=1), ShuffledLabelProbe(seed=1)):
        assert abs(probe.fit(X_train, y_train).score(X_test, y_test) - 0.5) < 0.1
    X, y, *_ = planted(seed=8)
    real = LogisticRegressionProbe().fit(X, y).score(X, y)
    control = ShuffledLabelProbe(seed=0).fit(X, y)
    assert real - control.score(X, y) > 0.2  # selectivity


def test_estimator_api_shapes():
    X, y, polarity, pairs, *_ = planted(n=100, d=8, seed=9)
    stacked = np.stack([X, X * 2, X + 1])
    for name in ("logistic", "mass_mean", "mass_mean_iid", "ccs", "ttpd", "lat", "random", "shuffled"):
        probe = make_probe(name, seed=0).fit(stacked, y, pairs=pairs, polarity=polarity)
        assert probe.direction_.shape == (3, 8)
        assert probe.decision_function(stacked).shape == (3, 200)
        assert probe.predict_proba(stacked).shape == (3, 200, 2)
        assert probe.score(stacked, y).shape == (3,)
        single = probe.layer(1)
        np.testing.assert_allclose(single.decision_function(X * 2), probe.decision_function(stacked)[1], rtol=1e-4, atol=1e-4)


def test_bad_input():
    X, y, *_ = planted(n=50, d=8)
    with pytest.raises(NegprobeError, match="one class only"):
        LogisticRegressionProbe().fit(X, np.ones(len(X)))
    with pytest.raises(NegprobeError, match="unknown probe 'svm'"):
        make_probe("svm")
    with pytest.raises(NegprobeError, match="expects d_model 8"):
        MassMeanProbe().fit(X, y).predict(np.zeros((3, 9)))
    with pytest.raises(NegprobeError, match="needs contrast pairs"):
        CCSProbe().fit(X, y)
    with pytest.raises(NegprobeError, match="needs polarity"):
        TTPDProbe().fit(X, y)
