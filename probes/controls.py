"""Control probes for selectivity (Hewitt & Liang 2019, "Designing and Interpreting Probes
with Control Tasks"): what accuracy does a probe reach with no real signal?"""

from __future__ import annotations

import numpy as np
import torch

from .base import LinearProbe
from .logistic import fit_logistic_layers


class RandomDirectionProbe(LinearProbe):
    """A seeded random direction per layer; only orientation and threshold are fitted."""

    scale_inputs = False

    def __init__(self, seed: int = 0):
        self.seed = seed

    def _fit(self, Z, y, **_):
        gen = torch.Generator().manual_seed(self.seed)
        w = torch.randn(Z.shape[0], Z.shape[2], generator=gen).to(Z.device)
        return w, torch.zeros(Z.shape[0], device=Z.device)


class ShuffledLabelProbe(LinearProbe):
    """Logistic regression fitted on permuted training labels (the control task)."""

    calibrate = False

    def __init__(self, C: float = 1.0, seed: int = 0):
        self.C, self.seed = C, seed

    def _fit(self, Z, y, **_):
        perm = torch.from_numpy(np.random.default_rng(self.seed).permutation(len(y))).to(y.device)
        w, b, _ = fit_logistic_layers(Z, y[perm], self.C)
        return w, b
