"""Files fingerprints: one answer per checkpoint however it is loaded, a new one for any weight change,
and no tensor read to compute them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.fingerprint import (
    checkpoint_fingerprint,
    files_fingerprint,
    matches_tensors_scheme,
    model_fingerprint,
    weight_files,
)
from negprobe.activations.models import write_adapter_card
from tests.fake_hub import add_to_hub_cache
from tests.test_models import make_lora_adapter
from tests.tiny_models import make_tiny_model, tiny_config

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))  # the file-hash memo lives here


def test_same_files_same_fingerprint_across_copies_and_dtypes(tiny_llama_dir, tmp_path):
    copy = Path(shutil.copytree(tiny_llama_dir, tmp_path / "elsewhere"))
    a = load_model(tiny_llama_dir)
    b = load_model(copy, dtype="bfloat16")  # the load dtype is keyed by the store, not the fingerprint
    assert a.fingerprint == b.fingerprint == files_fingerprint(tiny_llama_dir)
    assert a.fingerprint != model_fingerprint(a.model)  # the files scheme, not the tensors one


def test_hub_cache_copy_matches_folder_without_reading_blobs(tiny_llama_dir, tmp_path):
    snapshot = add_to_hub_cache(tmp_path / "hub", "org/tiny", tiny_llama_dir)
    assert files_fingerprint(snapshot) == files_fingerprint(tiny_llama_dir)
    memo = tmp_path / "home" / "file-hashes"
    before = set(memo.iterdir())
    files_fingerprint(snapshot)
    assert set(memo.iterdir()) == before  # the blob name is the hash: nothing hashed, nothing remembered
    blob = (snapshot / "model.safetensors").resolve()  # a blob under another (SHA-256-shaped) name is that name
    os.rename(blob, blob.with_name("f" * 64))
    (snapshot / "model.safetensors").unlink()
    os.symlink(os.path.relpath(blob.with_name("f" * 64), snapshot), snapshot / "model.safetensors")
    assert files_fingerprint(snapshot) != files_fingerprint(tiny_llama_dir)


def test_any_weight_change_changes_the_fingerprint(tiny_llama_dir, tmp_path):
    folder = Path(shutil.copytree(tiny_llama_dir, tmp_path / "edited"))
    before = load_model(folder).fingerprint
    weights = folder / "model.safetensors"
    stat = weights.stat()
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0x01  # one bit of the last tensor's last element
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with the old mtime (ctime moves)
    after = load_model(folder)
    assert after.fingerprint != before
    assert files_fingerprint(folder) == after.fingerprint  # and stable for the edited file


def test_config_change_changes_the_fingerprint(tiny_llama_dir, tmp_path):
    folder = Path(shutil.copytree(tiny_llama_dir, tmp_path / "cfg"))
    before = files_fingerprint(folder)
    config = (folder / "config.json").read_text()
    (folder / "config.json").write_text(config.replace('"rms_norm_eps": 1e-06', '"rms_norm_eps": 1e-05'))
    assert '"rms_norm_eps": 1e-06' in config and files_fingerprint(folder) != before


def test_fingerprint_never_loads_tensors(tiny_llama_dir, monkeypatch):
    from transformers import AutoModelForCausalLM

    expected = load_model(tiny_llama_dir).fingerprint
    with torch.device("meta"):
        meta = AutoModelForCausalLM.from_config(tiny_config())
    with pytest.raises(NegprobeError, match="meta-device"):
        model_fingerprint(meta)  # the tensors scheme cannot work here ...

    def refuse(*args, **kwargs):
        raise AssertionError("a fingerprint read tensors")

    import safetensors
    import safetensors.torch

    monkeypatch.setattr(safetensors, "safe_open", refuse)
    monkeypatch.setattr(safetensors.torch, "load_file", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    assert checkpoint_fingerprint(meta, tiny_llama_dir) == expected  # ... the files scheme does


def test_in_memory_models_use_tensors(tmp_path):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(tiny_config())
    assert checkpoint_fingerprint(model, None) == model_fingerprint(model)
    assert checkpoint_fingerprint(model, tmp_path) == model_fingerprint(model)  # a folder without weights
    before = checkpoint_fingerprint(model, None)
    with torch.no_grad():
        next(model.parameters())[0, 0] += 1e-3
    assert checkpoint_fingerprint(model, None) != before


def test_sharded_checkpoint_hashes_every_shard(tmp_path):
    from transformers import AutoModelForCausalLM

    folder = make_tiny_model(tmp_path / "single", "llama", seed=0)
    model = AutoModelForCausalLM.from_pretrained(folder)
    model.save_pretrained(tmp_path / "sharded", max_shard_size="20KB")
    shutil.copy(folder / "tokenizer.json", tmp_path / "sharded")
    files = weight_files(tmp_path / "sharded")
    assert files is not None and len(files) > 1
    before = files_fingerprint(tmp_path / "sharded")
    last = files[-1]
    data = bytearray(last.read_bytes())
    data[-1] ^= 0x01
    last.write_bytes(bytes(data))
    assert files_fingerprint(tmp_path / "sharded") != before
    last.unlink()
    with pytest.raises(NegprobeError, match="missing"):
        files_fingerprint(tmp_path / "sharded")


def test_adapter_cards_with_the_tensors_fingerprint_still_load(tiny_llama_dir, tmp_path):
    """Adapters trained before files fingerprints record the tensors one: they still fit their base."""
    import json

    base = load_model(tiny_llama_dir)
    make_lora_adapter(tiny_llama_dir, tmp_path / "adapter")
    legacy = model_fingerprint(base.model)
    write_adapter_card(tmp_path / "adapter", base)
    card = tmp_path / "adapter" / "negprobe_adapter.json"
    card.write_text(json.dumps({**json.loads(card.read_text()), "base_fingerprint": legacy}))
    assert matches_tensors_scheme(base.model, legacy) and base.known_as(legacy) == legacy
    assert base.known_as("0" * 16) == base.fingerprint
    tuned = load_model(tiny_llama_dir, adapter=tmp_path / "adapter")
    assert tuned.base_fingerprint == base.fingerprint
    card.write_text(json.dumps({**json.loads(card.read_text()), "base_fingerprint": "0" * 16}))
    with pytest.raises(NegprobeError, match="was trained on base"):
        load_model(tiny_llama_dir, adapter=tmp_path / "adapter")
