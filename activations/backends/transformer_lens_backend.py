"""TransformerLens backend: ``TransformerBridge.boot_transformers`` around the same HF model.

TransformerLens 4.x has no HookedTransformer; the bridge wraps the loaded transformers model
(no second copy of the weights) and exposes ``blocks.{l}.hook_resid_post``.
"""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor

from ..models import LoadedModel
from ..positions import TokenSelection
from ..tokenize import TokenBatch
from .base import Backend, gather_positions


def bridge_for(model: LoadedModel):
    """Boot (once per loaded model) a TransformerBridge over the in-memory transformers model."""
    bridge = model.extra.get("transformer_lens_bridge")
    if bridge is None:
        from transformer_lens.model_bridge import TransformerBridge

        bridge = TransformerBridge.boot_transformers(
            model.source, hf_model=model.model, tokenizer=model.tokenizer, device=model.device, dtype=model.dtype
        )
        model.extra["transformer_lens_bridge"] = bridge
    return bridge


class TransformerLensBackend(Backend):
    name = "transformer_lens"

    @torch.inference_mode()
    def residuals(
        self,
        model: LoadedModel,
        batch: TokenBatch,
        layers: list[int],
        index: Int[Tensor, "batch n_positions"] | TokenSelection,
    ) -> Float[Tensor, "batch n_layers n_positions d_model"]:
        bridge = bridge_for(model)
        names = {f"blocks.{layer}.hook_resid_post" for layer in layers}
        device = model.device
        _, cache = bridge.run_with_cache(
            batch.input_ids.to(device),
            attention_mask=batch.attention_mask.to(device),
            position_ids=batch.position_ids.to(device),
            names_filter=lambda name: name in names,
        )
        return torch.stack(
            [gather_positions(cache[f"blocks.{layer}.hook_resid_post"], index) for layer in layers], dim=1
        )
