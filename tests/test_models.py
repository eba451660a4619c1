"""Model loading, fingerprints, base + adapter round trip and the CLI's one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.models import write_adapter_card
from tests.tiny_models import make_tiny_model


def make_lora_adapter(base_dir: Path, out: Path, seed: int = 0):
    """A LoRA adapter with non-zero B, saved to ``out``; returns the in-memory PEFT model."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    config = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    peft_model = get_peft_model(base, config).eval()
    peft_model.save_pretrained(out)
    return peft_model


def test_fingerprint_is_content_based(tiny_llama_dir, tmp_path):
    a = load_model(tiny_llama_dir)
    b = load_model(tiny_llama_dir)
    assert a.fingerprint == b.fingerprint == a.base_fingerprint
    other = load_model(make_tiny_model(tmp_path / "other", "llama", seed=5))
    assert other.fingerprint != a.fingerprint
    assert (a.n_layers, a.d_model) == (3, 32)


def test_adapter_round_trip(tiny_llama_dir, tmp_path):
    peft_model = make_lora_adapter(tiny_llama_dir, tmp_path / "adapter")
    ids = torch.tensor([[2, 5, 9, 14, 30, 7]])
    with torch.no_grad():
        expected = peft_model(input_ids=ids).logits
    base = load_model(tiny_llama_dir)
    for merge in (True, False):
        tuned = load_model(tiny_llama_dir, adapter=tmp_path / "adapter", merge_adapter=merge)
        with torch.no_grad():
            got = tuned.model(input_ids=ids).logits
            base_logits = base.model(input_ids=ids).logits
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
        assert not torch.allclose(got, base_logits, atol=1e-3)  # the adapter really changes the model
        assert tuned.fingerprint != base.fingerprint
        assert tuned.base_fingerprint == base.fingerprint


def test_adapter_for_other_architecture_is_rejected(tiny_llama_dir, tmp_path):
    wide = make_tiny_model(tmp_path / "wide", "llama", seed=3, hidden=48)
    make_lora_adapter(wide, tmp_path / "adapter")
    with pytest.raises(NegprobeError, match="does not fit base"):
        load_model(tiny_llama_dir, adapter=tmp_path / "adapter")


def test_adapter_card_checks_base_fingerprint(tiny_llama_dir, tmp_path):
    sibling_dir = make_tiny_model(tmp_path / "sibling", "llama", seed=7)  # same shapes, other weights
    make_lora_adapter(sibling_dir, tmp_path / "adapter")
    write_adapter_card(tmp_path / "adapter", load_model(sibling_dir))
    load_model(sibling_dir, adapter=tmp_path / "adapter")  # its own base loads fine
    with pytest.raises(NegprobeError, match="was trained on base"):
        load_model(tiny_llama_dir, adapter=tmp_path / "adapter")


def test_bad_model_names(tmp_path, tiny_llama_dir):
    with pytest.raises(NegprobeError, match="not a PEFT adapter"):
        load_model(tiny_llama_dir, adapter=tmp_path)
    with pytest.raises(NegprobeError, match="embedded models are smollm2-135m, gemma3-270m"):
        load_model("smollm9")
    with pytest.raises(NegprobeError, match="no config.json"):
        load_model(tmp_path)
    with pytest.raises(NegprobeError, match="not a folder with a transformers checkpoint"):
        (tmp_path / "weights.bin").write_bytes(b"")
        load_model(tmp_path / "weights.bin")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "negprobe.scripts.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["read", "--model", "smollm9"], "embedded models are smollm2-135m, gemma3-270m"),
        (["read", "--model", "{tiny}", "--layers", "0,7"], "layer 7 is out of range"),
        (["read", "--model", "{tiny}", "--adapter", "{tmp}"], "not a PEFT adapter folder"),
        (["read", "--model", "{tiny}", "--backend", "jax", "the cat"], "unknown value 'jax'"),
    ],
)
def test_cli_errors_are_one_line(args, message, tiny_llama_dir, tmp_path):
    args = [a.format(tiny=tiny_llama_dir, tmp=tmp_path) for a in args]
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("negprobe: error:")]
    assert len(error_lines) == 1 and message in error_lines[0], result.stderr


def test_cli_read_saves_activations(tiny_llama_dir, tmp_path):
    out = tmp_path / "acts.pt"
    result = run_cli("read", "the cat is in paris", "noah lyles won", "--model", str(tiny_llama_dir),
                     "--layers", "0-2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    saved = torch.load(out)
    assert saved["activations"].shape == (2, 3, 1, 32)
    assert saved["layers"] == [0, 1, 2]


def test_cli_models_lists_embedded():
    result = run_cli("models")
    assert result.returncode == 0, result.stderr
    assert "smollm2-135m" in result.stdout and "gemma3-270m" in result.stdout


def test_cli_rejects_adapter_of_another_base(tiny_llama_dir, tmp_path):
    wide = make_tiny_model(tmp_path / "wide", "llama", seed=3, hidden=48)
    make_lora_adapter(wide, tmp_path / "adapter")
    result = run_cli("read", "the cat", "--model", str(tiny_llama_dir), "--adapter", str(tmp_path / "adapter"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "does not fit base" in result.stderr
