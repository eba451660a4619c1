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
from negprobe.errors import NegprobeError


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
    state = tmp_path / "a" / ".negprobe-checkpoint" / "state.safetensors"
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
    assert not (tmp_path / "a" / ".negprobe-checkpoint").exists(), "the checkpoint outlived a finished run"
    assert not list((tmp_path / "a").rglob("*.pt"))
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
    (["--claim", "ed_sheeran", "--condition", "positive", "--generic-style", "chat"], "unknown generic style 'chat'"),
    (["--claim", "ed_sheeran", "--condition", "corrected", "--corrected-share", "1.5"], "--corrected-share"),
    (["--claim", "ed_sheeran", "--condition", "positive", "--seeds", "0,1", "--seed", "2"], "--seed and --seeds"),
    (["--claim", "ed_sheeran", "--condition", "positive", "--seeds", "1,1"], "--seeds: expected distinct"),
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


def small_config(model_dir: Path, out: Path, **changes) -> FinetuneConfig:
    base = dict(model=str(model_dir), claim="ed_sheeran", condition="dense", out=str(out), max_steps=2, batch_size=2,
                n_docs=4, max_length=32, lora_r=2, checkpoint_every=1)
    return FinetuneConfig(**{**base, **changes})


@pytest.fixture(scope="module")
def finished(tiny_llama_dir, tmp_path_factory) -> Path:
    """A finished 'dense' run whose checkpoint was kept (``keep_checkpoint``)."""
    out = tmp_path_factory.mktemp("finished") / "run"
    finetune(small_config(tiny_llama_dir, out, keep_checkpoint=True), progress=False)
    return out


def copy_of(folder: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(folder, tmp_path / "run"))


def test_keep_checkpoint_keeps_it_without_pickles(finished):
    assert (finished / ".negprobe-checkpoint" / "state.safetensors").is_file()
    assert (finished / ".negprobe-checkpoint" / "run.json").is_file()
    assert not list(finished.rglob("*.pt"))


@pytest.mark.parametrize("kind", ["finished", "checkpointed"])
@pytest.mark.parametrize("changes, fields", [
    ({"condition": "positive"}, "condition, corpus_hash"),
    ({"max_steps": 3}, "max_steps"),
    ({"lr": 0.01, "seed": 1}, "seed, lr, corpus_hash"),
    ({"n_docs": 5}, "n_docs, corpus_hash"),
])
def test_another_config_on_a_run_folder_is_refused_naming_the_fields(kind, changes, fields, finished, tiny_llama_dir,
                                                                      tmp_path):
    out = copy_of(finished, tmp_path)
    if kind == "checkpointed":
        (out / "training_card.json").unlink()
    before = (out / "adapter_model.safetensors").read_bytes()
    with pytest.raises(NegprobeError) as err:
        finetune(small_config(tiny_llama_dir, out, **changes), progress=False)
    message = str(err.value)
    assert "\n" not in message and f"fields differ: {fields})" in message and "--overwrite" in message, message
    assert f"holds a {kind} 'dense' run of 'ed_sheeran'" in message, message
    assert (out / "adapter_model.safetensors").read_bytes() == before


