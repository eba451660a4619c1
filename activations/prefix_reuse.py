"""Prefix reuse: run only the blocks after an intervention, from one cached clean run.

An edit of the residual after block ``l`` (a patch or a steering addition) leaves blocks ``0..l``
of the target run unchanged, so their outputs are read from one clean run of the target prompt
(:func:`trace_prompt`, cached once) and only blocks ``l+1..L-1`` are computed
(:func:`run_from`). Variants that start at different layers share one batch: rows are sorted by
their start layer and block ``j`` runs on the rows that start before it (a *progressive batch*),
so a row costs exactly the blocks after its start, and a sweep over every layer costs about half
of one full forward pass per variant. Only the last position's logits are computed (final norm
and unembedding on one token: gemma3's 262k vocabulary makes full logits the largest tensor of a
run).

Each block is replayed with the arguments the model itself gave it in the clean run (attention
mask, rotary embeddings, per-layer-type masks), captured by a forward pre-hook, so the recomputed
blocks see exactly what a full forward pass would give them; a row's batch dimension broadcasts
against those arguments' batch of one. The target prompt is one unpadded sequence. Positions
before the first one an edit changes are not recomputed either: their clean keys and values are
prepended in attention (:mod:`negprobe.activations.block_replay`; checked once per model by
:func:`suffix_replay_ok`), so patching the question's last tokens costs a few positions, not the
whole prompt.
A weightless remote handle (``model.remote``) has no blocks to replay: :func:`trace_prompt` and
:func:`run_from` then run whole nnsight traces (:mod:`negprobe.activations.backends.remote_edits`).
``tests/test_prefix_reuse.py`` checks every path against the full forward pass (max abs logit
difference <= 1e-4 in float32) on tiny Llama and GPT-2 models and on smollm2 (slow mark).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from jaxtyping import Float, Int
from torch import Tensor

from negprobe.errors import NegprobeError

from .backends.base import block_output
from .block_replay import PrefixKV, RecordKV, replay
from .models import LoadedModel, decoder_layers, final_norm, unwrap

Progress = Callable[[int], None]  # called with the number of rows just finished


@dataclass(frozen=True, eq=False)
class CleanTrace:
    """One unpatched run of a target prompt: every block's output and every block's call arguments."""

    input_ids: Int[Tensor, "1 seq"]
    residuals: Float[Tensor, "n_layers seq d_model"]  # the output of each block (before the final norm)
    block_args: tuple[tuple[tuple, dict], ...]  # per block: positional args after the hidden states, kwargs
    last_logits: Float[Tensor, " vocab"]  # the full forward pass's logits at the last position
    kv: dict[int, tuple[Tensor, Tensor]] = field(default_factory=dict)  # per layer keys/values, filled on first use

    @property
    def seq(self) -> int:
        return int(self.input_ids.shape[1])


def supports_logits_to_keep(model: LoadedModel) -> bool:
    """Whether the model's forward takes ``logits_to_keep`` (transformers >= 4.50 causal LMs)."""
    try:
        return "logits_to_keep" in inspect.signature(unwrap(model.model).forward).parameters
    except (TypeError, ValueError):
        return False


def last_position_kwargs(model: LoadedModel) -> dict[str, Any]:
    """``{"logits_to_keep": 1}`` where the forward supports it (logits at the last position only)."""
    return {"logits_to_keep": 1} if supports_logits_to_keep(model) else {}


