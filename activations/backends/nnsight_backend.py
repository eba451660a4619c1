"""nnsight backend: ``TransformersModel`` traces over the same HF model, or over a weightless handle.

``remote=True`` passes through to NDIF execution for models hosted there (hub ids), which is
how a user reads a model too large for their own machine; a handle from
:func:`.remote_model.load_remote_model` carries its own place of execution (NDIF, nnsight's
serialising dry run, or here). The trace body uses torch operations only, so it serialises for
NDIF without shipping negprobe's code.
"""

from __future__ import annotations

from typing import Any

import torch
from jaxtyping import Float, Int
from torch import Tensor

from ..models import LoadedModel, decoder_layers
from ..positions import TokenSelection
from ..tokenize import TokenBatch
from .base import Backend
from .remote_model import remote_failure, trace_options


def nnsight_model_for(model: LoadedModel):
    wrapped = model.extra.get("nnsight_model")
    if wrapped is None:
        from nnsight.modeling.transformers import TransformersModel

        wrapped = TransformersModel(model.model, tokenizer=model.tokenizer)
        model.extra["nnsight_model"] = wrapped
    return wrapped


def _envoy_blocks(wrapped, hf_model=None):
    """The nnsight envoys of the decoder blocks, found by the same attribute path as in HF (in
    ``hf_model``, by default the module nnsight wraps: the meta tree of a handle)."""
    hf_model = wrapped._module if hf_model is None else hf_model
    blocks = decoder_layers(hf_model)
    for name, module in hf_model.named_modules():
        if module is blocks:
            envoy = wrapped
            for attr in name.split("."):
                envoy = getattr(envoy, attr)
            return envoy
    raise RuntimeError("decoder layers not found in the nnsight envoy tree")


def block_hidden(out: Any) -> Any:
    """A decoder block's output residual: a tensor under transformers 5, the first item of a tuple before
    (an nnsight proxy inside a trace)."""
    return out if isinstance(out, torch.Tensor) else out[0]


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
        blocks = _envoy_blocks(wrapped)
        device = model.device
        inputs = {
            "input_ids": batch.input_ids.to(device),
            "attention_mask": batch.attention_mask.to(device),
            "position_ids": batch.position_ids.to(device),
        }
        selection = index if isinstance(index, TokenSelection) else TokenSelection(index)
        token, weights = selection.index, selection.weights
        rows = torch.arange(token.shape[0])[:, None]
        saved = {}
        try:
            with wrapped.trace(inputs, **trace_options(model.remote, self.remote)):
                for layer in sorted(set(layers)):  # envoys must be visited in execution order
                    hidden = block_hidden(blocks[layer].output)  # pyright: ignore[reportIndexIssue]  # envoy list
                    picked = hidden[rows.to(hidden.device), token.to(hidden.device)]
                    if weights is not None:  # span means where a position asks for one (TokenSelection.apply)
                        w = weights.to(hidden.device)
                        means = torch.einsum("bps,bsd->bpd", w.float(), hidden.float()).to(hidden.dtype)
                        picked = torch.where((w.sum(-1) > 0)[..., None], means, picked)
                    saved[layer] = picked.save()  # pyright: ignore[reportAttributeAccessIssue]  # nnsight proxy
        except Exception as exc:
            raise remote_failure(model.remote or ("ndif" if self.remote else None), exc) from None
        return torch.stack([saved[layer].detach() for layer in layers], dim=1)
