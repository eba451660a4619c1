"""Activation patching and steering on the post-block residual stream.

Layer ``l`` is the output of decoder block ``l`` (before the final norm, for the last block), as
everywhere in negprobe. A *patch* overwrites that residual at chosen token positions with
activations cached from another (source) run, so every later block sees the source's state there:
the layer x position heatmap of causal tracing (Meng et al. 2022, "ROME"), read as Heimersheim &
Nanda (2024) advise (a logit-difference metric, normalised between the clean and corrupt runs by
:func:`normalized_indirect_effect`). *Steering* adds ``alpha * direction`` instead (Marks & Tegmark
2023, who add a truth direction to flip a model's true/false judgement).

Positions given to :func:`run_with_patch` / :func:`run_with_addition` index the padded sequence
(a slice, a 1-D index shared by all rows, or a ``[batch, n]`` index per row; negative counts from
the end of the padded sequence). :func:`patch_sweep` and :func:`steer` take token positions of
each prompt instead (``0`` = first real token, ``-1`` = last), so source and target prompts of
different lengths align by an explicit one-to-one mapping, e.g. the claim's tokens after an
annotated vs a plain document.

Every hook is a forward hook on ``decoder_layers(model.model)`` that returns the edited output
(a tensor under transformers 5, or a tuple with its first item replaced), removed in ``finally``.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence, Union

import numpy as np
import torch
from jaxtyping import Float, Int
from torch import Tensor

from negprobe.activations.backends.base import block_output
from negprobe.activations.backends.hf import capture_blocks
from negprobe.errors import NegprobeError
from negprobe.activations.models import LoadedModel, decoder_layers
from negprobe.activations.tokenize import TokenBatch, token_index, tokenize

Positions = Union[slice, Sequence[int], Int[Tensor, " n"], Int[Tensor, "batch n"]]
Prompt = Union[str, Sequence[int], Int[Tensor, " seq"]]
MetricFn = Callable[[Float[Tensor, "batch seq vocab"]], Union[float, Tensor]]
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


def _edit_hook(edit: Edit):
    def hook(_module, _inputs, output):
        new = edit(block_output(output))
        return new if isinstance(output, Tensor) else (new, *output[1:])

    return hook


@torch.no_grad()
def _run(
    model: LoadedModel, input_ids: Tensor, attention_mask: Tensor, edits: Mapping[int, Edit]
) -> Float[Tensor, "batch seq vocab"]:
    """Logits of one forward pass with ``edits[layer]`` applied to block ``layer``'s output."""
    blocks = decoder_layers(model.model)
    device = model.device
    position_ids = TokenBatch(input_ids, attention_mask, "right").position_ids
    handles = []
    try:
        for layer, edit in edits.items():
            handles.append(blocks[layer].register_forward_hook(_edit_hook(edit)))
        out = model.model(
            input_ids=input_ids.to(device),
            attention_mask=attention_mask.to(device),
            position_ids=position_ids.to(device),
            use_cache=False,
        )
    finally:
        for handle in handles:
            handle.remove()
    return out.logits


def _check_edit_layers(model: LoadedModel, layers) -> list[int]:
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
    layers = _check_edit_layers(model, items) if items else []
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
) -> Float[Tensor, "batch seq vocab"]:
    """Logits with the residual after block ``layer`` replaced at ``positions`` by ``values``.

    ``patches`` maps ``layer -> (positions, values)``: positions index the padded sequence (see the
    module docstring); values are ``[batch, n, d_model]`` or ``[n, d_model]`` (same for every row).
    An empty dict, or zero positions, runs the model unchanged.
    """
    input_ids, attention_mask = _as_inputs(model, input_ids, attention_mask)
    edits = _build_edits(model, input_ids, patches or {}, add=False)
    return _run(model, input_ids, attention_mask, edits)


