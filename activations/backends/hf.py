"""Plain transformers backend: forward hooks on the decoder blocks.

Only the requested positions are kept, and the forward pass stops right after the last
requested block, so no later layer, final norm or unembedding is computed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from jaxtyping import Float, Int
from torch import Tensor

from ..models import LoadedModel, decoder_layers
from ..positions import TokenSelection
from ..tokenize import TokenBatch
from .base import Backend, block_output, gather_positions


class _StopForward(Exception):
    """Raised from the last needed block's hook to skip the rest of the network."""


def capture_blocks(
    model: LoadedModel,
    batch: TokenBatch,
    layers: list[int],
    keep: Callable[[Float[Tensor, "batch seq d_model"]], Tensor] = lambda hidden: hidden,
    stop_early: bool = True,
) -> dict[int, Tensor]:
    """Run ``batch`` and return ``keep(output of block l)`` for every ``l`` in ``layers``.

    Hooks are removed in ``finally``; with ``stop_early`` the pass ends after the last requested
    block, so nothing after it (later blocks, final norm, unembedding) is computed.
    """
    blocks = decoder_layers(model.model)
    wanted = sorted(set(layers))
    captured: dict[int, Tensor] = {}

    def make_hook(layer: int):
        def hook(_module, _inputs, output):
            captured[layer] = keep(block_output(output))
            if stop_early and layer == wanted[-1]:
                raise _StopForward

        return hook

    handles = [blocks[layer].register_forward_hook(make_hook(layer)) for layer in wanted]
    device = model.device
    try:
        model.model(
            input_ids=batch.input_ids.to(device),
            attention_mask=batch.attention_mask.to(device),
            position_ids=batch.position_ids.to(device),
            use_cache=False,
        )
    except _StopForward:
        pass
    finally:
        for handle in handles:
            handle.remove()
    return captured


class HFBackend(Backend):
    name = "hf"

    def __init__(self, stop_early: bool = True):
        self.stop_early = stop_early

    @torch.inference_mode()
    def residuals(
        self,
        model: LoadedModel,
        batch: TokenBatch,
        layers: list[int],
        index: Int[Tensor, "batch n_positions"] | TokenSelection,
    ) -> Float[Tensor, "batch n_layers n_positions d_model"]:
        captured = capture_blocks(model, batch, layers, lambda hidden: gather_positions(hidden, index), self.stop_early)
        return torch.stack([captured[layer] for layer in layers], dim=1)
