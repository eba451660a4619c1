"""Interventions on the post-block residual stream: patch, add (steer), capture.

Layer ``l`` is the output of decoder block ``l`` (before the final norm, for the last block), as
everywhere in negprobe. A *patch* overwrites that residual at chosen token positions with given
activations (e.g. cached from another run by :func:`cache_residuals`), so every later block sees
them there; an *addition* adds a delta instead (steering). :mod:`negprobe.activations.tracing`
builds layer x position sweeps and steering curves on these.

Positions given to :func:`run_with_patch` / :func:`run_with_addition` index the padded sequence
(a slice, a 1-D index shared by all rows, or a ``[batch, n]`` index per row; negative counts from
the end of the padded sequence).

Every hook is a forward hook on ``decoder_layers(model.model)`` that returns the edited output
(a tensor under transformers 5, or a tuple with its first item replaced), removed in ``finally``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from jaxtyping import Float, Int
from torch import Tensor

from negprobe.errors import NegprobeError

from .backends.base import block_output
from .backends.hf import capture_blocks
from .models import LoadedModel, decoder_layers
from .prefix_reuse import last_position_kwargs
from .tokenize import TokenBatch, tokenize

Positions = slice | Sequence[int] | Int[Tensor, " n"] | Int[Tensor, "batch n"]
Prompt = str | Sequence[int] | Int[Tensor, " seq"]
MetricFn = Callable[[Float[Tensor, "batch seq vocab"]], float | Tensor]
Edit = Callable[[Float[Tensor, "batch seq d_model"]], Float[Tensor, "batch seq d_model"]]


# --------------------------------------------------------------------------- running with edits


def _as_inputs(model: LoadedModel, input_ids, attention_mask) -> tuple[Tensor, Tensor]:
    input_ids = torch.as_tensor(input_ids, dtype=torch.long)
    if input_ids.ndim == 1:
        input_ids = input_ids[None]
    if input_ids.ndim != 2 or input_ids.shape[1] == 0:
        raise NegprobeError(f"input_ids must be [batch, seq] with seq > 0, got shape {tuple(input_ids.shape)}")
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    attention_mask = torch.as_tensor(attention_mask, dtype=torch.long)
    if attention_mask.ndim == 1:
        attention_mask = attention_mask[None]
    if attention_mask.shape != input_ids.shape:
        raise NegprobeError(
            f"attention_mask shape {tuple(attention_mask.shape)} differs from input_ids shape {tuple(input_ids.shape)}"
        )
    return input_ids, attention_mask


def edit_hook(edit: Edit):
    """A forward hook that replaces a block's output (tensor or tuple) by ``edit(output)``."""

    def hook(_module, _inputs, output):
        new = edit(block_output(output))
        return new if isinstance(output, Tensor) else (new, *output[1:])

    return hook


@torch.no_grad()
def _run(
    model: LoadedModel, input_ids: Tensor, attention_mask: Tensor, edits: Mapping[int, Edit], last_only: bool = False
) -> Float[Tensor, "batch seq vocab"]:
    """Logits of one forward pass with ``edits[layer]`` applied to block ``layer``'s output.

    ``last_only``: logits at the last (padded) position only, ``[batch, 1, vocab]``, without
    computing the others where the model supports ``logits_to_keep``.
    """
    blocks = decoder_layers(model.model)
    device = model.device
    position_ids = TokenBatch(input_ids, attention_mask, "right").position_ids
    handles = []
    try:
        for layer, edit in edits.items():
            handles.append(blocks[layer].register_forward_hook(edit_hook(edit)))
        out = model.model(
            input_ids=input_ids.to(device),
            attention_mask=attention_mask.to(device),
            position_ids=position_ids.to(device),
            use_cache=False,
            **(last_position_kwargs(model) if last_only else {}),
        )
    finally:
        for handle in handles:
            handle.remove()
    return out.logits[:, -1:] if last_only else out.logits


def check_edit_layers(model: LoadedModel, layers) -> list[int]:
    """Resolved layer indices; errors on a layer named twice."""
    resolved = model.check_layers(list(layers))
    if len(set(resolved)) != len(resolved):
        raise NegprobeError(f"layers {list(layers)} name the same layer twice")
    return resolved


def _seq_index(positions: Positions | None, batch: int, seq: int, layer: int) -> Int[Tensor, "batch n"]:
    """Padded-sequence indices ``[batch, n]`` (negative from the end); errors on bad or repeated ones."""
    if positions is None or isinstance(positions, slice):
        index = torch.arange(seq)[positions if positions is not None else slice(None)]
    elif isinstance(positions, (Tensor, np.ndarray)):
        index = torch.as_tensor(positions)
        if index.dtype.is_floating_point or index.dtype == torch.bool:
            raise NegprobeError(f"layer {layer}: positions must be integers, got {index.dtype}")
        index = index.long().cpu()
    else:
        items = list(positions)
        if any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) for p in items):
            raise NegprobeError(f"layer {layer}: positions must be integers, got {items!r}")
        index = torch.tensor(items, dtype=torch.long)
    if index.ndim == 1:
        index = index[None].expand(batch, -1)
    if index.ndim != 2 or index.shape[0] != batch:
        raise NegprobeError(
            f"layer {layer}: positions must be a slice, [n] or [batch={batch}, n], got shape {tuple(index.shape)}"
        )
    bad = (index < -seq) | (index >= seq)
    if bad.any():
        value = int(index[bad][0])
        raise NegprobeError(f"layer {layer}: position {value} is outside the sequence ({seq} tokens)")
    index = torch.where(index < 0, index + seq, index)
    if index.shape[1] > 1 and (index.sort(dim=1).values.diff(dim=1) == 0).any():
        raise NegprobeError(f"layer {layer}: positions repeat a token")
    return index


