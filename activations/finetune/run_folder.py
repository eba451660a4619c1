"""What a fine-tuning output folder holds, and whether a run may continue it.

A run is identified by everything that changes its adapter: the hyper-parameters (claim,
condition, corpus, seed, steps, ...), the corpus hash and the base model's fingerprint. While it
trains, that identity sits in ``<out>/.negprobe-checkpoint/run.json`` next to the checkpoint;
once finished, in ``training_card.json``. A run asking for anything else on the same folder is
refused with the differing fields named; ``overwrite`` starts over. negprobe writes only into a
new or empty folder or one holding a negprobe run (a ``training_card.json`` or a
``.negprobe-checkpoint/``): anything else is refused untouched, ``overwrite`` or not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from negprobe.activations.atomic import atomic_write_text
from negprobe.activations.models import ADAPTER_CARD
from negprobe.activations.store_lock import StoreLock
from negprobe.errors import NegprobeError

from .checkpoint import STATE_FILE

CHECKPOINT_DIR = ".negprobe-checkpoint"  # inside the output folder; deleted when the run finishes
RUN_FILE = "run.json"
TRAINING_CARD = "training_card.json"
LEGACY_STATES = ("checkpoint/state.pt", f"{CHECKPOINT_DIR}/state.pt")  # pickles of negprobe <= 0.x: never loaded
# Config fields that steer a run without changing its adapter.
RUN_CONTROL = frozenset({"out", "model", "overwrite", "keep_checkpoint", "checkpoint_every"})
REQUIRED = ("claim", "condition", "corpus", "corpus_hash")
# Fields added after runs were recorded: a record without one ran with this value.
ADDED_FIELDS: dict[str, Any] = {"layers": None}
_HASHES = {"corpus_hash": "corpus", "base_fingerprint": "base model"}
# What negprobe writes into its run folder: ``overwrite`` removes these (and a legacy checkpoint/state.pt) only.
WRITTEN = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "README.md", TRAINING_CARD,
           ADAPTER_CARD, CHECKPOINT_DIR)
# An interrupted atomic write's leftover: ``.tmp-<pid>-<one of the names negprobe writes>``.
_LEFTOVER = re.compile(r"\.tmp-\d+-(" + "|".join(re.escape(n) for n in (*WRITTEN, RUN_FILE, STATE_FILE)) + ")")


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
            how = "rerun with --overwrite" if holds_run(out) else "delete it or choose another --out"
            raise NegprobeError(f"{out / rel} is an untrusted pickle from an older negprobe and is never loaded;"
                                f" {how} to start over")
    check_negprobe_folder(out)
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
    stored = {**ADDED_FIELDS, **{k: v for k, v in existing.identity.items() if k not in RUN_CONTROL}}
    differ = [k for k in wanted if k in stored and stored[k] != wanted[k]]
    if not differ:
        return
    shown = [f"{k}={wanted[k]!r}" for k in differ if k not in _HASHES]
    asks = ", ".join(shown) or "a different " + " and ".join(_HASHES[k] for k in differ)
    raise NegprobeError(f"{out} holds a {existing.kind} {stored.get('condition')!r} run of {stored.get('claim')!r};"
                        f" this run asks for {asks} (fields differ: {', '.join(differ)}); use --overwrite to start"
                        " over")


def holds_run(out: Path) -> bool:
    """Whether ``out`` holds a negprobe run: a training card or a checkpoint folder."""
    return (out / TRAINING_CARD).is_file() or (out / CHECKPOINT_DIR).is_dir()


def check_negprobe_folder(out: Path) -> None:
    """Refuse, in one line, a non-empty ``out`` that holds no negprobe run: negprobe never writes into it."""
    if out.exists() and not out.is_dir():
        raise NegprobeError(f"--out {out} is a file, not a folder")
    if not out.is_dir() or holds_run(out):
        return
    try:
        foreign = sorted(p.name for p in out.iterdir() if not _LEFTOVER.fullmatch(p.name))
    except OSError as exc:
        raise NegprobeError(f"--out {out} cannot be read ({exc.strerror or exc})") from None
    if (out / LEGACY_STATES[0]).exists():
        raise NegprobeError(f"{out / LEGACY_STATES[0]} is an untrusted pickle from an older negprobe and is never"
                            " loaded; delete it or choose another --out to start over")
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise NegprobeError(f"--out {out} holds {shown} but no negprobe run; negprobe will not write into it"
                            " (--overwrite neither): choose a new or empty folder")


def clear_folder(out: Path) -> None:
    """Remove what negprobe wrote into its run folder ``out`` (adapter, cards, checkpoints, its temporaries).

    Refuses a folder that holds no negprobe run (:func:`check_negprobe_folder`); anything else stays."""
    if not out.is_dir():
        return
    check_negprobe_folder(out)
    legacy = out / LEGACY_STATES[0]
    doomed = [out / name for name in WRITTEN] + [p for p in out.iterdir() if _LEFTOVER.fullmatch(p.name)] + [legacy]
    for path in doomed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    if legacy.parent.is_dir() and not any(legacy.parent.iterdir()):
        legacy.parent.rmdir()


def check_writable(out: Path) -> None:
    """Fail before any work when ``out`` (or the folder it would be created in) is not writable."""
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise NegprobeError(f"--out {out}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise NegprobeError(f"--out {out}: {probe} is not writable")


def start_folder(out: Path) -> None:
    """Create ``out`` and drop an interrupted write's ``.tmp-<pid>-<name>`` leftovers (negprobe's names only)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NegprobeError(f"--out {out}: cannot create the folder ({exc.strerror or exc})") from None
    for folder in (out, out / CHECKPOINT_DIR):
        for stale in [p for p in folder.iterdir() if _LEFTOVER.fullmatch(p.name)] if folder.is_dir() else []:
            shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()


def record_run(out: Path, wanted: dict[str, Any]) -> None:
    """Write the run's identity next to its first checkpoint (a run that fails before one leaves no record)."""
    path = out / CHECKPOINT_DIR / RUN_FILE
    if not path.is_file():
        atomic_write_text(path, json.dumps({"identity": wanted}, indent=1))


@contextmanager
def folder_lock(out: Path, report: Callable[[str], None]) -> Iterator[None]:
    """Hold ``<out>.lock`` (beside ``out``) for a whole run; a second run on ``out`` waits, saying for whom.

    The lock file and its holder record are removed on release (unlinked while held: filelock's waiters
    notice an unlinked lock file and retry on a fresh one)."""
    where = Path(os.path.abspath(out))
    lock_path = where.with_name(where.name + ".lock")
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NegprobeError(f"--out {out}: cannot create {where.parent} ({exc.strerror or exc})") from None
    lock = StoreLock(lock_path, report)
    with lock:
        try:
            yield
        finally:
            lock_path.unlink(missing_ok=True)


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
