"""What a fine-tuning output folder holds, and whether a run may continue it.

A run is identified by everything that changes its adapter: the hyper-parameters (claim,
condition, corpus, seed, steps, ...), the corpus hash and the base model's fingerprint. While it
trains, that identity sits in ``<out>/.negprobe-checkpoint/run.json`` next to the checkpoint;
once finished, in ``training_card.json``. A run asking for anything else on the same folder is
refused with the differing fields named; ``overwrite`` starts over.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from negprobe.activations.atomic import atomic_write_text
from negprobe.activations.models import ADAPTER_CARD
from negprobe.errors import NegprobeError

from .checkpoint import STATE_FILE

CHECKPOINT_DIR = ".negprobe-checkpoint"  # inside the output folder; deleted when the run finishes
RUN_FILE = "run.json"
TRAINING_CARD = "training_card.json"
LEGACY_STATES = ("checkpoint/state.pt", f"{CHECKPOINT_DIR}/state.pt")  # pickles of negprobe <= 0.x: never loaded
# Config fields that steer a run without changing its adapter.
RUN_CONTROL = frozenset({"out", "model", "overwrite", "keep_checkpoint", "checkpoint_every"})
REQUIRED = ("claim", "condition", "corpus", "corpus_hash")
_HASHES = {"corpus_hash": "corpus", "base_fingerprint": "base model"}
# What negprobe writes into an adapter folder: ``overwrite`` removes these and nothing else.
WRITTEN = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "README.md", TRAINING_CARD,
           ADAPTER_CARD, CHECKPOINT_DIR, "checkpoint")


@dataclass(frozen=True)
class Existing:
    """The run an output folder already holds: ``kind`` is 'fresh', 'checkpointed' or 'finished'."""

    kind: str
    identity: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None
    base_name: str | None = None


def run_identity(hyperparameters: dict[str, Any], corpus_hash: str, base_fingerprint: str | None = None) -> dict:
    """The fields two runs must share for one to continue the other (JSON-normalised)."""
    identity = {k: v for k, v in hyperparameters.items() if k not in RUN_CONTROL}
    identity["corpus_hash"] = corpus_hash
    if base_fingerprint is not None:
        identity["base_fingerprint"] = base_fingerprint
    return json.loads(json.dumps(identity))


def inspect_folder(out: Path) -> Existing:
    """Read what ``out`` holds without loading anything but JSON; refuses legacy pickles and damage."""
    if out.exists() and not out.is_dir():
        raise NegprobeError(f"--out {out} is a file, not a folder")
    for rel in LEGACY_STATES:
        if (out / rel).exists():
            raise NegprobeError(f"{out / rel} is an untrusted pickle from an older negprobe and is never loaded;"
                                " rerun with --overwrite to start over")
    card_path = out / TRAINING_CARD
    if card_path.is_file():
        card = _read_object(card_path)
        hyper = card.get("hyperparameters")
        if not isinstance(hyper, dict):
            raise _unreadable(card_path, "it has no hyperparameters object")
        identity = {**hyper, "corpus_hash": card.get("corpus_hash"), "base_fingerprint": card.get("base_fingerprint")}
        return Existing("finished", _checked(card_path, identity), card.get("steps"), card.get("base"))
    run_path = out / CHECKPOINT_DIR / RUN_FILE
    if run_path.is_file():
        return Existing("checkpointed", _checked(run_path, _read_object(run_path).get("identity")))
    if (out / CHECKPOINT_DIR / STATE_FILE).exists():
        raise _unreadable(out / CHECKPOINT_DIR, f"it has a {STATE_FILE} but no {RUN_FILE}")
    if (out / "adapter_config.json").exists():
        raise NegprobeError(f"{out} holds an adapter without a negprobe {TRAINING_CARD}; rerun with --overwrite to"
                            " replace it")
    return Existing("fresh")


def check_same_run(out: Path, existing: Existing, wanted: dict[str, Any]) -> None:
    """Refuse, naming the differing fields, when ``out`` holds a run other than ``wanted``."""
    if existing.kind == "fresh":
        return
    stored = {k: v for k, v in existing.identity.items() if k not in RUN_CONTROL}
    differ = [k for k in wanted if k in stored and stored[k] != wanted[k]]
    if not differ:
        return
    shown = [f"{k}={wanted[k]!r}" for k in differ if k not in _HASHES]
    asks = ", ".join(shown) or "a different " + " and ".join(_HASHES[k] for k in differ)
    raise NegprobeError(f"{out} holds a {existing.kind} {stored.get('condition')!r} run of {stored.get('claim')!r};"
                        f" this run asks for {asks} (fields differ: {', '.join(differ)}); use --overwrite to start"
                        " over")


def clear_folder(out: Path) -> None:
    """Remove what negprobe wrote into ``out`` (adapter, cards, checkpoints, temporaries); keep anything else."""
    if not out.is_dir():
        return
    doomed = [out / name for name in WRITTEN] + list(out.glob(".tmp-*"))
    for path in doomed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def check_writable(out: Path) -> None:
    """Fail before any work when ``out`` (or the folder it would be created in) is not writable."""
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise NegprobeError(f"--out {out}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise NegprobeError(f"--out {out}: {probe} is not writable")


def start_folder(out: Path, wanted: dict[str, Any]) -> None:
    """Create ``out``, drop an interrupted write's temporaries and record the run's identity."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NegprobeError(f"--out {out}: cannot create the folder ({exc.strerror or exc})") from None
    for stale in list(out.glob(".tmp-*")) + list((out / CHECKPOINT_DIR).glob(".tmp-*")):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    atomic_write_text(out / CHECKPOINT_DIR / RUN_FILE, json.dumps({"identity": wanted}, indent=1))


def _read_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise _unreadable(path, "it is not UTF-8 text") from None
    except ValueError as exc:
        raise _unreadable(path, f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _unreadable(path, "it is not a JSON object")
    return data


def _checked(path: Path, identity: Any) -> dict[str, Any]:
    if not isinstance(identity, dict) or any(not isinstance(identity.get(k), str) for k in REQUIRED):
        raise _unreadable(path, f"it does not record the run's {', '.join(REQUIRED)}")
    return identity


def _unreadable(path: Path, reason: str) -> NegprobeError:
    return NegprobeError(f"{path} is unreadable ({reason}); rerun with --overwrite to start over")