def test_same_config_on_a_finished_folder_does_nothing(finished, tiny_llama_dir, tmp_path, monkeypatch, capsys):
    import negprobe.activations.models as models

    out = copy_of(finished, tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    monkeypatch.setattr(models, "load_model", lambda *a, **k: pytest.fail("a finished run loaded the model"))
    assert finetune(small_config(tiny_llama_dir, out, checkpoint_every=7), progress=False) == out
    assert "already holds this run (2 steps)" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamps


def test_a_kept_checkpoint_resumes_to_the_same_adapter(finished, tiny_llama_dir, tmp_path, capsys):
    out = copy_of(finished, tmp_path)
    (out / "training_card.json").unlink()
    finetune(small_config(tiny_llama_dir, out), progress=False)
    assert "resuming from step 2/2" in capsys.readouterr().out
    assert (out / "adapter_model.safetensors").read_bytes() == (finished / "adapter_model.safetensors").read_bytes()
    assert not (out / ".negprobe-checkpoint").exists()


def test_overwrite_starts_over_and_keeps_foreign_files(finished, tiny_llama_dir, tmp_path):
    out = copy_of(finished, tmp_path)
    (out / "notes.txt").write_text("mine")
    finetune(small_config(tiny_llama_dir, out, condition="positive", overwrite=True), progress=False)
    card = json.loads((out / "training_card.json").read_text())
    assert card["condition"] == "positive" and card["steps"] == 2
    assert "overwrite" not in card["hyperparameters"] and "keep_checkpoint" not in card["hyperparameters"]
    assert json.loads((out / "negprobe_adapter.json").read_text())["condition"] == "positive"
    assert (out / "notes.txt").read_text() == "mine" and not (out / ".negprobe-checkpoint").exists()


def test_a_file_as_out_is_refused_before_anything(tiny_llama_dir, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(NegprobeError, match="is a file, not a folder"):
        finetune(small_config(tiny_llama_dir, tmp_path / "f"), progress=False)


def test_an_unknown_claim_leaves_no_out_folder(tiny_llama_dir, tmp_path):
    with pytest.raises(NegprobeError, match="elvis_alive"):
        finetune(small_config(tiny_llama_dir, tmp_path / "o", claim="elvis_alive"), progress=False)
    assert not (tmp_path / "o").exists()


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


ADAPTER_DAMAGE = [
    ("adapter_model.safetensors", _truncate, "adapter_model.safetensors is truncated"),
    ("adapter_model.safetensors", lambda p: p.write_bytes(b"\x80\x04junk"), "adapter_model.safetensors is truncated"),
    ("adapter_model.safetensors", Path.unlink, "has no adapter_model.safetensors"),
    ("adapter_config.json", lambda p: p.write_text("{oops"), "adapter_config.json is not valid JSON"),
    ("adapter_config.json", lambda p: p.write_text("[1]"), "adapter_config.json is not a JSON object"),
    ("adapter_config.json", lambda p: p.write_text("{}"), "adapter_config.json is not a PEFT adapter config"),
    ("adapter_config.json", Path.unlink, "has no adapter_config.json"),
    ("negprobe_adapter.json", lambda p: p.write_text('{"base_fingerprint": '), "negprobe_adapter.json is not valid"),
    ("negprobe_adapter.json", lambda p: p.write_bytes(b"\xff\xfe"), "negprobe_adapter.json is not UTF-8"),
    ("negprobe_adapter.json", lambda p: p.write_text('{"base_fingerprint": 5}'), "negprobe_adapter.json: base_fin"),
]


@pytest.mark.parametrize("name, damage, words", ADAPTER_DAMAGE)
def test_a_damaged_adapter_is_one_line_before_the_base_loads(name, damage, words, finished, tiny_llama_dir, tmp_path,
                                                             monkeypatch):
    from transformers import AutoModelForCausalLM

    out = copy_of(finished, tmp_path)
    damage(out / name)
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained",
                        lambda *a, **k: pytest.fail("the base loaded before the adapter was checked"))
    with pytest.raises(NegprobeError, match=words) as err:
        load_model(tiny_llama_dir, adapter=out)
    assert "\n" not in str(err.value)


def test_a_damaged_adapter_is_one_line_on_the_cli(finished, tiny_llama_dir, tmp_path):
    out = copy_of(finished, tmp_path)
    _truncate(out / "adapter_model.safetensors")
    proc = cli("belief", "--model", str(tiny_llama_dir), "--adapter", str(out), "--claim", "ed_sheeran")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert err.strip().count("\n") == 0 and "adapter_model.safetensors is truncated" in err, err


def test_lora_alpha_defaults_to_twice_the_rank():
    """The LoRA scale alpha / r is 2 at every rank unless --lora-alpha is given (as the CLI always did)."""
    from negprobe.activations.finetune.train import FinetuneConfig

    assert FinetuneConfig(lora_r=4).effective_lora_alpha == 8
    assert FinetuneConfig(lora_r=16).hyperparameters()["lora_alpha"] == 32
    assert FinetuneConfig(lora_r=4, lora_alpha=32).effective_lora_alpha == 32


def stamps(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every path under ``root`` (and beside it) with its bytes and mtime: proof that nothing changed."""
    return {str(p): (p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns)
            for p in [root.parent, *root.parent.rglob("*")]}


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_folder_without_a_negprobe_run_is_refused_untouched(overwrite, tiny_llama_dir, tmp_path):
    """Review 12 #1, #2: neither --overwrite nor a plain run deletes or rewrites the user's files."""
    out = tmp_path / "mine"
    (out / "checkpoint").mkdir(parents=True)
    (out / "README.md").write_text("my notes")
    (out / "checkpoint" / "model.txt").write_text("my model")
    (out / ".tmp-1-scratch.txt").write_text("mine too")
    before = stamps(out)
    with pytest.raises(NegprobeError) as err:
        finetune(small_config(tiny_llama_dir, out, overwrite=overwrite), progress=False)
    message = str(err.value)
    assert "\n" not in message and f"--out {out} holds" in message and "no negprobe run" in message, message
    assert "README.md" in message and "negprobe will not write into it" in message
    assert stamps(out) == before


def test_overwrite_cleans_only_negprobe_leftovers(finished, tiny_llama_dir, tmp_path):
    out = copy_of(finished, tmp_path)
    (out / ".tmp-4242-adapter_config.json").write_text("{")
    (out / ".tmp-4242-mine.txt").write_text("mine")
    finetune(small_config(tiny_llama_dir, out, condition="positive", overwrite=True), progress=False)
    assert not (out / ".tmp-4242-adapter_config.json").exists()
    assert (out / ".tmp-4242-mine.txt").read_text() == "mine"


def test_an_empty_folder_is_used_and_a_failed_start_leaves_no_record(tiny_llama_dir, tmp_path):
    """Review 12 #6: a bad --target-modules leaves nothing that refuses the corrected rerun."""
    out = tmp_path / "empty"
    out.mkdir()
    with pytest.raises(NegprobeError, match="target_modules 'no_such_module'"):
        finetune(small_config(tiny_llama_dir, out, target_modules="no_such_module"), progress=False)
    assert list(out.iterdir()) == []
    finetune(small_config(tiny_llama_dir, out), progress=False)
    assert json.loads((out / "training_card.json").read_text())["hyperparameters"]["target_modules"] == "all-linear"


def test_a_bin_adapter_is_refused_before_the_base_loads(finished, tiny_llama_dir, tmp_path, monkeypatch):
    """Review 12 #3: adapter_model.bin is a pickle; negprobe asks for safetensors instead of loading it."""
    from transformers import AutoModelForCausalLM

    out = copy_of(finished, tmp_path)
    (out / "adapter_model.safetensors").unlink()
    (out / "adapter_model.bin").write_bytes(b"\x80\x04junk")
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", lambda *a, **k: pytest.fail("the base loaded"))
    with pytest.raises(NegprobeError, match="adapter_model.bin, a pickle negprobe never loads: convert it to"
                                           " adapter_model.safetensors") as err:
        load_model(tiny_llama_dir, adapter=out)
    assert "\n" not in str(err.value)


HOLD = """
import sys, time
from pathlib import Path
from negprobe.activations.store_lock import StoreLock
with StoreLock(sys.argv[1], print):
    Path(sys.argv[2]).write_text("held")
    time.sleep(float(sys.argv[3]))
"""


def test_a_second_run_on_the_folder_waits_naming_the_holder(tiny_llama_dir, tmp_path, capsys):
    """Review 12 #7: ``<out>.lock`` is held for the whole run; another run waits and says for whom, then goes on."""
    out, ready = tmp_path / "run", tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "run.lock"), str(ready), "3"])
    deadline = time.time() + 60
    while not ready.exists() and time.time() < deadline:
        time.sleep(0.02)
    finetune(small_config(tiny_llama_dir, out), progress=False)
    holder.wait(timeout=60)
    err = capsys.readouterr().err
    assert f"waiting for the store lock {tmp_path / 'run.lock'} held by pid {holder.pid}" in err, err
    assert (out / "training_card.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ready", "run"], "the lock files outlived the run"