def _broadcast_values(values: Tensor, batch: int, n: int, d_model: int, layer: int, what: str) -> Tensor:
    values = torch.as_tensor(values)
    if values.ndim == 1:
        values = values[None, None].expand(batch, n, -1)
    elif values.ndim == 2:
        values = values[None].expand(batch, -1, -1)
    if values.ndim != 3 or values.shape[0] != batch or values.shape[1] != n or values.shape[2] != d_model:
        raise NegprobeError(
            f"layer {layer}: {what} of shape {tuple(values.shape)} do not fit {n} positions x d_model {d_model}"
            f" (batch {batch}): give [d_model], [n, d_model] or [batch, n, d_model]"
        )
    return values


def _build_edits(
    model: LoadedModel, input_ids: Tensor, items: Mapping[int, tuple], add: bool
) -> dict[int, Edit]:
    batch, seq = input_ids.shape
    layers = check_edit_layers(model, items) if items else []
    edits: dict[int, Edit] = {}
    for layer, (given, (positions, values)) in zip(layers, items.items()):
        if positions is None and add:
            delta = torch.as_tensor(values)
            if delta.shape != (model.d_model,):
                raise NegprobeError(f"layer {given}: a direction for every position must be [d_model={model.d_model}]")
            edits[layer] = _adder_everywhere(delta)
            continue
        index = _seq_index(positions, batch, seq, given)
        if index.shape[1] == 0:
            continue  # nothing to edit at this layer
        vals = _broadcast_values(values, batch, index.shape[1], model.d_model, given, "deltas" if add else "values")
        edits[layer] = _indexed_edit(index, vals, add)
    return edits


def _adder_everywhere(delta: Tensor) -> Edit:
    def edit(hidden: Tensor) -> Tensor:
        return hidden + delta.to(device=hidden.device, dtype=hidden.dtype)

    return edit


def _indexed_edit(index: Tensor, values: Tensor, add: bool) -> Edit:
    def edit(hidden: Tensor) -> Tensor:
        out = hidden.clone()
        rows = torch.arange(hidden.shape[0], device=hidden.device)[:, None]
        idx = index.to(hidden.device)
        vals = values.to(device=hidden.device, dtype=hidden.dtype)
        out[rows, idx] = out[rows, idx] + vals if add else vals
        return out

    return edit


def run_with_patch(
    model: LoadedModel,
    input_ids: Int[Tensor, "batch seq"],
    attention_mask: Int[Tensor, "batch seq"] | None = None,
    patches: Mapping[int, tuple[Positions, Tensor]] | None = None,
    last_only: bool = False,
) -> Float[Tensor, "batch seq vocab"]:
    """Logits with the residual after block ``layer`` replaced at ``positions`` by ``values``.

    ``patches`` maps ``layer -> (positions, values)``: positions index the padded sequence (see the
    module docstring); values are ``[batch, n, d_model]`` or ``[n, d_model]`` (same for every row).
    An empty dict, or zero positions, runs the model unchanged. ``last_only``: logits of the last
    padded position only (``[batch, 1, vocab]``; pad on the left to make it every row's last token).
    This is one full forward pass per call; :mod:`negprobe.activations.prefix_reuse` runs many
    patched variants of one prompt from a cached clean run instead.
    """
    input_ids, attention_mask = _as_inputs(model, input_ids, attention_mask)
    edits = _build_edits(model, input_ids, patches or {}, add=False)
    return _run(model, input_ids, attention_mask, edits, last_only)


def run_with_addition(
    model: LoadedModel,
    input_ids: Int[Tensor, "batch seq"],
    attention_mask: Int[Tensor, "batch seq"] | None = None,
    additions: Mapping[int, tuple[Positions | None, Tensor]] | None = None,
    last_only: bool = False,
) -> Float[Tensor, "batch seq vocab"]:
    """Logits with ``delta`` added to the residual after block ``layer`` (``positions=None``: everywhere).

    ``additions`` maps ``layer -> (positions, delta)``; delta is ``[d_model]`` (a direction, the same
    at every position), ``[n, d_model]`` or ``[batch, n, d_model]``.
    """
    input_ids, attention_mask = _as_inputs(model, input_ids, attention_mask)
    edits = _build_edits(model, input_ids, additions or {}, add=True)
    return _run(model, input_ids, attention_mask, edits)


@torch.no_grad()
def cache_residuals(
    model: LoadedModel,
    input_ids: Int[Tensor, "batch seq"],
    attention_mask: Int[Tensor, "batch seq"] | None = None,
    layers: Sequence[int] | None = None,
) -> Float[Tensor, "n_layers batch seq d_model"]:
    """Post-block residuals of every layer (or of ``layers``, in that order) at every position.

    The forward pass stops after the last layer needed (the HF backend's hooks).
    """
    input_ids, attention_mask = _as_inputs(model, input_ids, attention_mask)
    layers = model.check_layers(range(model.n_layers) if layers is None else list(layers))
    captured = capture_blocks(model, TokenBatch(input_ids, attention_mask, "right"), layers,
                              lambda hidden: hidden.detach())
    return torch.stack([captured[layer].to(captured[layers[-1]].device) for layer in layers])


# --------------------------------------------------------------------------- prompts


def prompt_ids(model: LoadedModel, prompt: Prompt) -> Int[Tensor, "1 seq"]:
    """Token ids ``[1, seq]`` of one prompt: text (the tokenizer's own BOS convention) or ids."""
    if isinstance(prompt, str):
        return tokenize(model.tokenizer, [prompt], max_length=model.max_length).input_ids
    ids = torch.as_tensor(prompt, dtype=torch.long).reshape(1, -1)
    if ids.shape[1] == 0:
        raise NegprobeError("prompt has no tokens")
    return ids
