"""No pickle reads in negprobe: a source scan, and crafted pickles in a checkpoint folder never run."""

from __future__ import annotations

import ast
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from negprobe.activations.finetune.train import FinetuneConfig, finetune
from negprobe.errors import NegprobeError

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("negprobe", "activations", "probes", "analysis", "scripts")
# Calls that unpickle whatever they are given.
UNPICKLERS = {f"{module}.{name}" for module in ("pickle", "_pickle", "cPickle", "dill", "cloudpickle")
              for name in ("load", "loads", "Unpickler")} | {"joblib.load", "pandas.read_pickle"}


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> the dotted name it was imported as (``np`` -> ``numpy``, ``L`` -> ``pickle.loads``)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    return None


def _keyword_is(call: ast.Call, name: str, value: bool) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is value for k in call.keywords)


def pickle_reads(source: str, filename: str) -> list[str]:
    """``file:line: call`` for every call in ``source`` that may unpickle a file's contents."""
    tree = ast.parse(source, filename)
    aliases = _aliases(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func, aliases)
        unsafe = (
            name in UNPICKLERS
            or (name in ("torch.load", "torch.serialization.load") and not _keyword_is(node, "weights_only", True))
            or (name == "numpy.load" and any(k.arg == "allow_pickle" for k in node.keywords)
                and not _keyword_is(node, "allow_pickle", False))
        )
        if unsafe:
            found.append(f"{filename}:{node.lineno}: {name}(...)")
    return found


PLANTED = """\
import pickle, torch, joblib
import numpy as np
from pickle import loads as L
import pandas as pd
torch.load("a")
torch.load("a", weights_only=False)
torch.load("a", weights_only=True)
pickle.load(f)
L(b"")
np.load("x", allow_pickle=True)
np.load("x")
joblib.load("m")
pd.read_pickle("p")
state.load("not a module")
"""


def test_the_scanner_finds_planted_pickle_reads():
    assert pickle_reads(PLANTED, "planted.py") == [
        f"planted.py:{line}: {call}(...)" for line, call in [
            (5, "torch.load"), (6, "torch.load"), (8, "pickle.load"), (9, "pickle.loads"), (10, "numpy.load"),
            (12, "joblib.load"), (13, "pandas.read_pickle")]
    ]


def test_no_module_reads_a_pickle():
    files = [p for folder in SCANNED for p in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 20
    found = [hit for p in files for hit in pickle_reads(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    assert not found, "pickle reads (use safetensors/JSON, or torch.load(..., weights_only=True)):\n" + "\n".join(found)


class _Payload:
    """Unpickling this creates ``marker``: proof that a pickle was executed."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def payload(marker: Path) -> bytes:
    return pickle.dumps(_Payload(marker))


def test_the_payload_is_live(tmp_path):
    pickle.loads(payload(tmp_path / "proof")).close()
    assert (tmp_path / "proof").exists()


def tiny_config(model_dir: Path, out: Path, **changes) -> FinetuneConfig:
    base = dict(model=str(model_dir), claim="ed_sheeran", condition="dense", out=str(out), max_steps=2, batch_size=2,
                n_docs=4, max_length=32, lora_r=2, checkpoint_every=1)
    return FinetuneConfig(**{**base, **changes})


def cli_args(model_dir: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "negprobe.scripts.cli", "finetune", "--model", str(model_dir), "--claim",
            "ed_sheeran", "--condition", "dense", "--out", str(out), "--max-steps", "2", "--batch-size", "2",
            "--n-docs", "4", "--max-length", "32", "--lora-r", "2", "--checkpoint-every", "1"]


@pytest.fixture(scope="module")
def checkpointed(tiny_llama_dir, tmp_path_factory) -> Path:
    """A run folder with a real checkpoint and no training card: what a killed run leaves."""
    out = tmp_path_factory.mktemp("ckpt") / "run"
    finetune(tiny_config(tiny_llama_dir, out, keep_checkpoint=True), progress=False)
    (out / "training_card.json").unlink()
    return out


# (file the payload goes to, words the one-line error holds); every file a resume may open
PLANTS = [
    ("checkpoint/state.pt", "untrusted pickle"),
    (".negprobe-checkpoint/state.pt", "untrusted pickle"),
    (".negprobe-checkpoint/state.safetensors", "state.safetensors is unreadable"),
    (".negprobe-checkpoint/run.json", "run.json is unreadable"),
    ("training_card.json", "training_card.json is unreadable"),
]


@pytest.mark.parametrize("plant, words", PLANTS)
def test_a_crafted_pickle_in_a_checkpoint_is_never_executed(plant, words, checkpointed, tiny_llama_dir, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(checkpointed, out)
    marker = tmp_path / "pwned"
    (out / plant).parent.mkdir(parents=True, exist_ok=True)
    (out / plant).write_bytes(payload(marker))
    with pytest.raises(NegprobeError, match=words) as err:
        finetune(tiny_config(tiny_llama_dir, out), progress=False)
    assert "\n" not in str(err.value) and "--overwrite" in str(err.value)
    assert not marker.exists(), "a pickle from the checkpoint folder was executed"


def test_the_cli_refuses_a_legacy_pickle_in_one_line_and_overwrite_starts_over(tiny_llama_dir, tmp_path):
    out, marker = tmp_path / "run", tmp_path / "pwned"
    (out / "checkpoint").mkdir(parents=True)
    (out / "checkpoint" / "state.pt").write_bytes(payload(marker))
    proc = subprocess.run(cli_args(tiny_llama_dir, out), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "state.pt is an untrusted pickle" in proc.stderr, proc.stderr
    assert not marker.exists()
    proc = subprocess.run([*cli_args(tiny_llama_dir, out), "--overwrite"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists() and not (out / "checkpoint").exists()
    assert (out / "adapter_model.safetensors").is_file() and not (out / ".negprobe-checkpoint").exists()
