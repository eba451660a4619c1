"""A tiny model split by ``device_map`` (one block offloaded to disk: its weights are on the meta device
until a forward pass needs them) fingerprints and caches exactly like the unsplit model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.cache import cache_activations
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.registry import load_dataset
from negprobe.activations.models import env_device_map

pytestmark = pytest.mark.usefixtures("one_thread")
SPLIT = {"model.embed_tokens": "cpu", "model.layers.0": "cpu", "model.layers.1": "disk", "model.layers.2": "cpu",
         "model.norm": "cpu", "model.rotary_emb": "cpu", "lm_head": "cpu"}


def _rows(n: int) -> PromptDataset:
    data = load_dataset("cities")
    return data.filter(text=data.texts()[:n])


def test_disk_offloaded_split_matches_unsplit(tiny_llama_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))
    whole = load_model(tiny_llama_dir)
    split = load_model(tiny_llama_dir, device_map=SPLIT, offload_folder=tmp_path / "offload")
    assert any(p.is_meta for p in split.model.parameters())  # layer 1 really is not in memory
    assert split.fingerprint == whole.fingerprint
    data = _rows(40)
    a = cache_activations(whole, data, layers=[0, 1, 2], root=tmp_path / "a", progress=False).store
    b = cache_activations(split, data, layers=[0, 1, 2], root=tmp_path / "b", progress=False).store
    assert a.path.name == b.path.name  # the same store key
    np.testing.assert_allclose(b.stack().numpy(), a.stack().numpy(), atol=1e-3)


def test_device_map_from_the_environment(tiny_llama_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEGPROBE_DEVICE_MAP", json.dumps(SPLIT))
    assert env_device_map() == SPLIT
    model = load_model(tiny_llama_dir)  # (disk blocks are read from the safetensors themselves)
    assert any(p.is_meta for p in model.model.parameters())
    monkeypatch.setenv("NEGPROBE_DEVICE_MAP", "{not json")
    with pytest.raises(NegprobeError, match="NEGPROBE_DEVICE_MAP is not valid JSON"):
        load_model(tiny_llama_dir)
    monkeypatch.setenv("NEGPROBE_DEVICE_MAP", "")
    assert env_device_map() is None and not any(p.is_meta for p in load_model(tiny_llama_dir).model.parameters())
