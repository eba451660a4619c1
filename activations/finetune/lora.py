"""Attach a LoRA adapter (Hu et al. 2021) to a causal LM for training, with its AdamW optimizer."""

from __future__ import annotations

import torch

from negprobe.errors import NegprobeError


def attach_lora(base_model, r: int, alpha: int, targets: str | list[str], seed: int, lr: float,
                label: str | None = None):
    """The PEFT LoRA model (initialised under ``seed``) in train mode, and AdamW over its LoRA weights.

    ``targets``: PEFT ``target_modules`` ("all-linear", module names or full module paths); an error
    names ``label`` (the user's spelling of them) when given."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    lora = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=targets, task_type="CAUSAL_LM")
    try:
        model = get_peft_model(base_model, lora)
    except ValueError as exc:  # PEFT: target modules that match no layer of this model
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NegprobeError(f"target_modules {label or repr(targets)}: {first}") from None
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    return model, optimizer
