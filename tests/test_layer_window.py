"""Layer-restricted fine-tuning (``--layers a-b``): LoRA only inside the window, bad windows refused."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from negprobe.activations.finetune.layer_window import parse_window, window_targets
from negprobe.activations.finetune.train import FinetuneConfig, finetune
from negprobe.activations.models import load_model
from negprobe.errors import NegprobeError

LAYER = re.compile(r"\.(?:layers|h)\.(\d+)\.")


def windowed(model_dir: Path, out: Path, layers: str | None, **changes) -> FinetuneConfig:
    base = dict(model=str(model_dir), claim="ed_sheeran", condition="positive", out=str(out), max_steps=3,
                batch_size=2, n_docs=4, max_length=32, lora_r=2, lr=1e-2, layers=layers)
    return FinetuneConfig(**{**base, **changes})


def adapter_blocks(folder: Path) -> dict[int, int]:
    """Block index -> number of LoRA tensors in the adapter file (every tensor must sit in a block)."""
    tensors = load_file(str(folder / "adapter_model.safetensors"))
    counts: dict[int, int] = {}
    for name in tensors:
        match = LAYER.search(name)
        assert match is not None, f"LoRA tensor {name} outside every decoder block"
        counts[int(match.group(1))] = counts.get(int(match.group(1)), 0) + 1
    return counts


@pytest.mark.parametrize("arch_dir", ["tiny_llama_dir", "tiny_gpt2_dir"])
def test_a_window_puts_lora_only_on_its_blocks(arch_dir, request, tmp_path):
    model_dir = request.getfixturevalue(arch_dir)
    out = finetune(windowed(model_dir, tmp_path / "w", "1-1"), progress=False)
    full = finetune(windowed(model_dir, tmp_path / "full", None), progress=False)
    blocks, every = adapter_blocks(out), adapter_blocks(full)
    assert set(blocks) == {1} and set(every) == {0, 1, 2}
    assert blocks[1] == every[1], "the window lost some of its block's target modules"
    trained = load_file(str(out / "adapter_model.safetensors"))
    assert any(float(t.abs().max()) > 0 for n, t in trained.items() if "lora_B" in n), "the window did not train"
    card = json.loads((out / "negprobe_adapter.json").read_text())
    assert card["layers"] == [1, 1]
    assert json.loads((out / "training_card.json").read_text())["hyperparameters"]["layers"] == "1-1"
    assert json.loads((full / "negprobe_adapter.json").read_text())["layers"] is None
    base, tuned = load_model(model_dir), load_model(model_dir, adapter=out)
    ids = torch.tensor([[2, 5, 9, 14]])
    with torch.no_grad():  # the merged model differs from its base in block 1's weights only
        for (name, p), (_, q) in zip(base.model.named_parameters(), tuned.model.named_parameters(), strict=True):
            match = LAYER.search(name)
            adapted = match is not None and int(match.group(1)) == 1 and p.ndim == 2  # biases and norms: not LoRA's
            assert torch.equal(p, q) != adapted, name
        assert not torch.allclose(base.model(input_ids=ids).logits, tuned.model(input_ids=ids).logits)


def test_a_regex_target_is_restricted_to_the_window(tiny_llama_dir):
    base = load_model(tiny_llama_dir)
    names = window_targets(base.model, r".*\.(q_proj|v_proj)", "0-1")
    assert names == sorted(f"model.layers.{i}.self_attn.{m}" for i in (0, 1) for m in ("q_proj", "v_proj"))
    every = window_targets(base.model, "all-linear", "2")
    assert len(every) == 7 and all(n.startswith("model.layers.2.") for n in every)  # q k v o gate up down


@pytest.mark.parametrize("text, words", [
    ("2-1", "is after its last"), ("a-b", "expected a window"), ("1-", "expected a window"), ("-1", "expected a window"),
])
def test_a_malformed_window_fails_when_the_config_is_built(text, words):
    with pytest.raises(NegprobeError, match=words):
        FinetuneConfig(layers=text)


def test_parse_window():
    assert parse_window("0-9") == (0, 9) and parse_window("12") == (12, 12) and parse_window(" 3 - 4 ") == (3, 4)


def cli(monkeypatch, capfd, *args: str) -> tuple[int, str]:
    """The CLI in this process (exit status, stderr): a subprocess would spend seconds importing torch."""
    from negprobe.scripts import cli as negprobe_cli

    monkeypatch.setattr(sys, "argv", ["negprobe", *args])
    with pytest.raises(SystemExit) as exc:
        negprobe_cli.main()
    return int(exc.value.code or 0), capfd.readouterr().err


@pytest.mark.parametrize("extra, words", [
    (["--layers", "2-5"], "the model has decoder blocks 0..2"),
    (["--layers", "0-1", "--target-modules", ".*lm_head"], "select no module in blocks 0..1"),
    (["--layers", "3-1"], "is after its last"),
])
def test_a_bad_window_is_one_line_and_writes_nothing(extra, words, tiny_llama_dir, tmp_path, monkeypatch, capfd):
    out = tmp_path / "new" / "o"
    code, err = cli(monkeypatch, capfd, "finetune", "--model", str(tiny_llama_dir), "--claim", "ed_sheeran", "--condition", "positive",
               "--out", str(out), "--max-steps", "1", "--n-docs", "2", "--max-length", "32", *extra)
    assert code == 2 and "Traceback" not in err, err
    assert words in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists() and not (tmp_path / "new").exists(), list(tmp_path.rglob("*"))


def test_another_window_on_a_finished_run_is_refused(tiny_llama_dir, tmp_path):
    out = finetune(windowed(tiny_llama_dir, tmp_path / "w", None, max_steps=1), progress=False)
    with pytest.raises(NegprobeError, match="fields differ: layers"):
        finetune(windowed(tiny_llama_dir, out, "0-1", max_steps=1), progress=False)
    card = out / "training_card.json"  # a card written before the field existed means every block
    data = json.loads(card.read_text())
    del data["hyperparameters"]["layers"]
    card.write_text(json.dumps(data))
    with pytest.raises(NegprobeError, match="fields differ: layers"):
        finetune(windowed(tiny_llama_dir, out, "0-1", max_steps=1), progress=False)
