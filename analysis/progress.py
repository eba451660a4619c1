"""The progress bar and stage clock; they live in :mod:`negprobe.activations.progress` (shared by every layer)."""

from __future__ import annotations

from negprobe.activations.progress import StageClock, StageTime, progress_bar, timing_table

__all__ = ["StageClock", "StageTime", "progress_bar", "timing_table"]