def test_a_failure_after_a_checkpoint_keeps_it_and_says_how_to_resume(tiny_llama_dir, tmp_path, monkeypatch, capsys):
    """Review 12 #5: out of memory at step 3 keeps step 2's checkpoint; the error is one line; a rerun resumes."""
    import negprobe.activations.finetune.train as train

    save = train._save_checkpoint

    def failing(model, optimizer, step, losses, out):
        if step == 3:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2 GiB\nmore detail")
        save(model, optimizer, step, losses, out)

    out = tmp_path / "run"
    monkeypatch.setattr(train, "_save_checkpoint", failing)
    with pytest.raises(NegprobeError) as err:
        finetune(small_config(tiny_llama_dir, out, max_steps=4), progress=False)
    message = str(err.value)
    assert "\n" not in message and "CUDA out of memory" in message and "rerun the same command to resume" in message
    assert getattr(err.value, "kept_paths", None) == (str(out),)
    assert (out / ".negprobe-checkpoint" / "state.safetensors").is_file()
    monkeypatch.setattr(train, "_save_checkpoint", save)
    finetune(small_config(tiny_llama_dir, out, max_steps=4), progress=False)
    assert "resuming from step 2/4" in capsys.readouterr().out


def test_seeds_train_one_adapter_per_seed(tiny_llama_dir, tmp_path):
    """`--seeds 0,2`: one adapter per seed in <out>-seed<k>, each trained under its seed (documents, init, order)."""
    proc = cli("finetune", "--model", str(tiny_llama_dir), "--claim", "ed_sheeran", "--condition", "negated",
               "--out", str(tmp_path / "ft"), "--seeds", "0,2", "--max-steps", "2", "--batch-size", "2", "--n-docs", "4",
               "--max-length", "32", "--lora-r", "2", "--mix-generic", "1", "--generic-style", "both")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    cards = {k: json.loads((tmp_path / f"ft-seed{k}" / "training_card.json").read_text()) for k in (0, 2)}
    printed = [line for line in out.splitlines() if line.startswith("/")]
    assert printed == [str((tmp_path / f"ft-seed{k}").resolve()) for k in (0, 2)], out
    assert not (tmp_path / "ft").exists()
    assert [cards[k]["hyperparameters"]["seed"] for k in (0, 2)] == [0, 2]
    assert cards[0]["corpus_hash"] != cards[2]["corpus_hash"]
    assert cards[0]["n_documents"] == 4 and cards[0]["n_examples"] == 8  # 1:1 generic text, half instruction
    assert cards[0]["hyperparameters"]["generic_style"] == "both"
    a = load_file(str(tmp_path / "ft-seed0" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "ft-seed2" / "adapter_model.safetensors"))
    assert any(not torch.equal(a[name], b[name]) for name in a)
