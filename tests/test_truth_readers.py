"""Truth readers on synthetic activations with a planted truth direction, and on the tiny model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from negprobe.activations import NegprobeError
from negprobe.activations.datasets import PromptDataset
from negprobe.analysis.readout import ReadoutScale
from negprobe.analysis.truth_readers import (
    EVERY_CLAIM,
    TruthReader,
    _per_fold_auroc,
    check_no_claim_leak,
    fit_domain_readers,
    heldout_only_gates,
    validity_gates,
)
from negprobe.probes import make_probe
from negprobe.probes.evaluation import auroc, group_kfold

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


def _pairs(n_claims: int, n_pairs: int, seed: int):
    """Planted rows: per claim and paraphrase a claim row (false) and its counterpart row (true)."""
    X, y = _planted(4 * n_claims * n_pairs, seed)
    false_rows, true_rows = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    n = n_claims * n_pairs
    rows = np.concatenate([false_rows[:n], true_rows[:n]])
    claims = np.tile(np.repeat([f"c{k}" for k in range(n_claims)], n_pairs), 2)
    pair_ids = np.tile([f"c{k}:{i:02d}" for k in range(n_claims) for i in range(n_pairs)], 2)
    return X[:, rows], claims, pair_ids, np.repeat([0, 1], n)


def test_validity_gate_uses_the_counterpart_pairs():
    reader = _reader()
    X, claims, pair_ids, is_cp = _pairs(4, 25, 11)
    gate = validity_gates({"logistic": reader}, X, claims, pair_ids, is_cp, threshold=0.65)["logistic"]
    # the planted signal is weak at layer 0 and strong at layer 2; the paired statistic says so
    assert gate.counterpart_auroc is not None and gate.counterpart_ci_low is not None
    assert gate.counterpart_auroc[0] < 0.75 < 0.97 < gate.counterpart_auroc[2]
    assert gate.counterpart_ci_low[2] <= gate.counterpart_auroc[2] <= gate.counterpart_ci_high[2]
    assert gate.passed[2] and not gate.heldout_only
    flipped = validity_gates({"logistic": reader}, X, claims, pair_ids, 1 - is_cp, 0.65)["logistic"]
    assert not flipped.passed.any()
    n = len(is_cp) // 2  # the claim rows alone
    none = validity_gates({"logistic": reader}, X[:, :n], claims[:n], pair_ids[:n], np.zeros(n), 0.65)["logistic"]
    assert not none.passed.any() and np.isnan(none.counterpart_auroc).all()  # no counterpart pairs: cannot pass
    assert "no counterpart pairs" in none.describe(2)


class _AxisReader:
    """A reader whose readout is feature 0 itself (planted readouts, no probe)."""

    label = "axis"
    heldout_auroc = np.full(1, 0.9)

    def read(self, X, claims):
        return np.asarray(X[..., 0], dtype=float)


def _gate(readout, claims, pair_ids, is_cp, **kw):
    X = torch.tensor(np.asarray(readout, dtype=np.float32)[None, :, None])
    return validity_gates({"axis": _AxisReader()}, X, claims, pair_ids, is_cp, 0.65, **kw)["axis"]


def test_counterpart_read_more_true_in_every_pair_gives_one_with_ci_at_one():
    rng = np.random.default_rng(0)
    n_claims, n_pairs = 5, 10
    nuisance = rng.normal(0, 5.0, n_claims * n_pairs)  # each paraphrase shifts both rows of its pair alike
    readout = np.concatenate([nuisance, nuisance + 0.1])
    claims = np.tile(np.repeat([f"c{k}" for k in range(n_claims)], n_pairs), 2)
    pair_ids = np.tile([f"c{k}:{i:02d}" for k in range(n_claims) for i in range(n_pairs)], 2)
    is_cp = np.repeat([0, 1], n_claims * n_pairs)
    gate = _gate(readout, claims, pair_ids, is_cp)
    assert gate.counterpart_auroc[0] == 1.0 and gate.counterpart_ci_low[0] == gate.counterpart_ci_high[0] == 1.0
    # pooling the rows of all pairs hides the effect under the paraphrase nuisance ...
    pooled = float(auroc(readout[None], is_cp)[0])
    assert 0.4 < pooled < 0.65
    # ... and so does pairing each claim row with another paraphrase's counterpart
    shuffled = pair_ids.copy()
    for k in range(n_claims):
        idx = np.flatnonzero((claims == f"c{k}") & (is_cp == 1))
        shuffled[idx] = np.roll(pair_ids[idx], 3)
    wrong = _gate(readout, claims, shuffled, is_cp)
    assert wrong.counterpart_auroc[0] < 0.75 and wrong.counterpart_ci_low[0] < 1.0


def test_paired_statistic_weighs_claims_equally_and_counts_ties_half():
    # claim a: 10 pairs, counterpart always read more true; claim b: 2 pairs, always less true
    claim_read = np.r_[np.zeros(10), np.ones(2)]
    cp_read = np.r_[np.ones(10), np.zeros(2)]
    claims = np.r_[["a"] * 10, ["b"] * 2]
    pairs = [f"{c}:{i:02d}" for i, c in enumerate(claims)]
    gate = _gate(np.r_[claim_read, cp_read], np.r_[claims, claims], pairs + pairs, np.repeat([0, 1], 12))
    assert gate.counterpart_auroc[0] == pytest.approx(0.5)  # mean over claims, not 10/12 over pairs
    assert gate.counterpart_ci_low[0] == 0.0 and gate.counterpart_ci_high[0] == 1.0
    tie = _gate(np.zeros(4), np.array(["a"] * 4), ["a:0", "a:1", "a:0", "a:1"], [0, 0, 1, 1])
    assert tie.counterpart_auroc[0] == 0.5


def test_pairing_errors():
    with pytest.raises(NegprobeError, match="more than one"):
        _gate(np.zeros(3), np.array(["a"] * 3), ["a:0", "a:0", "a:0"], [0, 0, 1])
    with pytest.raises(NegprobeError, match="another claim"):
        _gate(np.zeros(2), np.array(["a", "b"]), ["a:0", "a:0"], [0, 1])


def test_refitted_readers_are_gated_on_heldout_data_only():
    reader = _reader()
    gate = heldout_only_gates({"logistic": reader}, 0.65)["logistic"]
    assert gate.heldout_only and gate.counterpart_auroc is None and gate.passed.all()
    assert "held-out AUROC only" in gate.describe(0)
    reader.heldout_auroc = np.array([0.9, 0.5, 0.7])
    assert heldout_only_gates({"logistic": reader}, 0.65)["logistic"].passed.tolist() == [True, False, True]


def test_heldout_auroc_is_per_fold_not_pooled():
    """Each fold's probe separates its rows perfectly, on its own scale: per fold 1.0, pooled below."""
    rng = np.random.default_rng(0)
    groups = np.repeat([f"g{k}" for k in range(20)], 4)
    y = np.tile([0, 0, 1, 1], 20)
    scores = np.zeros((1, len(y)))
    for k, held in enumerate(group_kfold(groups, 5, seed=3)):
        test = np.isin(groups, held)
        scores[0, test] = 10.0 * k + y[test] + 0.1 * rng.random(test.sum())  # fold k's probe adds offset 10k
    assert _per_fold_auroc(scores, y, groups, 5, seed=3)[0] == pytest.approx(1.0)
    assert auroc(scores, y)[0] < 0.7


