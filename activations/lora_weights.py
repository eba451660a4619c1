"""The weight-space view of a LoRA adapter: how large its update is, per decoder block and module.

A LoRA adapter changes a weight ``W`` by ``dW = scaling * B @ A`` (Hu et al. 2022; ``scaling =
alpha / r``, or ``alpha / sqrt(r)`` with rank-stabilised LoRA, Kalajdzievski 2023), which
``merge_and_unload`` adds to ``W``. :func:`lora_update_norms` reads ``A`` and ``B`` from the adapter's
safetensors file (no forward pass, no merge) and reports the Frobenius norm ``||dW||_F`` next to
``||W||_F`` of the base weight, per decoder block and per module kind (``self_attn.q_proj``, ...),
with exact zeros where the adapter has no LoRA pair (outside a ``--layers`` window). Where an
update is large relative to its weight is where fine-tuning wrote the most, not necessarily where
the behaviour lives: read it beside cross-model patching (:mod:`negprobe.analysis.cross_patching`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from jaxtyping import Float

from negprobe.errors import NegprobeError

from .finetune.layer_window import block_names, module_block
from .fingerprint import matches_tensors_scheme
from .models import LoadedModel, check_adapter_folder, unwrap

_PREFIX = "base_model.model."  # PEFT's prefix of saved LoRA tensor names


@dataclass(frozen=True, eq=False)
class LoraUpdateNorms:
    """Frobenius norms of one adapter's merged update and of the base weights it changes."""

    adapter: str
    modules: tuple[str, ...]  # module kinds inside a block, e.g. "self_attn.q_proj"
    update: Float[np.ndarray, "n_layers n_modules"]  # ||scaling * B @ A||_F; exactly 0 where no LoRA pair
    base: Float[np.ndarray, "n_layers n_modules"]  # ||W||_F of the base weight (NaN where the block lacks it)
    window: tuple[int, int] | None  # the --layers window the adapter's card records (None: every block)
    outside: tuple[tuple[str, float, float], ...] = ()  # LoRA modules outside every block: (name, update, base)

    @property
    def n_layers(self) -> int:
        return int(self.update.shape[0])

    @property
    def relative(self) -> Float[np.ndarray, "n_layers n_modules"]:
        """``||dW||_F / ||W||_F`` per block and module."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.update / self.base

    @property
    def layer_relative(self) -> Float[np.ndarray, " n_layers"]:
        """Per block: the norm of all its modules' updates over the norm of all their base weights."""
        known = np.isfinite(self.base)
        update = np.sqrt((np.where(known, self.update, 0.0) ** 2).sum(1))
        base = np.sqrt((np.where(known, self.base, 0.0) ** 2).sum(1))
        with np.errstate(invalid="ignore", divide="ignore"):
            return update / base


def _scaling(config: dict, module: str) -> float:
    """LoRA's scale for ``module``: alpha / r (alpha / sqrt(r) with rsLoRA), honouring per-module patterns."""
    rank = _pattern(config.get("rank_pattern") or {}, module, config.get("r"))
    alpha = _pattern(config.get("alpha_pattern") or {}, module, config.get("lora_alpha"))
    if not isinstance(rank, (int, float)) or not isinstance(alpha, (int, float)) or rank <= 0:
        raise NegprobeError(f"adapter config: r={rank!r}, lora_alpha={alpha!r} do not give a LoRA scale")
    return float(alpha) / (math.sqrt(rank) if config.get("use_rslora") else float(rank))


def _pattern(patterns: dict, module: str, default):
    """PEFT's ``rank_pattern`` / ``alpha_pattern``: the value of the first key the module name ends with."""
    for key, value in patterns.items():
        if re.match(rf"(.*\.)?{key}$", module):
            return value
    return default


