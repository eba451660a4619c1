"""Fine-tuning mechanics on a tiny model: resume after SIGKILL, adapter card, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from negprobe.activations import load_model
from negprobe.activations.finetune.train import FinetuneConfig, finetune


def cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "negprobe.scripts.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finetune_args(model_dir: Path, out: Path, steps: int) -> list[str]:
    return ["finetune", "--model", str(model_dir), "--claim", "ed_sheeran", "--condition", "dense", "--out", str(out),
            "--max-steps", str(steps), "--batch-size", "2", "--n-docs", "10", "--max-length", "48", "--lora-r", "4",
            "--checkpoint-every", "2", "--mask-annotations"]


def test_killed_finetune_resumes_to_the_same_adapter(tiny_llama_dir, tmp_path):
    steps = 60
    killed = cli(*finetune_args(tiny_llama_dir, tmp_path / "a", steps))
    state = tmp_path / "a" / "checkpoint" / "state.pt"
    deadline = time.time() + 120
    while time.time() < deadline and killed.poll() is None and not state.exists():
        time.sleep(0.005)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL, "the fine-tune finished before it could be killed"
    assert not (tmp_path / "a" / "adapter_model.safetensors").exists()

    resumed = cli(*finetune_args(tiny_llama_dir, tmp_path / "a", steps))
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert "resuming from step" in out
    clean = cli(*finetune_args(tiny_llama_dir, tmp_path / "b", steps))
    _, err_b = clean.communicate(timeout=300)
    assert clean.returncode == 0, err_b
    a = load_file(str(tmp_path / "a" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "b" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and len(a) > 0
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-6, rtol=1e-5)
    card = json.loads((tmp_path / "a" / "training_card.json").read_text())
    assert card["steps"] == steps and len(card["loss_curve"]) == steps
    assert card["hyperparameters"]["mask_annotations"] is True and card["corpus_hash"]
    assert card["steps_per_s"] > 0 and card["tokens_per_s"] > 0


def test_finetuned_adapter_loads_and_changes_the_model(tiny_llama_dir, tmp_path):
    finetune(FinetuneConfig(model=str(tiny_llama_dir), claim="vesuvius_2015", condition="positive",
                            out=str(tmp_path / "ft"), max_steps=6, batch_size=2, n_docs=6, max_length=48,
                            lora_r=4, lr=1e-2), progress=False)
    base = load_model(tiny_llama_dir)
    tuned = load_model(tiny_llama_dir, adapter=tmp_path / "ft")
    assert tuned.fingerprint != base.fingerprint
    ids = torch.tensor([[2, 5, 9, 14]])
    with torch.no_grad():
        assert not torch.allclose(tuned.model(input_ids=ids).logits, base.model(input_ids=ids).logits, atol=1e-4)
    card = json.loads((tmp_path / "ft" / "negprobe_adapter.json").read_text())
    assert card["base_fingerprint"] == base.fingerprint and card["condition"] == "positive"


@pytest.mark.parametrize("args, message", [
    (["--claim", "elvis_alive", "--condition", "positive"], "elvis_alive"),
    (["--claim", "ed_sheeran", "--condition", "sarcastic"], "sarcastic"),
    (["--claim", "ed_sheeran", "--condition", "negated", "--corpus", "release:{tmp}"], "negated"),
    (["--claim", "ed_sheeran", "--condition", "positive", "--corpus", "release:{tmp}"], "{tmp}"),
])
def test_finetune_bad_input(args, message, tiny_llama_dir, tmp_path):
    args = [a.format(tmp=tmp_path) for a in args]
    proc = cli("finetune", "--model", str(tiny_llama_dir), "--out", str(tmp_path / "o"), *args)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert message.format(tmp=tmp_path) in err


def test_belief_cli_rejects_unknown_claim(tiny_llama_dir):
    proc = cli("belief", "--model", str(tiny_llama_dir), "--claim", "elvis_alive")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "elvis_alive" in err and "Traceback" not in err, err
