"""The normalised indirect effect of a patching or steering run (the interventions themselves live in
:mod:`negprobe.activations.interventions` and :mod:`negprobe.activations.tracing`)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


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