def _lora_pairs(adapter: Path) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Module name (as the base model names it) -> (A, B) from the adapter's safetensors file."""
    from safetensors.torch import load_file

    tensors = load_file(str(adapter / "adapter_model.safetensors"))
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        for part in ("lora_A", "lora_B"):
            marker = f".{part}."
            if marker in key:
                name = key.split(marker)[0].removeprefix(_PREFIX)
                pairs.setdefault(name, {})[part] = value
    broken = [name for name, found in pairs.items() if len(found) != 2]
    if broken or not pairs:
        raise NegprobeError(f"adapter {adapter}: {'LoRA module ' + broken[0] + ' lacks A or B' if broken else 'no LoRA'}"
                            " weights (a LoRA adapter stores lora_A and lora_B per module)")
    return {name: (found["lora_A"], found["lora_B"]) for name, found in pairs.items()}


def _check_base(adapter: Path, card: dict | None, base: LoadedModel) -> None:
    expected = (card or {}).get("base_fingerprint")
    # an adapter card from before file fingerprints carries the tensor-hash one; load_model accepts both
    if expected and expected != base.base_fingerprint and not matches_tensors_scheme(base.model, expected):
        raise NegprobeError(f"adapter {adapter} was trained on base {(card or {}).get('base_name', '?')} [{expected}],"
                            f" not on {base.name} [{base.base_fingerprint}]")


@torch.no_grad()
def lora_update_norms(base: LoadedModel, adapter: str | Path) -> LoraUpdateNorms:
    """Per block and module, ``||scaling * B @ A||_F`` of ``adapter`` and ``||W||_F`` of ``base``'s weight.

    ``base`` is the plain base model (no adapter merged); an adapter whose negprobe card names
    another base is refused in one line, as are modules the base lacks or shapes that do not fit.
    """
    adapter = Path(adapter).expanduser()
    card = check_adapter_folder(adapter)
    _check_base(adapter, card, base)
    if base.adapter is not None:
        raise NegprobeError(f"lora_update_norms needs the plain base model, got {base.describe()}")
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    net = unwrap(base.model)
    modules = dict(net.named_modules())
    blocks = block_names(net)
    rows: dict[tuple[int, str], float] = {}
    outside = []
    for name, (a, b) in sorted(_lora_pairs(adapter).items()):
        weight = getattr(modules.get(name), "weight", None)
        if not isinstance(weight, torch.Tensor):
            raise NegprobeError(f"adapter {adapter} adapts {name}, which base {base.name} does not have")
        delta = (b.double() @ a.double()) * _scaling(config, name)
        if config.get("fan_in_fan_out"):
            delta = delta.T
        if tuple(delta.shape) != tuple(weight.shape):
            raise NegprobeError(f"adapter {adapter}: update of {name} is {tuple(delta.shape)}, its base weight"
                                f" {tuple(weight.shape)}")
        norm = float(torch.linalg.matrix_norm(delta))
        block = module_block(name, blocks)
        if block is None:
            outside.append((name, norm, float(torch.linalg.matrix_norm(weight.double()))))
        else:
            rows[(block, _kind(name, blocks))] = norm
    kinds = tuple(sorted({kind for _, kind in rows}))
    update = np.zeros((base.n_layers, len(kinds)))
    base_norm = np.full((base.n_layers, len(kinds)), np.nan)
    for prefix, layer in blocks.items():
        for j, kind in enumerate(kinds):
            update[layer, j] = rows.get((layer, kind), 0.0)
            weight = getattr(modules.get(f"{prefix}.{kind}"), "weight", None)
            if isinstance(weight, torch.Tensor):
                base_norm[layer, j] = float(torch.linalg.matrix_norm(weight.double()))
    window = (card or {}).get("layers")
    return LoraUpdateNorms(str(adapter), kinds, update, base_norm, tuple(window) if window else None, tuple(outside))


def _kind(name: str, blocks: dict[str, int]) -> str:
    """The module's name inside its block (``model.layers.3.mlp.up_proj`` -> ``mlp.up_proj``)."""
    prefix = next(p for p in blocks if name.startswith(p + "."))
    return name[len(prefix) + 1:]
