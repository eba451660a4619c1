"""Small helpers the analysis steps share to get activations from (and into) the store."""

from __future__ import annotations

from typing import Sequence

import torch
from jaxtyping import Float
from torch import Tensor


def cached_store(model, dataset, positions: str, layers: Sequence[int] | None, root: str | None):
    """The activation store of ``dataset`` on ``model`` at ``positions`` (cached once, then reused)."""
    from activations.cache import cache_activations
    from activations.datasets.formatting import FormatSpec

    return cache_activations(model, dataset, positions=positions, layers=layers, fmt=FormatSpec(), root=root).store


def stacked(store, position: int | str = 0) -> Float[Tensor, "n_layers n d_model"]:
    """Every cached layer of one position, layer-major as the probes take it."""
    return store.stack(position=position).transpose(0, 1)
