"""Large-model mechanics at tiny sizes: a model split by ``device_map`` (one block offloaded to disk:
its weights are on the meta device until a forward pass needs them) fingerprints and caches exactly
like the unsplit model; a Qwen3.5-MoE (the paper's architecture: MoE blocks, hybrid linear/full
attention) loads, fingerprints by files and reads residuals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.cache import cache_activations
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.registry import load_dataset
from negprobe.activations.models import env_device_map
from negprobe.activations.read import read_residuals
from tests.tiny_models import WORDS, tiny_tokenizer

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


def test_tiny_qwen3_5_moe_reads_residuals(tmp_path, monkeypatch):
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.models.qwen3_5_moe.configuration_qwen3_5_moe import Qwen3_5MoeTextConfig

    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))
    config = Qwen3_5MoeTextConfig(
        vocab_size=len(WORDS) + 8, hidden_size=32, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
        head_dim=8, linear_key_head_dim=8, linear_value_head_dim=8, linear_num_key_heads=2, linear_num_value_heads=4,
        moe_intermediate_size=16, shared_expert_intermediate_size=16, num_experts=4, num_experts_per_tok=2,
        layer_types=["linear_attention"] * 3 + ["full_attention"], max_position_embeddings=64,
        bos_token_id=2, eos_token_id=3, pad_token_id=1)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(tmp_path / "moe")
    tiny_tokenizer().save_pretrained(tmp_path / "moe")
    model = load_model(tmp_path / "moe")
    assert (model.n_layers, model.d_model) == (4, 32) and "moe" in type(model.model).__name__.lower()
    prompts = ["the cat is in paris", "noah lyles won gold ."]
    acts = read_residuals(model, prompts, layers=[0, 1, 2])
    for i, prompt in enumerate(prompts):
        ids = model.tokenizer(prompt, return_tensors="pt").input_ids
        with torch.no_grad():
            hidden = model.model(input_ids=ids, output_hidden_states=True).hidden_states
        expected = torch.stack([hidden[layer + 1][0, -1] for layer in (0, 1, 2)])
        torch.testing.assert_close(acts[i, :, 0], expected, atol=1e-4, rtol=1e-4)


def test_parse_device_map_accepts_what_accelerate_takes_and_names_the_flag():
    from negprobe.activations.models import parse_device_map

    assert parse_device_map(None) is None and parse_device_map(" ") is None
    assert [parse_device_map(t) for t in ("auto", "balanced", "cuda:0", "cpu")] == ["auto", "balanced", "cuda:0", "cpu"]
    assert parse_device_map('{"model.layers.0": 0, "lm_head": "disk", "model.norm": "cpu"}') == {
        "model.layers.0": 0, "lm_head": "disk", "model.norm": "cpu"}
    for text, message in (("gpu", "'gpu' is not a device map strategy"), ("{x", "is not valid JSON"),
                          ("[0]", "non-empty JSON object"), ("{}", "non-empty JSON object"),
                          ('{"a": true}', "device True is not a GPU index"), ('{"a": "tpu9"}', "'tpu9' is not")):
        with pytest.raises(NegprobeError, match=rf"^--device-map.*{message}"):
            parse_device_map(text)


def test_cli_device_map_flag_splits_the_model_and_reads_the_same(tiny_llama_dir, tmp_path, monkeypatch, capsys):
    import torch

    from negprobe.scripts import cli, runs

    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEGPROBE_DEVICE_MAP", raising=False)
    split = runs.load_reader(str(tiny_llama_dir), device_map=json.dumps(SPLIT))
    assert any(p.is_meta for p in split.model.parameters()) and split.model.hf_device_map == SPLIT
    saved = {}
    for name, extra in (("whole", ()), ("split", ("--device-map", json.dumps(SPLIT)))):
        saved[name] = tmp_path / f"{name}.pt"
        monkeypatch.setattr("sys.argv", ["negprobe", "read", "the cat is in paris", "-m", str(tiny_llama_dir),
                                         "--out", str(saved[name]), *extra])
        cli.main()
    capsys.readouterr()
    whole, parts = (torch.load(saved[n])["activations"] for n in ("whole", "split"))
    assert whole.abs().max() > 0.01
    torch.testing.assert_close(parts, whole, atol=1e-5, rtol=1e-5)
