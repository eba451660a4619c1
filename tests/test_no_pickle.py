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


# Names that may unpickle, and the literal keyword that makes a direct call safe (None: never safe).
GUARDED = {"torch.load": ("weights_only", True), "torch.serialization.load": ("weights_only", True),
           "numpy.load": ("allow_pickle", False)}
UNSAFE_MODULES = ("shelve", "marshal")  # any use: shelve unpickles, marshal.load(s) runs no checks


def _unsafe_name(name: str | None) -> bool:
    return bool(name) and (name in UNPICKLERS or name in GUARDED or name.split(".")[0] in UNSAFE_MODULES)


def _safe_call(call: ast.Call, name: str) -> bool:
    """A direct call of a guarded name with its safe keyword as a literal (and no ``**kwargs`` to override it)."""
    if name not in GUARDED or any(k.arg is None for k in call.keywords):
        return False
    keyword, value = GUARDED[name]
    if name == "numpy.load" and not any(k.arg == keyword for k in call.keywords):
        return True  # numpy's default is allow_pickle=False
    return _keyword_is(call, keyword, value)


def _assigned_aliases(tree: ast.AST, aliases: dict[str, str]) -> dict[str, str]:
    """``f = torch.load`` (and chains of such assignments) make ``f`` another name for ``torch.load``."""
    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                target, name = node.targets[0].id, _dotted(node.value, aliases)
                if _unsafe_name(name) and aliases.get(target) != name:
                    aliases[target], changed = str(name), True
    return aliases


def _getattr_name(node: ast.Call, aliases: dict[str, str]) -> str | None:
    """``getattr(torch, "load")`` -> ``torch.load``."""
    if (_dotted(node.func, aliases) == "getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)):
        base = _dotted(node.args[0], aliases)
        return f"{base}.{node.args[1].value}" if base else None
    return None


def pickle_reads(source: str, filename: str) -> list[str]:
    """``file:line: name`` for every reference in ``source`` that may unpickle a file's contents.

    A name that may unpickle is flagged wherever it appears (passed on, aliased, wrapped in
    ``functools.partial``, fetched with ``getattr``) unless it is called directly with its safe keyword
    as a literal: ``torch.load(..., weights_only=True)``, ``np.load(...)`` / ``np.load(..., allow_pickle=False)``.
    """
    tree = ast.parse(source, filename)
    aliases = _assigned_aliases(tree, _aliases(tree))
    safe_funcs = {id(n.func) for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and _safe_call(n, str(_dotted(n.func, aliases)))}
    found: dict[int, set[str]] = {}
    for node in ast.walk(tree):
        name = _getattr_name(node, aliases) if isinstance(node, ast.Call) else None
        if name is None and isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in safe_funcs:
            name = _dotted(node, aliases)
        if _unsafe_name(name) and not isinstance(getattr(node, "ctx", None), ast.Store):
            found.setdefault(getattr(node, "lineno", 0), set()).add(str(name))
    hits = []
    for line, names in sorted(found.items()):  # ``shelve.open`` once, not ``shelve`` and ``shelve.open``
        hits += [f"{filename}:{line}: {n}" for n in sorted(names) if not any(o.startswith(n + ".") for o in names)]
    return hits


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

# Indirect references the first scanner missed (review finding 12): every line but the safe ones is a hit.
PLANTED_INDIRECT = """\
import functools, marshal, shelve, torch
import numpy as np
f = torch.load
f("a")
g = f
loader = functools.partial(torch.load, weights_only=True)
getattr(torch, "load")("a")
np.load("x", **options)
np.load("x", allow_pickle=False)
shelve.open("db")
marshal.loads(b"")
marshal.load(fh)
torch.load("a", weights_only=True, **extra)
np.load("x", mmap_mode="r")
"""


def test_the_scanner_finds_planted_pickle_reads():
    assert pickle_reads(PLANTED, "planted.py") == [
        f"planted.py:{line}: {call}" for line, call in [
            (5, "torch.load"), (6, "torch.load"), (8, "pickle.load"), (9, "pickle.loads"), (10, "numpy.load"),
            (12, "joblib.load"), (13, "pandas.read_pickle")]
    ]


def test_the_scanner_finds_aliases_partials_getattr_kwargs_shelve_and_marshal():
    assert pickle_reads(PLANTED_INDIRECT, "planted.py") == [
        f"planted.py:{line}: {call}" for line, call in [
            (3, "torch.load"), (4, "torch.load"), (5, "torch.load"), (6, "torch.load"), (7, "torch.load"),
            (8, "numpy.load"), (10, "shelve.open"), (11, "marshal.loads"), (12, "marshal.load"), (13, "torch.load")]
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
    (out / ".negprobe-checkpoint").mkdir(parents=True)
    (out / ".negprobe-checkpoint" / "state.pt").write_bytes(payload(marker))
    proc = subprocess.run(cli_args(tiny_llama_dir, out), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "state.pt is an untrusted pickle" in proc.stderr, proc.stderr
    assert "--overwrite" in proc.stderr and not marker.exists()
    proc = subprocess.run([*cli_args(tiny_llama_dir, out), "--overwrite"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists() and not (out / ".negprobe-checkpoint").exists()
    assert (out / "adapter_model.safetensors").is_file()


def test_a_pickle_in_a_foreign_checkpoint_folder_is_refused_untouched_even_with_overwrite(tiny_llama_dir, tmp_path):
    """``checkpoint/`` may be the user's own: without a negprobe run beside it, negprobe neither loads nor deletes it."""
    out, marker = tmp_path / "run", tmp_path / "pwned"
    (out / "checkpoint").mkdir(parents=True)
    (out / "checkpoint" / "state.pt").write_bytes(payload(marker))
    for overwrite in (False, True):
        with pytest.raises(NegprobeError, match="state.pt is an untrusted pickle.*delete it or choose another --out") \
                as err:
            finetune(tiny_config(tiny_llama_dir, out, overwrite=overwrite), progress=False)
        assert "\n" not in str(err.value) and str(out) in str(err.value)
    assert (out / "checkpoint" / "state.pt").read_bytes() == payload(marker) and not marker.exists()
