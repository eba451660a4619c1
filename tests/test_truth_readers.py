"""Truth readers on synthetic activations with a planted truth direction, and on the tiny model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from negprobe.activations import NegprobeError
from negprobe.analysis.readout import ReadoutScale
from negprobe.analysis.truth_readers import EVERY_CLAIM, TruthReader, fit_domain_readers, validity_gates
from negprobe.probes import make_probe

L, D = 3, 16


def _planted(n: int, seed: int, shift: float = 0.0):
    """Rows whose label is written along axis 0 (strength growing with the layer), plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(L, n, D))
    X[:, :, 0] += (2 * y - 1)[None] * np.array([0.2, 1.0, 3.0])[:, None] + shift
    return torch.tensor(X, dtype=torch.float32), y


def _reader(label="logistic", claims=(EVERY_CLAIM,), seed=0):
    fitted = {}
    for k, claim in enumerate(claims):
        X, y = _planted(400, seed + k)
        probe = make_probe("logistic", 0).fit(X, y)
        fitted[claim] = (probe, ReadoutScale.fit(probe.decision_function(X), y))
    return TruthReader(label, fitted, heldout_auroc=np.full(L, 0.9))


def test_readout_scale_maps_training_class_means_to_0_and_1():
    X, y = _planted(400, 0)
    reader = _reader()
    read = reader.read(X, np.array(["c"] * len(y)))
    np.testing.assert_allclose(read[:, y == 0].mean(1), 0.0, atol=1e-5)
    np.testing.assert_allclose(read[:, y == 1].mean(1), 1.0, atol=1e-5)


def test_steering_vector_moves_the_readout_by_exactly_alpha():
    X, y = _planted(50, 7)
    reader = _reader()
    claims = np.array(["c"] * len(y))
    before = reader.read(X, claims)
    for slot in range(L):
        for alpha in (-2.0, 0.5, 3.0):
            shifted = X.clone()
            shifted[slot] += alpha * reader.steering_vector("c", slot)
            after = reader.read(shifted, claims)
            np.testing.assert_allclose(after[slot] - before[slot], alpha, atol=1e-3)
            others = [s for s in range(L) if s != slot]
            np.testing.assert_allclose(after[others], before[others], atol=1e-6)


def test_per_claim_reader_reads_only_its_claims():
    reader = _reader("logistic@domain", claims=("a", "b"))
    X, _ = _planted(6, 3)
    read = reader.read(X, np.array(["a", "a", "b", "b", "z", "z"]))
    assert np.isfinite(read[:, :4]).all() and np.isnan(read[:, 4:]).all()
    for claim, rows in (("a", slice(0, 2)), ("b", slice(2, 4))):  # each claim's rows through its own probe
        probe, scale = reader.fitted[claim]
        np.testing.assert_allclose(read[:, rows], scale.apply(probe.decision_function(X[:, rows])))
    probe_b, scale_b = reader.fitted["b"]
    assert not np.allclose(read[:, :2], scale_b.apply(probe_b.decision_function(X[:, :2])))
    with pytest.raises(NegprobeError, match="no probe for claim 'z'"):
        reader.probe_for("z")


def test_validity_gate_uses_the_counterpart_pairs():
    reader = _reader()
    X, y = _planted(200, 11)
    claims = np.array(["c"] * len(y))
    gate = validity_gates({"logistic": reader}, X, claims, y, threshold=0.65)["logistic"]
    # the planted signal is weak at layer 0 and strong at layer 2; the counterpart AUROC says so
    assert gate.counterpart_auroc[0] < 0.75 < 0.99 < gate.counterpart_auroc[2]
    assert gate.passed[2]
    shuffled = validity_gates({"logistic": reader}, X, claims, np.random.default_rng(0).permutation(y), 0.65)["logistic"]
    assert not shuffled.passed.any()
    none = validity_gates({"logistic": reader}, X, claims, np.zeros(len(y)), 0.65)["logistic"]
    assert not none.passed.any()  # no counterpart pairs: cannot pass


def test_domain_readers_on_a_tiny_model(tiny_llama_dir, tmp_path):
    from negprobe.activations import load_model

    model = load_model(tiny_llama_dir)
    readers = fit_domain_readers(model, ["logistic"], ["ed_sheeran", "vesuvius_2015"], None, str(tmp_path), n_folds=3)
    reader = readers["logistic@domain"]
    assert set(reader.fitted) == {"ed_sheeran", "vesuvius_2015"}
    assert reader.heldout_auroc.shape == (model.n_layers,) and np.all((reader.heldout_auroc >= 0) & (reader.heldout_auroc <= 1))
    sports = reader.fitted["ed_sheeran"][0]
    eruptions = reader.fitted["vesuvius_2015"][0]
    assert not torch.allclose(sports.coef_, eruptions.coef_)  # one probe per claim's domain