def test_domain_data_holding_the_counterpart_is_refused(monkeypatch, tmp_path):
    from negprobe.activations.datasets import load_dataset
    from negprobe.activations.datasets.claims import get_claim
    from negprobe.activations.datasets.domains import DOMAIN_CLAIM

    for domain, claim in DOMAIN_CLAIM.items():  # the shipped data passes for the claim each domain serves
        for name in (f"domain_{domain}", f"neg_domain_{domain}"):
            check_no_claim_leak(load_dataset(name).texts(), [claim], name)
    counterpart = get_claim("ed_sheeran").counterparts[3]
    with pytest.raises(NegprobeError, match="domain_sports: training row .*Noah Lyles.* counterpart of claim 'ed_sheeran'"):
        check_no_claim_leak(["Usain Bolt won the 100m.", counterpart], ["ed_sheeran"], "domain_sports")
    with pytest.raises(NegprobeError, match="mentions 'Vesuvius'"):
        check_no_claim_leak(["Vesuvius buried Pompeii in AD 79."], ["vesuvius_2015"], "domain_eruptions")
    with pytest.raises(NegprobeError, match="mentions 'Vesuvius', an entity of claim 'vesuvius_2015'"):
        check_no_claim_leak(["Vesuvius buried Pompeii in AD 79."], ["ed_sheeran"], "domain_sports")  # any claim's
    with pytest.raises(NegprobeError, match="an entity of claim 'capital_france_berlin'"):  # a known claim's, too
        check_no_claim_leak(["Lyon is a city in France."], ["ed_sheeran"], "domain_sports")
    check_no_claim_leak(["Usain Bolt won the 100m in 2012."], ["ed_sheeran"], "domain_sports")

    import negprobe.analysis.truth_readers as tr

    real = tr.load_dataset

    def leaky(name):
        ds = real(name)
        if name != "domain_sports":
            return ds
        row = replace(ds[0], text=counterpart, claim_span=(0, len(counterpart)))
        return PromptDataset(ds.name, ds.records + (row,))

    monkeypatch.setattr(tr, "load_dataset", leaky)
    with pytest.raises(NegprobeError, match="domain_sports: training row"):  # refused before any model runs
        fit_domain_readers(None, ["logistic"], ["ed_sheeran"], None, str(tmp_path))


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