def final_logits(model: LoadedModel, hidden: Float[Tensor, "n d_model"]) -> Float[Tensor, "n vocab"]:
    """The model's head on last-block residuals: final norm, unembedding (and gemma's logit soft-cap)."""
    net: Any = unwrap(model.model)
    norm = final_norm(net)
    head = net.get_output_embeddings()
    if head is None:
        raise NegprobeError(f"{type(net).__name__} has no output embeddings to read logits from")
    logits = head(norm(hidden) if norm is not None else hidden)
    config = net.config.get_text_config() if hasattr(net.config, "get_text_config") else net.config
    cap = getattr(config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


@torch.no_grad()
def trace_prompt(model: LoadedModel, input_ids: Int[Tensor, "1 seq"]) -> CleanTrace:
    """Run one prompt, keeping every block's output and call arguments (one forward pass)."""
    input_ids = torch.as_tensor(input_ids, dtype=torch.long).reshape(1, -1)
    if input_ids.shape[1] == 0:
        raise NegprobeError("prompt has no tokens")
    if model.remote:  # a weightless handle: one nnsight trace, nothing to replay from
        from .backends.remote_edits import remote_clean_trace

        residuals, last = remote_clean_trace(model, input_ids)
        return CleanTrace(input_ids, residuals, tuple(((), {}) for _ in range(model.n_layers)), last)
    blocks = decoder_layers(model.model)
    args: list[Any] = [None] * len(blocks)
    outputs: list[Any] = [None] * len(blocks)

    def pre_hook(layer: int):
        def hook(_module, call_args, call_kwargs):
            rest = dict(call_kwargs)
            if call_args:
                args[layer] = (tuple(call_args[1:]), rest)
            else:
                rest.pop("hidden_states", None)
                args[layer] = ((), rest)

        return hook

    def post_hook(layer: int):
        def hook(_module, _inputs, output):
            outputs[layer] = block_output(output).detach()

        return hook

    handles = [b.register_forward_pre_hook(pre_hook(i), with_kwargs=True) for i, b in enumerate(blocks)]
    handles += [b.register_forward_hook(post_hook(i)) for i, b in enumerate(blocks)]
    device = model.device
    try:
        out = model.model(input_ids=input_ids.to(device), attention_mask=torch.ones_like(input_ids).to(device),
                          use_cache=False, **last_position_kwargs(model))
    finally:
        for handle in handles:
            handle.remove()
    residuals = torch.stack([o[0] for o in outputs])
    return CleanTrace(input_ids, residuals, tuple(args), out.logits[0, -1].detach())


@torch.no_grad()
def record_keys(model: LoadedModel, trace: CleanTrace) -> dict[int, tuple[Tensor, Tensor]]:
    """The clean run's keys and values at every block after the first (replayed once, kept on the trace)."""
    if not trace.kv:
        blocks, recorder = decoder_layers(model.model), RecordKV()
        for layer in range(1, len(blocks)):
            replay(blocks[layer], trace.residuals[layer - 1][None], trace.block_args[layer], cache=recorder)
        trace.kv.update(recorder.kv)
    return trace.kv


def _first_changed(trace: CleanTrace, starts: Tensor, hidden: Tensor) -> int:
    """The first position at which any row differs from the clean residual of its start layer."""
    changed = (hidden != trace.residuals[starts].to(hidden)).any(-1)  # [n, seq]
    firsts = torch.where(changed.any(1), changed.float().argmax(1), torch.full_like(starts, trace.seq - 1))
    return int(firsts.min())


def _run_sorted(model: LoadedModel, trace: CleanTrace, row_starts: Tensor, hidden: Tensor, read_positions,
                skip_unchanged: bool) -> tuple[Tensor, Tensor | None]:
    """One progressive batch (rows sorted by start layer): last-position logits and the reads."""
    if model.remote:  # no weights to replay here: each row runs whole where nnsight runs the handle
        from .backends.remote_edits import remote_edited_rows

        return remote_edited_rows(model, trace.input_ids, row_starts, hidden, read_positions)
    blocks, n_layers, seq = decoder_layers(model.model), trace.residuals.shape[0], trace.seq
    eager = getattr(unwrap(model.model).config, "_attn_implementation", "sdpa") == "eager"
    full = hidden.to(device=model.device, dtype=model.dtype)
    skip = _first_changed(trace, row_starts, full) if skip_unchanged else 0
    cache = PrefixKV(record_keys(model, trace), skip) if skip > 0 else None
    h = full[:, skip:].clone()
    got, inside = None, []
    if read_positions is not None:
        read = list(read_positions)
        got = trace.residuals[:, read].to(h.device).expand(len(h), -1, -1, -1).clone()  # [n, L, R, d]
        got[torch.arange(len(h)), row_starts] = full[:, read]
        inside = [(j, r - skip) for j, r in enumerate(read) if r >= skip]  # earlier reads stay clean
    for layer in range(int(row_starts.min()) + 1, n_layers):
        k = int((row_starts < layer).sum())  # rows are sorted by start: the first k have started
        h[:k] = replay(blocks[layer], h[:k], trace.block_args[layer], skip, cache, seq, eager)
        if got is not None:
            for j, r in inside:
                got[:k, layer, j] = h[:k, r]
    return final_logits(model, h[:, -1]).float().cpu(), None if got is None else got.cpu()


@dataclass(frozen=True, eq=False)
class RunOutput:
    """Last-position logits of each row and, when asked, its residuals at chosen positions per layer."""

    logits: Float[Tensor, "n vocab"]
    reads: Float[Tensor, "n n_layers n_read d_model"] | None = None


@torch.no_grad()
def run_from(
    model: LoadedModel,
    trace: CleanTrace,
    starts: Sequence[int],
    hidden: Float[Tensor, "n seq d_model"],
    read_positions: Sequence[int] | None = None,
    max_rows: int = 64,
    progress: Progress | None = None,
    skip_unchanged: bool | None = None,
) -> RunOutput:
    """Continue the target run from the edited residual ``hidden[r]`` after block ``starts[r]``.

    Row ``r`` computes blocks ``starts[r]+1 .. L-1`` only, on ``hidden[r]`` (the clean residual after
    block ``starts[r]`` with an edit applied), and returns the logits of the last position.
    ``read_positions`` (token indices, non-negative) also returns each row's residual there after
    every block: the clean run's before its start, the edited one from it on. ``max_rows`` bounds
    the rows of one batch (memory). ``skip_unchanged``: positions before the first one any row of a
    batch changed are not recomputed (:mod:`negprobe.activations.block_replay`); default: where
    :func:`suffix_replay_ok` holds for the model.
    """
    n_layers, seq = trace.residuals.shape[0], trace.seq
    starts_t = torch.as_tensor(list(starts), dtype=torch.long)
    if hidden.ndim != 3 or hidden.shape[0] != len(starts_t) or hidden.shape[1] != seq:
        raise NegprobeError(f"hidden must be [n={len(starts_t)}, seq={seq}, d_model], got {tuple(hidden.shape)}")
    if len(starts_t) and (starts_t.min() < 0 or starts_t.max() >= n_layers):
        raise NegprobeError(f"start layers must be in 0..{n_layers - 1}, got {starts_t.tolist()}")
    if skip_unchanged is None:
        skip_unchanged = not model.remote and suffix_replay_ok(model, trace)
    order = torch.argsort(starts_t, stable=True)
    logits: list[Tensor] = []
    reads: list[Tensor] = []
    for first in range(0, len(order), max(1, max_rows)):
        rows = order[first:first + max(1, max_rows)]
        chunk_logits, chunk_reads = _run_sorted(model, trace, starts_t[rows], hidden[rows], read_positions,
                                                skip_unchanged)
        logits.append(chunk_logits)
        if chunk_reads is not None:
            reads.append(chunk_reads)
        if progress is not None:
            progress(len(rows))
    inverse = torch.argsort(order)
    if not logits:
        return RunOutput(torch.empty(0, 0), None)
    return RunOutput(torch.cat(logits)[inverse], torch.cat(reads)[inverse] if reads else None)


def patched_hidden(
    trace: CleanTrace, layers: Sequence[int], positions: Sequence[int], values: Float[Tensor, "n_layers n d_model"]
) -> Float[Tensor, "n_layers seq d_model"]:
    """The clean residual after each of ``layers`` with ``positions`` overwritten by ``values[i]``."""
    hidden = trace.residuals[list(layers)].clone()
    hidden[:, list(positions)] = values.to(device=hidden.device, dtype=hidden.dtype)
    return hidden


def added_hidden(
    trace: CleanTrace, layer: int, deltas: Float[Tensor, "n d_model"], positions: Sequence[int] | None = None
) -> Float[Tensor, "n seq d_model"]:
    """The clean residual after ``layer`` plus ``deltas[i]`` at ``positions`` (``None``: every position)."""
    base = trace.residuals[layer]
    hidden = base[None].expand(len(deltas), -1, -1).clone()
    index = slice(None) if positions is None else list(positions)
    hidden[:, index] += deltas.to(device=hidden.device, dtype=hidden.dtype)[:, None]
    return hidden


SUFFIX_OK = "negprobe.suffix_replay_ok"  # LoadedModel.extra key: the suffix replay was checked on this model


def _suffix_matches(model: LoadedModel, trace: CleanTrace, atol: float) -> bool:
    """Suffix replays (an edit after block 0 at mid-sequence and at the second-to-last position) give the
    whole-sequence replay's logits."""
    if trace.seq <= 2:
        return True
    positions = sorted({trace.seq // 2, trace.seq - 2})
    edited = torch.cat([patched_hidden(trace, [0], [p], 1.5 * trace.residuals[0, p:p + 1][None]) for p in positions])
    suffix = torch.cat([run_from(model, trace, [0], row[None], skip_unchanged=True).logits for row in edited])
    whole = run_from(model, trace, [0] * len(positions), edited, skip_unchanged=False).logits
    return float((suffix - whole).abs().max()) <= atol


def _default_atol(model: LoadedModel) -> float:
    return 1e-3 if model.dtype == torch.float32 else 1e-1


def suffix_replay_ok(model: LoadedModel, trace: CleanTrace) -> bool:
    """Whether this model's blocks replay on a suffix of positions exactly (checked once per model).

    Blocks that mix positions other than through attention's ``cache.update`` (or ignore it) fail
    the check; :func:`run_from` then recomputes every position.
    """
    if SUFFIX_OK not in model.extra:
        model.extra[SUFFIX_OK] = _suffix_matches(model, trace, _default_atol(model))
    return bool(model.extra[SUFFIX_OK])


def verify_prefix_reuse(model: LoadedModel, trace: CleanTrace, atol: float | None = None) -> float:
    """Replay blocks 1..L-1 from the cached output of block 0 and compare with the full pass's logits.

    Raises when they differ by more than ``atol`` (default 1e-3 in float32, 0.1 in half precision):
    the architecture's blocks need something the replay does not give them. Also settles whether
    suffix replays are exact on this model (:func:`suffix_replay_ok`). Returns the max abs diff.
    """
    if model.remote:
        return 0.0  # a handle replays nothing: every edited run is a whole forward pass (.backends.remote_edits)
    atol = atol if atol is not None else _default_atol(model)
    replayed = run_from(model, trace, [0], trace.residuals[0][None], skip_unchanged=False).logits[0]
    diff = float((replayed - trace.last_logits.float().cpu()).abs().max())
    if not diff <= atol:
        raise NegprobeError(f"prefix reuse does not reproduce {model.name}'s forward pass (max logit diff {diff:.2e}); "
                            "its decoder blocks need inputs the replay does not give them")
    suffix_replay_ok(model, trace)
    return diff
