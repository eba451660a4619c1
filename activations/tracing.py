"""Causal tracing and steering sweeps: one metric per patched layer, position or steering strength.

A patch sweep runs a target prompt with the residual after one block overwritten, at aligned
token positions, by a source prompt's residual: the layer x position heatmap of causal tracing
(Meng et al. 2022, "ROME"), read as Heimersheim & Nanda (2024) advise (a logit-difference metric,
normalised between the clean and corrupt runs by
:func:`negprobe.analysis.indirect_effect.normalized_indirect_effect`). *Steering* adds
``alpha * direction`` instead (Marks & Tegmark 2023, who add a truth direction to flip a model's
true/false judgement).

Positions here are token positions of each prompt (``0`` = first real token, ``-1`` = last), so
source and target prompts of different lengths align by an explicit one-to-one mapping, e.g. the
claim's tokens after an annotated vs a plain document. The hooks are those of
:mod:`negprobe.activations.interventions`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from jaxtyping import Float
from torch import Tensor

from negprobe.errors import NegprobeError

from .backends.hf import capture_blocks
from .interventions import (
    Edit,
    MetricFn,
    Prompt,
    cache_residuals,
    check_edit_layers,
    edit_hook,
    prompt_ids,
    run_with_addition,
    run_with_patch,
)
from .models import LoadedModel, decoder_layers
from .tokenize import TokenBatch, token_index, tokenize


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
    patch_layers = check_edit_layers(model, patch_layers)
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
            handles.append(blocks[layer].register_forward_hook(edit_hook(_row_patch(row, tgt, cache[row, src]))))
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
