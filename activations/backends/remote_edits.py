"""Patching and steering through a weightless handle: the clean trace and the edited runs of
:mod:`negprobe.activations.prefix_reuse` as nnsight traces (Fiotto-Kaufman et al. 2024, "NNsight and NDIF").

A handle (:func:`.remote_model.load_remote_model`) has no weights here, so the prefix reuse's block
replay cannot run; instead each edited row runs the whole model where nnsight runs it, with the
residual after block ``starts[r]`` *replaced* by ``hidden[r]`` (the clean residual with the edit
applied, as :func:`~negprobe.activations.prefix_reuse.run_from` takes it). Blocks ``0..starts[r]``
recompute the clean run, so the row continues from exactly the state a replay starts from: the same
logits up to float rounding, at the cost of a full forward pass per row (NDIF's, not this machine's).
Only the last position's logits (and the residuals at ``read_positions``) come back.

The trace bodies use torch operations on nnsight proxies only, so they serialise for NDIF.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from jaxtyping import Float, Int
from torch import Tensor

from ..models import LoadedModel
from .nnsight_backend import _envoy_blocks, block_hidden, nnsight_model_for
from .remote_model import remote_failure, trace_options


@torch.inference_mode()
def remote_clean_trace(model: LoadedModel, input_ids: Int[Tensor, "1 seq"]
                       ) -> tuple[Float[Tensor, "n_layers seq d_model"], Float[Tensor, " vocab"]]:
    """Every block's output and the last position's logits of one unpadded prompt, in one trace."""
    wrapped = nnsight_model_for(model)
    blocks = _envoy_blocks(wrapped)
    inputs = {"input_ids": input_ids.cpu(), "attention_mask": torch.ones_like(input_ids).cpu()}
    saved = []
    try:
        with wrapped.trace(inputs, **trace_options(model.remote)):
            for layer in range(model.n_layers):
                saved.append(block_hidden(blocks[layer].output)[0].save())
            logits = wrapped.output.logits[0, -1].save()  # pyright: ignore[reportAttributeAccessIssue]
    except Exception as exc:
        raise remote_failure(model.remote, exc) from None
    return torch.stack([s.detach() for s in saved]), logits.detach()


@torch.inference_mode()
def remote_edited_rows(model: LoadedModel, input_ids: Int[Tensor, "1 seq"], starts: Int[Tensor, " n"],
                       hidden: Float[Tensor, "n seq d_model"], read_positions: Sequence[int] | None = None
                       ) -> tuple[Float[Tensor, "n vocab"], Float[Tensor, "n n_layers n_read d_model"] | None]:
    """One batch of edited rows of one prompt: row ``r`` runs with block ``starts[r]``'s output replaced by
    ``hidden[r]``; its last-position logits and, with ``read_positions``, its residual there after every block."""
    wrapped = nnsight_model_for(model)
    blocks = _envoy_blocks(wrapped)
    n = int(starts.shape[0])
    ids = input_ids.reshape(1, -1).cpu().expand(n, -1).contiguous()
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    values = hidden.detach().to(dtype=model.dtype).cpu()
    edits = {int(layer): torch.nonzero(starts == layer).flatten() for layer in torch.unique(starts)}
    read = list(read_positions) if read_positions is not None else None
    first = 0 if read is not None else min(edits)
    reads = []
    try:
        with wrapped.trace(inputs, **trace_options(model.remote)):
            for layer in range(first, model.n_layers):  # envoys in execution order
                h = block_hidden(blocks[layer].output)  # pyright: ignore[reportIndexIssue]  # nnsight envoy list
                if layer in edits:
                    rows = edits[layer]
                    h[rows] = values[rows].to(h.device)
                if read is not None:
                    reads.append(h[:, read].save())
            logits = wrapped.output.logits[:, -1].save()  # pyright: ignore[reportAttributeAccessIssue]
    except Exception as exc:
        raise remote_failure(model.remote, exc) from None
    got = torch.stack([r.detach().cpu() for r in reads], dim=1) if read is not None else None
    return logits.detach().float().cpu(), got
