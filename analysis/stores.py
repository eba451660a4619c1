"""Small helpers the analysis steps share to get activations from (and into) the store."""

from __future__ import annotations

from collections.abc import Sequence

from negprobe.activations.cache import cache_activations
from negprobe.activations.datasets.formatting import FormatSpec


def cached_store(model, dataset, positions: str, layers: Sequence[int] | None, root: str | None,
                 progress: bool = True):
    """The activation store of ``dataset`` on ``model`` at ``positions`` (cached once, then reused); a weightless
    remote handle reads through nnsight, any other model through its hooks."""
    backend = "nnsight" if getattr(model, "remote", None) else "hf"
    return cache_activations(model, dataset, positions=positions, layers=layers, fmt=FormatSpec(), root=root,
                             backend=backend, progress=progress).store

