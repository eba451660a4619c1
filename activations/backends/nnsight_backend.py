"""nnsight backend: ``TransformersModel`` traces over the same HF model.

``remote=True`` passes through to NDIF execution for models hosted there (hub ids), which is
how a user reads a model too large for their own machine.
"""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor

from ..models import LoadedModel, decoder_layers
from ..positions import TokenSelection
from ..tokenize import TokenBatch
from .base import Backend, block_output, gather_positions


def nnsight_model_for(model: LoadedModel):
    wrapped = model.extra.get("nnsight_model")
    if wrapped is None:
        from nnsight.modeling.transformers import TransformersModel

        wrapped = TransformersModel(model.model, tokenizer=model.tokenizer)
        model.extra["nnsight_model"] = wrapped
    return wrapped


def _envoy_blocks(wrapped, hf_model):
    """The nnsight envoys of the decoder blocks, found by the same attribute path as in HF."""
    blocks = decoder_layers(hf_model)
    for name, module in hf_model.named_modules():
        if module is blocks:
            envoy = wrapped
            for attr in name.split("."):
                envoy = getattr(envoy, attr)
            return envoy
    raise RuntimeError("decoder layers not found in the nnsight envoy tree")


class NNsightBackend(Backend):
    name = "nnsight"

    def __init__(self, remote: bool = False):
        self.remote = remote

    @torch.inference_mode()
    def residuals(
        self,
        model: LoadedModel,
        batch: TokenBatch,
        layers: list[int],
        index: Int[Tensor, "batch n_positions"] | TokenSelection,
    ) -> Float[Tensor, "batch n_layers n_positions d_model"]:
        wrapped = nnsight_model_for(model)
        blocks = _envoy_blocks(wrapped, model.model)
        device = model.device
        inputs = {
            "input_ids": batch.input_ids.to(device),
            "attention_mask": batch.attention_mask.to(device),
            "position_ids": batch.position_ids.to(device),
        }
        saved = {}
        trace_kwargs = {"remote": True} if self.remote else {}
        with wrapped.trace(inputs, **trace_kwargs):
            for layer in sorted(set(layers)):  # envoys must be visited in execution order
                saved[layer] = gather_positions(block_output(blocks[layer].output), index).save()  # pyright: ignore[reportAttributeAccessIssue]  # nnsight proxy method
        return torch.stack([saved[layer] for layer in layers], dim=1)