def run_with_addition(
    model: LoadedModel,
    input_ids: Int[Tensor, "batch seq"],
    attention_mask: Int[Tensor, "batch seq"] | None = None,
    additions: Mapping[int, tuple[Positions | None, Tensor]] | None = None,
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


# --------------------------------------------------------------------------- sweeps


def prompt_ids(model: LoadedModel, prompt: Prompt) -> Int[Tensor, "1 seq"]:
    """Token ids ``[1, seq]`` of one prompt: text (the tokenizer's own BOS convention) or ids."""
    if isinstance(prompt, str):
        return tokenize(model.tokenizer, [prompt], max_length=model.max_length).input_ids
    ids = torch.as_tensor(prompt, dtype=torch.long).reshape(1, -1)
    if ids.shape[1] == 0:
        raise NegprobeError("prompt has no tokens")
    return ids


def _token_positions(positions: Sequence[int], length: int, name: str) -> list[int]:
    out = []
    for p in positions:
        resolved = p + length if p < 0 else p
        if not 0 <= resolved < length:
            raise NegprobeError(f"{name} position {p} is outside the prompt ({length} tokens)")
        out.append(resolved)
    if len(set(out)) != len(out):
        raise NegprobeError(f"{name} positions {list(positions)} repeat a token")
    return out


def _aligned_positions(src_ids: Tensor, tgt_ids: Tensor, source_positions, target_positions):
    source_positions, target_positions = list(source_positions), list(target_positions)
    if len(source_positions) != len(target_positions):
        raise NegprobeError(
            "source and target positions must align one to one:"
            f" got {len(source_positions)} and {len(target_positions)}"
        )
    if not source_positions:
        raise NegprobeError("no positions to patch")
    src = _token_positions(source_positions, src_ids.shape[1], "source")
    tgt = _token_positions(target_positions, tgt_ids.shape[1], "target")
    return src, tgt


def _metric(metric_fn: MetricFn, logits: Tensor) -> float:
    value = metric_fn(logits)
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        raise NegprobeError(f"metric_fn must return one number, got {type(value).__name__}") from None


def patch_sweep(
    model: LoadedModel,
    source_prompt: Prompt,
    target_prompt: Prompt,
    source_positions: Sequence[int],
    target_positions: Sequence[int],
    metric_fn: MetricFn,
    layers: Sequence[int] | None = None,
    batch_size: int = 16,
) -> Float[Tensor, "n_layers n_positions"]:
    """``metric_fn(logits)`` of the target run with one aligned position patched from the source.

    Entry ``[i, j]`` patches the residual after block ``layers[i]`` at target token
    ``target_positions[j]`` with the source's residual at ``source_positions[j]`` (token positions
    of each prompt, negative from the end). ``metric_fn`` sees ``[1, seq, vocab]`` logits of the
    target prompt. Patched runs are batched ``batch_size`` at a time (one position per row).
    """
    src_ids, tgt_ids = prompt_ids(model, source_prompt), prompt_ids(model, target_prompt)
    src, tgt = _aligned_positions(src_ids, tgt_ids, source_positions, target_positions)
    layers = model.check_layers(range(model.n_layers) if layers is None else list(layers))
    cache = cache_residuals(model, src_ids, layers=layers)[:, 0]  # [L, src_seq, d]
    out = torch.empty(len(layers), len(tgt))
    for i, layer in enumerate(layers):
        for start in range(0, len(tgt), max(1, batch_size)):
            chunk = range(start, min(start + max(1, batch_size), len(tgt)))
            rows = len(chunk)
            index = torch.tensor([[tgt[j]] for j in chunk])
            values = cache[i, [src[j] for j in chunk]][:, None]  # [rows, 1, d]
            logits = run_with_patch(model, tgt_ids.expand(rows, -1), None, {layer: (index, values)})
            for r, j in enumerate(chunk):
                out[i, j] = _metric(metric_fn, logits[r : r + 1])
    return out


def patch_sweep_all_positions(
    model: LoadedModel,
    source_prompt: Prompt,
    target_prompt: Prompt,
    source_positions: Sequence[int],
    target_positions: Sequence[int],
    metric_fn: MetricFn,
    layers: Sequence[int] | None = None,
) -> Float[Tensor, " n_layers"]:
    """As :func:`patch_sweep`, but patching every aligned position at once, one layer at a time."""
    src_ids, tgt_ids = prompt_ids(model, source_prompt), prompt_ids(model, target_prompt)
    src, tgt = _aligned_positions(src_ids, tgt_ids, source_positions, target_positions)
    layers = model.check_layers(range(model.n_layers) if layers is None else list(layers))
    cache = cache_residuals(model, src_ids, layers=layers)[:, 0]
    out = torch.empty(len(layers))
    for i, layer in enumerate(layers):
        logits = run_with_patch(model, tgt_ids, None, {layer: (tgt, cache[i, src])})
        out[i] = _metric(metric_fn, logits)
    return out


@torch.no_grad()
def patched_residuals(
    model: LoadedModel,
    source_prompt: Prompt,
    target_prompt: Prompt,
    source_positions: Sequence[int],
    target_positions: Sequence[int],
    read_positions: Sequence[int],
    patch_layers: Sequence[int],
    read_layers: Sequence[int] | None = None,
) -> Float[Tensor, "n_patch n_read_layers n_read_positions d_model"]:
    """Residuals of the target run at ``read_positions`` after every block in ``read_layers``, with
    all aligned positions patched from the source after one block at a time.

    Entry ``[i, j]`` reads the target with ``target_positions`` overwritten by the source's residual
    at ``source_positions`` after block ``patch_layers[i]`` (token positions of each prompt, negative
    from the end), read after block ``read_layers[j]``. A truth probe applied to it gives the
    patched readout at later layers (Meng et al. 2022's causal tracing with a probe as the metric,
    as Marks & Tegmark 2023 patch truth representations). One batched pass, one row per patch layer;
    nothing after the last read layer is computed.
    """
    src_ids, tgt_ids = prompt_ids(model, source_prompt), prompt_ids(model, target_prompt)
    src, tgt = _aligned_positions(src_ids, tgt_ids, source_positions, target_positions)
    read = _token_positions(read_positions, tgt_ids.shape[1], "read")
    patch_layers = _check_edit_layers(model, patch_layers)
    if not patch_layers:
        raise NegprobeError("no layers to patch")
    read_layers = model.check_layers(range(model.n_layers) if read_layers is None else list(read_layers))
    cache = cache_residuals(model, src_ids, layers=patch_layers)[:, 0]  # [P, src_seq, d]
    batch = TokenBatch(tgt_ids.expand(len(patch_layers), -1).clone(), torch.ones(len(patch_layers), tgt_ids.shape[1],
                                                                                 dtype=torch.long), "right")
    blocks = decoder_layers(model.model)
    handles = []
    try:  # edit hooks first: a capture hook on the same block then sees the patched output
        for row, layer in enumerate(patch_layers):
            handles.append(blocks[layer].register_forward_hook(_edit_hook(_row_patch(row, tgt, cache[row, src]))))
        captured = capture_blocks(model, batch, read_layers, lambda hidden: hidden[:, read].detach())
    finally:
        for handle in handles:
            handle.remove()
    return torch.stack([captured[layer].to(captured[read_layers[-1]].device) for layer in read_layers], dim=1)


def _row_patch(row: int, positions: list[int], values: Tensor) -> Edit:
    """Overwrite ``positions`` of batch row ``row`` only (one patch layer per row)."""

    def edit(hidden: Tensor) -> Tensor:
        out = hidden.clone()
        out[row, positions] = values.to(device=hidden.device, dtype=hidden.dtype)
        return out

    return edit


# --------------------------------------------------------------------------- steering


def steer(
    model: LoadedModel,
    prompts: str | Sequence[str],
    layer: int,
    direction: Float[Tensor, " d_model"],
    alphas: Sequence[float],
    metric_fn: MetricFn,
    positions: Sequence[int] | None = None,
) -> Float[Tensor, " n_alphas"]:
    """``metric_fn(logits)`` with ``alpha * direction`` added after block ``layer``, per alpha.

    Marks & Tegmark (2023) steer with a truth direction (mass-mean difference) this way. The
    direction is used as given (not normalised). ``positions``: token positions of each prompt
    (negative from the end); ``None`` adds at every position. Prompts are left-padded into one
    batch, so ``logits[:, -1]`` is every prompt's last token.
    """
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    (layer,) = model.check_layers([layer])
    direction = torch.as_tensor(direction)
    if direction.shape != (model.d_model,):
        raise NegprobeError(f"direction has shape {tuple(direction.shape)}, expected [d_model={model.d_model}]")
    batch = tokenize(model.tokenizer, prompts, padding_side="left", max_length=model.max_length)
    index = None if positions is None else token_index(batch, list(positions))
    out = torch.empty(len(alphas))
    for k, alpha in enumerate(alphas):
        delta = float(alpha) * direction
        logits = run_with_addition(model, batch.input_ids, batch.attention_mask, {layer: (index, delta)})
        out[k] = _metric(metric_fn, logits)
    return out


def normalized_indirect_effect(metric_clean, metric_patched, metric_corrupt, eps: float = 1e-12):
    """``(patched - corrupt) / (clean - corrupt)``: 0 = no effect, 1 = patching restores the clean run.

    "clean" is the source run, "corrupt" the unpatched target run (Meng et al. 2022; Heimersheim &
    Nanda 2024). Works elementwise on floats, arrays or tensors; NaN where ``|clean - corrupt| <= eps``
    (the two runs do not differ, so the effect is undefined).
    """
    if any(isinstance(m, Tensor) for m in (metric_clean, metric_patched, metric_corrupt)):
        ref = next(m for m in (metric_patched, metric_clean, metric_corrupt) if isinstance(m, Tensor))
        clean, patched, corrupt = (torch.as_tensor(m, dtype=torch.float64, device=ref.device)
                                   for m in (metric_clean, metric_patched, metric_corrupt))
        denom = clean - corrupt
        ok = denom.abs() > eps
        return torch.where(ok, (patched - corrupt) / torch.where(ok, denom, torch.ones_like(denom)),
                           torch.full_like(denom, float("nan")))
    clean, patched, corrupt = (np.asarray(m, dtype=np.float64) for m in (metric_clean, metric_patched, metric_corrupt))
    denom = clean - corrupt
    ok = np.abs(denom) > eps
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(ok, (patched - corrupt) / np.where(ok, denom, 1.0), np.nan)
    return float(value) if value.ndim == 0 else value
