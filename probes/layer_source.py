"""Sweep activations a block of layers at a time, so a 64-layer x 8192-wide store sweeps in bounded memory.

A sweep's ``X`` is ``[L, n, d]``. When that fits in :data:`LAYER_BLOCK_BYTES` (as float32) it is one
tensor, fitted in one layer-batched pass as before; otherwise it stays on disk as a
:class:`StoreLayers` and :func:`layer_blocks` hands the fits the fewest layers that fit the budget
(at least one), read from the memory-mapped store. Probes fit every layer independently, so fitting
block by block gives the same per-layer numbers for the deterministic families (mass-mean, logistic,
TTPD, LAT); the seeded ones (CCS restarts, random directions) draw their initialisation per block.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from negprobe.activations.store import ActivationStore

from .base import LinearProbe, Standardizer

LAYER_BLOCK_BYTES = 2 * 2**30  # float32 activations a sweep holds at once; larger sweeps stream their layers


@dataclass(frozen=True, eq=False)
class StoreLayers:
    """``[L, n, d]`` activations of one position in one or more stores (rows concatenated in order),
    read a layer at a time from disk."""

    stores: tuple[ActivationStore, ...]
    layers: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.layers), sum(s.n_rows for s in self.stores), self.stores[0].d_model

    def read(self, slots: Sequence[int]) -> Float[Tensor, "b n d"]:
        """The layers at ``slots`` as one float32 tensor (each store's rows written in place, no concatenation copy)."""
        _, n, d = self.shape
        out = np.empty((len(slots), n, d), dtype=np.float32)
        for i, slot in enumerate(slots):
            start = 0
            for store in self.stores:
                store.layer(self.layers[slot], 0, out=out[i, start : start + store.n_rows])
                start += store.n_rows
        return torch.from_numpy(out)

    def __getitem__(self, slot: int) -> Float[Tensor, "n d"]:
        return self.read([slot])[0]


def layers_per_block(shape: Sequence[int], block_bytes: int | None = None) -> int:
    L, n, d = shape
    return max(1, min(L, (block_bytes or LAYER_BLOCK_BYTES) // max(1, n * d * 4)))


def layer_blocks(X: Tensor | StoreLayers, block_bytes: int | None = None) -> Iterator[tuple[slice, Tensor]]:
    """``(slots, activations [b, n, d])`` for consecutive blocks of layers covering all of ``X``."""
    L = X.shape[0]
    size = L if isinstance(X, Tensor) and block_bytes is None else layers_per_block(X.shape, block_bytes)
    for start in range(0, L, size):
        slots = slice(start, min(L, start + size))
        yield slots, X[slots] if isinstance(X, Tensor) else X.read(range(slots.start, slots.stop))


def concat_layer_fits(parts: Sequence[LinearProbe]) -> LinearProbe:
    """One layer-batched probe from probes fitted on consecutive blocks of layers: every per-layer
    tensor attribute (coef_, intercept_, the standardiser, probe-specific directions) is concatenated."""
    if len(parts) == 1:
        return parts[0]
    whole = copy.copy(parts[0])
    sizes = [p.coef_.shape[0] for p in parts]
    for name, value in vars(parts[0]).items():
        if isinstance(value, Tensor) and value.ndim and value.shape[0] == sizes[0]:
            setattr(whole, name, torch.cat([vars(p)[name] for p in parts]))
        elif isinstance(value, Standardizer):
            joined = Standardizer()
            joined.mean_ = torch.cat([vars(p)[name].mean_ for p in parts])
            joined.scale_ = torch.cat([vars(p)[name].scale_ for p in parts])
            setattr(whole, name, joined)
    return whole
