"""Causal tracing and steering sweeps: one metric per patched layer, position or steering strength.

A patch sweep runs a target prompt with the residual after one block overwritten, at aligned
token positions, by a source prompt's residual: the layer x position heatmap of causal tracing
(Meng et al. 2022, "ROME"), read as Heimersheim & Nanda (2024) advise (a logit-difference metric,
normalised between the clean and corrupt runs by
:func:`negprobe.analysis.indirect_effect.normalized_indirect_effect`). *Steering* adds
``alpha * direction`` instead (Marks & Tegmark 2023, who add a truth direction to flip a model's
true/false judgement).

Every sweep runs through :mod:`negprobe.activations.prefix_reuse`: one clean run of the target is
cached, each variant recomputes only the blocks after its edit, all variants of one target share
batches, and only the last position's logits are computed. ``metric_fn`` therefore sees
``[rows, 1, vocab]`` logits of the last position (``logits[:, -1]`` reads them as before).

Positions here are token positions of each prompt (``0`` = first real token, ``-1`` = last), so
source and target prompts of different lengths align by an explicit one-to-one mapping, e.g. the
claim's tokens after an annotated vs a plain document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from jaxtyping import Float
from torch import Tensor

from negprobe.errors import NegprobeError

from .interventions import MetricFn, Prompt, check_edit_layers, prompt_ids
from .models import LoadedModel
from .prefix_reuse import CleanTrace, Progress, added_hidden, patched_hidden, run_from, trace_prompt

Readout = Callable[[Float[Tensor, "rows vocab"]], Tensor]  # last-position logits -> one value (or vector) per row


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


def _aligned_positions(src_len: int, tgt_len: int, source_positions, target_positions):
    source_positions, target_positions = list(source_positions), list(target_positions)
    if len(source_positions) != len(target_positions):
        raise NegprobeError(
            "source and target positions must align one to one:"
            f" got {len(source_positions)} and {len(target_positions)}"
        )
    if not source_positions:
        raise NegprobeError("no positions to patch")
    return (_token_positions(source_positions, src_len, "source"),
            _token_positions(target_positions, tgt_len, "target"))


def _metric(metric_fn: MetricFn, logits: Tensor) -> float:
    value = metric_fn(logits)
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        raise NegprobeError(f"metric_fn must return one number, got {type(value).__name__}") from None


def _traces(model: LoadedModel, source_prompt: Prompt, target_prompt: Prompt) -> tuple[CleanTrace, CleanTrace]:
    return trace_prompt(model, prompt_ids(model, source_prompt)), trace_prompt(model, prompt_ids(model, target_prompt))


# --------------------------------------------------------------------------- batched patches of one target


@dataclass(frozen=True, eq=False)
class LayerPatch:
    """Overwrite ``target_positions`` after each patched layer with ``values[i]`` (one row per layer).

    ``values`` are a source run's residuals at the aligned source positions, e.g.
    ``source_trace.residuals[layers][:, source_positions]``.
    """

    target_positions: tuple[int, ...]
    values: Float[Tensor, "n_layers n d_model"]

    @classmethod
    def from_trace(cls, source: CleanTrace, layers: Sequence[int], source_positions: Sequence[int],
                   target_positions: Sequence[int]) -> LayerPatch:
        if len(source_positions) != len(target_positions) or not len(source_positions):
            raise NegprobeError(f"source and target positions must align one to one and be non-empty: got "
                                f"{len(source_positions)} and {len(target_positions)}")
        return cls(tuple(target_positions), source.residuals[list(layers)][:, list(source_positions)])


def run_layer_patches(
    model: LoadedModel,
    target: CleanTrace,
    layers: Sequence[int],
    patches: Sequence[LayerPatch],
    readout: Readout,
    max_rows: int = 64,
    progress: Progress | None = None,
) -> Tensor:
    """``readout`` of the target's last-position logits for every (patch, layer): ``[n_patches, n_layers, ...]``.

    Each patch's ``len(layers)`` variants run in shared batches from the target's clean trace
    (prefix reuse), recomputing only the positions from the patch's first changed token on;
    ``layers`` must be resolved indices.
    """
    layers = list(layers)
    if not patches:
        raise NegprobeError("no patches to run")
    values = []
    for patch in patches:
        if patch.values.shape[:2] != (len(layers), len(patch.target_positions)):
            raise NegprobeError(f"patch values of shape {tuple(patch.values.shape)} do not fit {len(layers)} layers x "
                                f"{len(patch.target_positions)} positions")
        hidden = patched_hidden(target, layers, patch.target_positions, patch.values)
        values.append(readout(run_from(model, target, layers, hidden, max_rows=max_rows, progress=progress).logits))
    return torch.stack(values)


# --------------------------------------------------------------------------- sweeps


def patch_sweep(
    model: LoadedModel,
    source_prompt: Prompt,
    target_prompt: Prompt,
    source_positions: Sequence[int],
    target_positions: Sequence[int],
    metric_fn: MetricFn,
    layers: Sequence[int] | None = None,
    batch_size: int = 64,
) -> Float[Tensor, "n_layers n_positions"]:
    """``metric_fn(logits)`` of the target run with one aligned position patched from the source.

    Entry ``[i, j]`` patches the residual after block ``layers[i]`` at target token
    ``target_positions[j]`` with the source's residual at ``source_positions[j]`` (token positions
    of each prompt, negative from the end). ``metric_fn`` sees ``[1, 1, vocab]`` logits of the
    target's last position. Variants run ``batch_size`` rows at a time from the cached clean run.
    """
    source, target = _traces(model, source_prompt, target_prompt)
    src, tgt = _aligned_positions(source.seq, target.seq, source_positions, target_positions)
    layers = model.check_layers(range(model.n_layers) if layers is None else list(layers))
    patches = [LayerPatch.from_trace(source, layers, [s], [t]) for s, t in zip(src, tgt)]
    logits = run_layer_patches(model, target, layers, patches, lambda x: x, max_rows=batch_size)  # [P, L, V]
    out = torch.empty(len(layers), len(tgt))
    for i in range(len(layers)):
        for j in range(len(tgt)):
            out[i, j] = _metric(metric_fn, logits[j, i][None, None])
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
    source, target = _traces(model, source_prompt, target_prompt)
    src, tgt = _aligned_positions(source.seq, target.seq, source_positions, target_positions)
    layers = model.check_layers(range(model.n_layers) if layers is None else list(layers))
    logits = run_layer_patches(model, target, layers, [LayerPatch.from_trace(source, layers, src, tgt)], lambda x: x)
    return torch.tensor([_metric(metric_fn, logits[0, i][None, None]) for i in range(len(layers))])


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
    as Marks & Tegmark 2023 patch truth representations). One batch from the cached clean run,
    one row per patch layer.
    """
    source, target = _traces(model, source_prompt, target_prompt)
    src, tgt = _aligned_positions(source.seq, target.seq, source_positions, target_positions)
    read = _token_positions(read_positions, target.seq, "read")
    patch_layers = check_edit_layers(model, patch_layers)
    if not patch_layers:
        raise NegprobeError("no layers to patch")
    read_layers = model.check_layers(range(model.n_layers) if read_layers is None else list(read_layers))
    values = source.residuals[patch_layers][:, src]
    out = run_from(model, target, patch_layers, patched_hidden(target, patch_layers, tgt, values), read_positions=read)
    assert out.reads is not None
    return out.reads[:, read_layers]


