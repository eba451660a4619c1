"""``read_residuals``: prompts in, post-block residuals at chosen token positions out."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from jaxtyping import Float
from torch import Tensor

from negprobe.errors import NegprobeError

from .backends import Backend, check_backend_fits, get_backend
from .models import LoadedModel
from .tokenize import TokenBatch, encode, pad_token_lists, token_index


def read_residuals(
    model: LoadedModel,
    prompts: Sequence[str],
    layers: Sequence[int] | None = None,
    positions: Sequence[int] = (-1,),
    backend: str | Backend = "hf",
    batch_size: int = 16,
    padding_side: str = "right",
    prepend_bos: bool | None = None,
    remote: bool = False,
) -> Float[Tensor, "n_prompts n_layers n_positions d_model"]:
    """Residual stream after each block in ``layers`` at token ``positions`` (-1 = last token).

    Prompts are batched in order of length to cut padding; the result is in prompt order, on CPU,
    in float32.
    """
    if isinstance(prompts, str):
        raise NegprobeError("prompts must be a list of strings, not one string")
    if len(prompts) == 0:
        raise NegprobeError("no prompts given")
    layer_list = model.check_layers(range(model.n_layers) if layers is None else list(layers))
    if isinstance(backend, str):
        backend = get_backend(backend, **({"remote": True} if remote else {}))
    check_backend_fits(model, backend)
    encoded = encode(model.tokenizer, prompts, prepend_bos)  # once: lengths for sorting and the batches
    pad_id = model.tokenizer.pad_token_id or 0
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
    out = torch.empty(len(prompts), len(layer_list), len(positions), model.d_model)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch: TokenBatch = pad_token_lists([encoded[i] for i in rows], pad_id, padding_side, model.max_length)
        index = token_index(batch, positions, prompt_ids=rows)
        out[rows] = backend.residuals(model, batch, layer_list, index).float().cpu()
    return out
