"""The causal checks' progress bar; it lives in :mod:`negprobe.activations.progress` (shared by every layer)."""

from __future__ import annotations

from negprobe.activations.progress import progress_bar

__all__ = ["progress_bar"]
