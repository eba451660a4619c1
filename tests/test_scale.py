"""Large-shape mechanics at small shapes: the chunked synthetic store round-trips, and a sweep over a
store too large for its memory budget reads one layer at a time and gets the in-memory numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from negprobe.activations.store import ActivationStore
from negprobe.activations.synthetic_store import synthetic_chunk, synthetic_rows, write_synthetic_store
from negprobe.probes import make_probe
from negprobe.probes.layer_source import StoreLayers, concat_layer_fits, layer_blocks, layers_per_block
from negprobe.probes.sweep_config import SweepConfig
from negprobe.probes.sweep_eval import SweepData, evaluate

pytestmark = pytest.mark.usefixtures("one_thread")
N, D, L = 97, 12, 4


@pytest.fixture
def store(tmp_path) -> ActivationStore:
    return ActivationStore.open(write_synthetic_store(tmp_path / "store", N, D, L, chunk_rows=20, seed=3))


def test_chunked_store_round_trips(store, tmp_path):
    assert (store.n_rows, store.d_model, store.layers) == (N, D, list(range(L)))
    assert len(store.manifest["shards"]) == 5  # 97 rows in chunks of 20
    first = np.load(store.path / "shards" / "shard-00000" / "layer-000.npy")
    assert first.dtype == np.float16 and first.shape == (20, 1, D)
    chunks = [synthetic_chunk(start, min(N, start + 20), L, D, 3.0, 3) for start in range(0, N, 20)]
    expected = np.concatenate(chunks).astype(np.float16).astype(np.float32)
    for layer in range(L):
        np.testing.assert_array_equal(store.layer(layer).numpy(), expected[:, layer, 0])
    assert store.metadata["label"].tolist() == synthetic_rows(N)["label"].tolist()
    assert store.verify() == []


def _sweep_data(X) -> SweepData:
    rows = synthetic_rows(N)
    rows.insert(0, "dataset", "synthetic")
    return SweepData(X, rows, list(range(L)), {"name": "synthetic", "adapter": "", "fingerprint": "f", "d_model": D},
                     {"synthetic": "h"})


@pytest.mark.parametrize("probe", ["mass_mean", "logistic", "ttpd"])
def test_streamed_sweep_reads_one_layer_at_a_time_and_matches(store, probe, monkeypatch):
    config = SweepConfig(models=["synthetic"], train=[["synthetic"]], probes=[probe], n_folds=3, n_boot=20)
    in_memory = evaluate(_sweep_data(store.stack()), ["synthetic"], ["synthetic"], [probe], config, "last")
    reads = []
    original = StoreLayers.read

    def spy(self, slots):
        reads.append(list(slots))
        return original(self, slots)

    monkeypatch.setattr(StoreLayers, "read", spy)
    lazy = StoreLayers((store,), tuple(range(L)))
    one_layer = N * D * 4
    streamed = evaluate(_sweep_data(lazy), ["synthetic"], ["synthetic"], [probe], config, "last", block_bytes=one_layer)
    assert reads == [[0], [1], [2], [3]]  # each layer read once, alone
    assert in_memory[["layer", "metric"]].equals(streamed[["layer", "metric"]])
    np.testing.assert_allclose(streamed["value"], in_memory["value"], atol=1e-6)
    auroc = in_memory[(in_memory["metric"] == "auroc")].set_index("layer")["value"]
    assert auroc[L - 1] > auroc[0] and auroc[L - 1] > 0.9  # the planted signal grows with depth


def test_layer_blocks_follow_the_budget(store):
    lazy = StoreLayers((store, store), tuple(range(L)))  # two stores: rows concatenated
    assert lazy.shape == (L, 2 * N, D)
    assert layers_per_block(lazy.shape, 2 * N * D * 4 * 3 - 1) == 2
    blocks = list(layer_blocks(lazy, 2 * N * D * 4 * 2))
    assert [b.shape[0] for _, b in blocks] == [2, 2]
    np.testing.assert_array_equal(blocks[1][1][1].numpy(), np.concatenate([store.layer(3).numpy()] * 2))
    X = store.stack()
    assert [s for s, _ in layer_blocks(X)] == [slice(0, L)]  # an in-memory tensor: one block unless asked


@pytest.mark.parametrize("probe", ["mass_mean", "ttpd", "logistic"])
def test_blockwise_fits_concatenate_to_the_batched_fit(store, probe):
    X, rows = store.stack(), synthetic_rows(N)
    y = rows["label"].to_numpy()
    kw = {"polarity": (rows["polarity"] == "affirmed").astype(int).to_numpy()}
    whole = make_probe(probe, 0).fit(X, y, **kw)
    parts = concat_layer_fits([make_probe(probe, 0).fit(X[s], y, **kw) for s in (slice(0, 1), slice(1, L))])
    np.testing.assert_allclose(parts.decision_function(X), whole.decision_function(X), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(parts.direction_, whole.direction_, atol=1e-5)
    assert torch.equal(parts.layer(2).coef_, parts.coef_[2:3])
