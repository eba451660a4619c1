"""Replaying one decoder block outside the model's forward: on every position, or on a suffix.

:mod:`negprobe.activations.prefix_reuse` calls each block with the arguments the model gave it in
a clean run. When an edit leaves every position before ``start`` unchanged (a patch of the claim
tokens, or of one of the last tokens), those positions' outputs are the clean run's at every later
block (causal attention), so only positions ``start..seq-1`` are recomputed: their queries attend to
the clean run's keys and values of the earlier positions, recorded once per prompt
(:func:`record_keys`) and prepended by a stand-in cache (:class:`PrefixKV`, the ``cache.update``
protocol of transformers' attention layers). The block's sequence-shaped arguments (rotary
embeddings, position ids, the attention mask's query rows) are cut to the suffix; a causal mask for
the suffix's queries over all keys is built where the model passed none.
:func:`negprobe.activations.prefix_reuse.verify_prefix_reuse` checks both paths against the full
forward pass before use.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import Tensor

from .backends.base import block_output

CACHE_NAMES = ("cache", "past_key_values")


class PrefixKV:
    """Prepends the clean run's keys/values of positions ``< upto`` to each layer's new ones (stores nothing)."""

    def __init__(self, kv: dict[int, tuple[Tensor, Tensor]], upto: int):
        self.kv, self.upto = kv, upto

    def update(self, key_states: Tensor, value_states: Tensor, layer_idx: int, *args, **kwargs):
        keys, values = self.kv[layer_idx]
        batch = key_states.shape[0]
        keys = keys[:, :, : self.upto].to(key_states.dtype).expand(batch, -1, -1, -1)
        values = values[:, :, : self.upto].to(value_states.dtype).expand(batch, -1, -1, -1)
        return torch.cat([keys, key_states], 2), torch.cat([values, value_states], 2)


class RecordKV:
    """Keeps each layer's keys/values as the attention computes them (one clean run)."""

    def __init__(self):
        self.kv: dict[int, tuple[Tensor, Tensor]] = {}

    def update(self, key_states: Tensor, value_states: Tensor, layer_idx: int, *args, **kwargs):
        self.kv[layer_idx] = (key_states.detach(), value_states.detach())
        return key_states, value_states


def _arguments(block, hidden: Tensor, call: tuple[tuple, dict]) -> dict[str, Any]:
    """The block's call as keyword arguments (positional ones bound to their names)."""
    rest, kwargs = call
    signature = inspect.signature(block.forward)
    bound = signature.bind(hidden, *rest, **kwargs) if rest or "hidden_states" not in signature.parameters \
        else signature.bind(hidden_states=hidden, **kwargs)
    flat: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
            flat.update(value)
        else:
            flat[name] = value
    return flat


def _cut(value: Any, name: str, start: int, seq: int) -> Any:
    """A sequence-shaped argument restricted to positions ``start..`` (masks: their query rows)."""
    if isinstance(value, (tuple, list)):
        return type(value)(_cut(v, name, start, seq) for v in value)
    if not isinstance(value, Tensor):
        return value
    if "mask" in name and value.ndim >= 2 and value.shape[-2] == seq:
        return value[..., start:, :]
    for dim, size in enumerate(value.shape):
        if size == seq:
            return value.narrow(dim, start, seq - start)
    return value


def _causal_mask(start: int, seq: int, like: Tensor, eager: bool) -> Tensor:
    """Queries ``start..seq-1`` over keys ``0..seq-1``: bool (sdpa) or additive float (eager)."""
    allowed = torch.arange(seq, device=like.device)[None, :] <= torch.arange(start, seq, device=like.device)[:, None]
    if not eager:
        return allowed[None, None]
    mask = torch.zeros(allowed.shape, dtype=like.dtype, device=like.device)
    return mask.masked_fill(~allowed, torch.finfo(like.dtype).min)[None, None]


def replay(block, hidden: Tensor, call: tuple[tuple, dict], start: int = 0, cache: Any = None, seq: int | None = None,
           eager: bool = False) -> Tensor:
    """Block output for ``hidden`` (positions ``start..seq-1`` when ``start > 0``, with ``cache`` holding the rest)."""
    args = _arguments(block, hidden, call)
    if cache is not None:
        name = next((n for n in CACHE_NAMES if n in inspect.signature(block.forward).parameters), CACHE_NAMES[0])
        args[name] = cache
    if start > 0:
        assert seq is not None, "a suffix replay needs the full sequence length"
        for name, value in list(args.items()):
            if name not in ("hidden_states", *CACHE_NAMES):
                args[name] = _cut(value, name, start, seq)
        if args.get("attention_mask") is None:
            args["attention_mask"] = _causal_mask(start, seq, hidden, eager)
    return block_output(block(**args))
