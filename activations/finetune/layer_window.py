"""Layer-restricted LoRA: the modules of a window of decoder blocks that an adapter may train.

``--layers a-b`` (inclusive block indices, ``k`` alone for one block) restricts LoRA to the
target modules inside decoder blocks ``a..b``: the layer-restricted fine-tuning that localises
where a fine-tuned behaviour is written by intervention (as Meng et al. 2022 edit one MLP layer
with ROME, and Hu et al. 2022's LoRA allows any subset of weight matrices). The window is turned
into an explicit list of full module names handed to PEFT as ``target_modules``, so the adapter
holds no parameter outside the window whatever ``target_modules`` was ("all-linear" or a regex,
matched as PEFT matches a string: ``re.fullmatch`` on the module's name).
"""

from __future__ import annotations

import re

from torch import nn

from negprobe.errors import NegprobeError

_WINDOW = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_window(text: str, flag: str = "--layers") -> tuple[int, int]:
    """``"a-b"`` -> ``(a, b)`` (inclusive, ``a <= b``); ``"k"`` -> ``(k, k)``; anything else is an error
    naming ``flag``."""
    match = _WINDOW.match(text)
    if not match:
        raise NegprobeError(f"{flag} {text!r}: expected a window of block indices like '0-9' or '12'")
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    if first > last:
        raise NegprobeError(f"{flag} {text!r}: the window's first block {first} is after its last {last}")
    return first, last


def _is_linear(module: nn.Module) -> bool:
    """The layers PEFT's ``all-linear`` adapts: ``nn.Linear`` and transformers' ``Conv1D`` (GPT-2)."""
    if isinstance(module, nn.Linear):
        return True
    return type(module).__name__ == "Conv1D" and hasattr(module, "weight")


def window_targets(model: nn.Module, target_modules: str, window: str) -> list[str]:
    """Full names of the modules of blocks ``a..b`` that ``target_modules`` selects (sorted, non-empty).

    Raises one :class:`NegprobeError` line when the window lies outside the model's blocks or
    selects no module.
    """
    from negprobe.activations.models import unwrap


    first, last = parse_window(window)
    net = unwrap(model)
    blocks = block_names(net)
    if last >= len(blocks):
        raise NegprobeError(f"--layers {window}: the model has decoder blocks 0..{len(blocks) - 1}")
    names = []
    for name, module in net.named_modules():
        block = module_block(name, blocks)
        if block is None or not first <= block <= last:
            continue
        wanted = _is_linear(module) if target_modules == "all-linear" else re.fullmatch(target_modules, name)
        if wanted:
            names.append(name)
    if not names:
        raise NegprobeError(f"--layers {window}: target_modules {target_modules!r} select no module in blocks"
                            f" {first}..{last}; nothing would be trained")
    return sorted(names)


def block_names(model: nn.Module) -> dict[str, int]:
    """Each decoder block's module name (as ``named_modules`` of the unwrapped model spells it) -> its index."""
    from negprobe.activations.models import decoder_layers, unwrap

    net = unwrap(model)
    index = {id(block): i for i, block in enumerate(decoder_layers(net))}
    return {name: index[id(module)] for name, module in net.named_modules() if id(module) in index}


def module_block(name: str, blocks: dict[str, int]) -> int | None:
    """The decoder block a module name lies in (``blocks`` from :func:`block_names`), else None.

    ``name`` may carry a wrapper's prefix (PEFT's ``base_model.model.``): the block name is
    matched as a dotted component sequence anywhere in it."""
    dotted = "." + name + "."
    return next((i for prefix, i in blocks.items() if "." + prefix + "." in dotted), None)