# --------------------------------------------------------------------------- steering


def run_additions(
    model: LoadedModel,
    target: CleanTrace,
    layer: int,
    deltas: Float[Tensor, "n d_model"],
    readout: Readout,
    positions: Sequence[int] | None = None,
) -> Tensor:
    """``readout`` of the last-position logits with ``deltas[i]`` added after block ``layer`` (one row each)."""
    out = run_from(model, target, [layer] * len(deltas), added_hidden(target, layer, deltas, positions))
    return readout(out.logits)


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
    (negative from the end); ``None`` adds at every position. ``metric_fn`` sees the
    ``[n_prompts, 1, vocab]`` last-position logits of all prompts at one alpha.
    """
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    (layer,) = model.check_layers([layer])
    direction = torch.as_tensor(direction, dtype=torch.float32)
    if direction.shape != (model.d_model,):
        raise NegprobeError(f"direction has shape {tuple(direction.shape)}, expected [d_model={model.d_model}]")
    deltas = torch.stack([float(alpha) * direction for alpha in alphas])
    per_prompt = []
    for k, prompt in enumerate(prompts):
        target = trace_prompt(model, prompt_ids(model, prompt))
        where = None
        if positions is not None:
            try:
                where = _token_positions(positions, target.seq, "steering")
            except NegprobeError as exc:
                raise NegprobeError(f"outside prompt {k}: {exc}") from None
        per_prompt.append(run_additions(model, target, layer, deltas, lambda x: x, where))  # [A, V]
    logits = torch.stack(per_prompt, 1)  # [A, n_prompts, V]
    return torch.tensor([_metric(metric_fn, logits[a][:, None]) for a in range(len(alphas))])
