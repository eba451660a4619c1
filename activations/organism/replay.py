"""KL-regularised replay for the organism's supervised fine-tuning: the task loss on the answer tokens
plus ``kl_weight`` times KL(reference || model) over every token of generic replay text, the reference
being the frozen base model (the adapter switched off, or a frozen copy for full fine-tuning).

Matching the base's whole next-token distribution at every position of generic text constrains
language drift far more than cross-entropy on sampled replies (one token per position), the
regulariser of RLHF-style fine-tuning (Jaques et al. 2017 "Sequence Tutor"; Ziegler et al. 2019
"Fine-Tuning Language Models from Human Preferences").
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from jaxtyping import Float, Int

REPLAY_MODES: tuple[str, ...] = ("tokens", "kl")


def masked_kl(reference_logits: Float[torch.Tensor, "batch seq vocab"], logits: Float[torch.Tensor, "batch seq vocab"],
              mask: Int[torch.Tensor, "batch seq"]) -> Float[torch.Tensor, ""]:
    """Mean over unmasked positions of KL(softmax(reference) || softmax(logits)), in nats."""
    reference = torch.log_softmax(reference_logits.float(), dim=-1)
    model = torch.log_softmax(logits.float(), dim=-1)
    per_position = (reference.exp() * (reference - model)).sum(-1)
    weights = mask.to(per_position.dtype)
    return (per_position * weights).sum() / weights.sum().clamp_min(1.0)


@dataclass(frozen=True)
class ReplayOutput:
    loss: torch.Tensor  # task + kl_weight * kl (what the optimizer minimises)


class KLReplayModel(torch.nn.Module):
    """Wraps a trainable causal LM so that ``model(**batch).loss`` is the task loss plus the weighted KL
    to ``reference`` on the batch's ``replay_ids`` (what :func:`~negprobe.activations.finetune.loop.train_steps`
    minimises, unchanged)."""

    model: torch.nn.Module
    reference: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def __init__(self, model: torch.nn.Module, reference: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 kl_weight: float) -> None:
        super().__init__()
        self.model = model
        self.reference = reference
        self.kl_weight = kl_weight

    def get_input_embeddings(self):
        return self.model.get_input_embeddings()  # type: ignore[operator]  (a transformers model's method)

    def forward(self, input_ids, attention_mask, labels, replay_ids, replay_mask) -> ReplayOutput:
        task = self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
        logits = self.model(input_ids=replay_ids, attention_mask=replay_mask).logits
        with torch.no_grad():
            reference = self.reference(replay_ids, replay_mask)
        kl = masked_kl(reference, logits, replay_mask)
        return ReplayOutput(task + self.kl_weight * kl)


def frozen_reference(model: torch.nn.Module, lora: bool) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The base model's logits: the PEFT ``model`` with its adapter disabled (``lora``), else a frozen copy
    of ``model`` taken now, before any update."""
    if lora:
        def with_adapter_off(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            with model.disable_adapter():  # type: ignore[operator]
                return model(input_ids=ids, attention_mask=mask).logits
        return with_adapter_off
    frozen = copy.deepcopy(model).eval().requires_grad_(False)
    return lambda ids, mask: frozen(input_ids=ids, attention_mask=mask).logits
