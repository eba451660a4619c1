"""Fine-tuning state saved without pickle: one safetensors file whose header carries JSON.

A checkpoint holds the LoRA weights, the AdamW state of every parameter (``exp_avg``,
``exp_avg_sq``, ``step``), the step reached and the loss curve. It is one file replaced by one
rename (:func:`negprobe.activations.atomic.atomic_path`), so a kill leaves the previous
checkpoint or the new one, never a mix. Loading reads tensors and JSON only: a crafted file can
fail to load, never run code. Training draws no random numbers after the LoRA init (dropout 0,
batches a pure function of seed and step), so there is no RNG state to keep.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from negprobe.activations.atomic import atomic_path
from negprobe.errors import NegprobeError

STATE_FILE = "state.safetensors"
FORMAT = 1
_META_KEY = "negprobe_checkpoint"
_ADAPTER = "adapter/"
_OPTIMIZER = "optimizer/"


@dataclass(frozen=True)
class SavedState:
    """What a checkpoint restores: the adapter, AdamW's per-parameter state, the step and loss curve."""

    step: int
    losses: tuple[float, ...]
    adapter: dict[str, torch.Tensor]
    optimizer: dict[int, dict[str, Any]]  # parameter index -> {"step", "exp_avg", "exp_avg_sq", ...}


def save_state(folder: Path, adapter: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer, step: int,
               losses: list[float]) -> Path:
    """Write ``folder/state.safetensors`` atomically; returns its path."""
    from safetensors.torch import save_file

    tensors = {_ADAPTER + name: value.detach().contiguous() for name, value in adapter.items()}
    scalars: dict[str, Any] = {}
    for index, entry in optimizer.state_dict()["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{_OPTIMIZER}{index}/{key}"] = value.detach().contiguous()
            else:
                scalars[f"{index}/{key}"] = value
    meta = {"format": FORMAT, "step": step, "losses": losses, "optimizer_scalars": scalars}
    path = folder / STATE_FILE
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={_META_KEY: json.dumps(meta)})
    return path


def load_state(folder: Path) -> SavedState | None:
    """The checkpoint in ``folder``, None when there is none; a damaged one is a one-line error."""
    from safetensors import safe_open

    path = folder / STATE_FILE
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), "pt") as f:
            meta_text = (f.metadata() or {}).get(_META_KEY)
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except Exception as exc:  # SafetensorError and OSError: the file is unreadable, whatever the cause
        raise _damaged(path, _first_line(exc)) from None
    meta = _parse_meta(path, meta_text)
    adapter = {k[len(_ADAPTER):]: v for k, v in tensors.items() if k.startswith(_ADAPTER)}
    optimizer: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(_OPTIMIZER):
            index, _, name = key[len(_OPTIMIZER):].partition("/")
            optimizer.setdefault(_index(path, index), {})[name] = value
    for key, value in meta["optimizer_scalars"].items():
        index, _, name = str(key).partition("/")
        optimizer.setdefault(_index(path, index), {})[name] = value
    unknown = [k for k in tensors if not k.startswith((_ADAPTER, _OPTIMIZER))]
    if not adapter or unknown:
        raise _damaged(path, f"unknown tensor {unknown[0]!r}" if unknown else "it holds no adapter weights")
    return SavedState(meta["step"], tuple(meta["losses"]), adapter, optimizer)


def restore(model, optimizer: torch.optim.Optimizer, saved: SavedState, path: Path) -> None:
    """Load ``saved`` into the PEFT model and its optimizer after checking every name and shape."""
    from peft import get_peft_model_state_dict, set_peft_model_state_dict

    expected = get_peft_model_state_dict(model)
    if set(expected) != set(saved.adapter):
        raise _damaged(path, "its adapter weights do not match this run's LoRA layers")
    for name, value in expected.items():
        if tuple(saved.adapter[name].shape) != tuple(value.shape) or saved.adapter[name].dtype != value.dtype:
            raise _damaged(path, f"adapter weight {name} has shape {tuple(saved.adapter[name].shape)},"
                                 f" expected {tuple(value.shape)}")
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for index, entry in saved.optimizer.items():
        if not 0 <= index < len(params):
            raise _damaged(path, f"optimizer state for parameter {index}, but this run has {len(params)}")
        for name in ("exp_avg", "exp_avg_sq"):
            value = entry.get(name)
            if not torch.is_tensor(value) or tuple(value.shape) != tuple(params[index].shape):
                raise _damaged(path, f"optimizer {name} of parameter {index} is missing or has the wrong shape")
        if "step" not in entry:
            raise _damaged(path, f"optimizer state of parameter {index} has no step")
    set_peft_model_state_dict(model, saved.adapter)
    optimizer.load_state_dict({"state": saved.optimizer, "param_groups": optimizer.state_dict()["param_groups"]})


def _parse_meta(path: Path, text: str | None) -> dict[str, Any]:
    """The JSON header of a checkpoint, checked field by field."""
    try:
        meta = json.loads(text) if text else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _damaged(path, f"its header has no negprobe checkpoint record (format {FORMAT})")
    step, losses, scalars = meta.get("step"), meta.get("losses"), meta.get("optimizer_scalars")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise _damaged(path, f"step {step!r} is not a non-negative integer")
    if not isinstance(losses, list) or len(losses) != step or not all(_is_number(x) for x in losses):
        raise _damaged(path, f"its loss curve is not {step} numbers")
    if not isinstance(scalars, dict):
        raise _damaged(path, "optimizer_scalars is not a JSON object")
    return meta


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)  # NaN too: a diverged run resumes


def _index(path: Path, text: str) -> int:
    if not text.isdigit():
        raise _damaged(path, f"optimizer entry {text!r} is not a parameter index")
    return int(text)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _damaged(path: Path, reason: str) -> NegprobeError:
    return NegprobeError(f"checkpoint {path} is unreadable ({reason}); rerun with --overwrite to start over")
