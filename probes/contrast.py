"""Probes fitted on contrast pairs: CCS (Burns et al. 2022) and PCA/LAT (Zou et al. 2023).

A contrast pair is an affirmed statement and its negated twin (``pairs[k] = (i, j)`` indexes rows
of ``X``). Both methods find the direction without labels; training labels are used only to
orient it and set the threshold (never test labels).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from negprobe.errors import NegprobeError

from .base import LinearProbe


def check_pairs(pairs, n: int) -> Tensor:
    if pairs is None:
        raise NegprobeError("this probe needs contrast pairs: fit(X, y, pairs=[[affirmed_row, negated_row], ...])")
    pairs = torch.as_tensor(np.asarray(pairs), dtype=torch.long)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0:
        raise NegprobeError(f"pairs must be an [n_pairs, 2] array of row indices, got shape {tuple(pairs.shape)}")
    if pairs.min() < 0 or pairs.max() >= n:
        raise NegprobeError(f"pairs index rows outside 0..{n - 1}")
    return pairs


class CCSProbe(LinearProbe):
    """Contrast-Consistent Search (Burns et al. 2022): p(x+) ~ 1 - p(x-), confidently.

    Each side of the pairs is centred separately (removing the polarity direction; ``var_normalize``
    also scales it, as an option of the original code), ``n_restarts`` seeded initialisations are
    trained with AdamW (weight decay 0.01 as in the original code; all layers and restarts at once) and the lowest-loss restart per layer is kept.
    """

    scale_inputs = False

    def __init__(self, n_restarts: int = 5, epochs: int = 300, lr: float = 1e-2, seed: int = 0,
                 var_normalize: bool = False, weight_decay: float = 0.01):
        self.n_restarts, self.epochs, self.lr, self.seed = n_restarts, epochs, lr, seed
        self.weight_decay = weight_decay
        self.var_normalize = var_normalize

    def _fit(self, Z, y, pairs=None, **_):
        pairs = check_pairs(pairs, Z.shape[1])
        pairs = pairs.to(Z.device)
        a, b = Z[:, pairs[:, 0]], Z[:, pairs[:, 1]]
        a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
        if self.var_normalize:
            a, b = a / a.std(1, keepdim=True).clamp_min(1e-6), b / b.std(1, keepdim=True).clamp_min(1e-6)
        else:  # one overall scale per layer keeps Adam's step size meaningful
            scale = torch.cat([a, b], 1).norm(dim=-1).mean(1).clamp_min(1e-6)[:, None, None] / a.shape[-1] ** 0.5
            a, b = a / scale, b / scale
        L, _, d = a.shape
        gen = torch.Generator().manual_seed(self.seed)
        w = (0.01 * torch.randn(self.n_restarts, L, d, generator=gen) / d**0.5).to(a.device)  # small: init noise
        bias = torch.zeros(self.n_restarts, L, device=a.device)  # must not survive
        w.requires_grad_(True)
        bias.requires_grad_(True)
        opt = torch.optim.AdamW([w, bias], lr=self.lr, weight_decay=self.weight_decay)
        with torch.enable_grad():
            for _ in range(self.epochs):
                opt.zero_grad()
                loss = self._loss(w, bias, a, b).sum()
                loss.backward()
                opt.step()
        with torch.no_grad():
            final = self._loss(w, bias, a, b)  # [R, L]
            best = final.argmin(0)
            layers = torch.arange(L, device=a.device)
            w_best = w.detach()[best, layers]
        return w_best, torch.zeros(L, device=a.device)

    @staticmethod
    def _loss(w: Tensor, bias: Tensor, a: Tensor, b: Tensor) -> Tensor:
        pa = torch.sigmoid(torch.einsum("lnd,rld->rln", a, w) + bias[..., None])
        pb = torch.sigmoid(torch.einsum("lnd,rld->rln", b, w) + bias[..., None])
        consistency = (pa - (1 - pb)) ** 2
        confidence = torch.minimum(pa, pb) ** 2
        return (consistency + confidence).mean(-1)


class LATProbe(LinearProbe):
    """Linear Artificial Tomography (Zou et al. 2023, "Representation Engineering"):
    the first principal component of paired differences."""

    scale_inputs = False

    def __init__(self, seed: int = 0):
        self.seed = seed

    def _fit(self, Z, y, pairs=None, **_):
        if pairs is None:  # random pairs of a true and a false training row
            rng = np.random.default_rng(self.seed)
            pos, neg = np.flatnonzero(y.cpu().numpy() > 0.5), np.flatnonzero(y.cpu().numpy() < 0.5)
            k = min(len(pos), len(neg))
            pairs = np.stack([rng.permutation(pos)[:k], rng.permutation(neg)[:k]], 1)
        pairs = check_pairs(pairs, Z.shape[1]).to(Z.device)
        diffs = (Z[:, pairs[:, 0]] - Z[:, pairs[:, 1]]).double()
        # random sign per pair, as in LAT, so the PC is not just the mean difference
        signs = torch.from_numpy(np.random.default_rng(self.seed).choice([-1.0, 1.0], len(pairs))).to(Z.device)
        diffs = diffs * signs[None, :, None]
        diffs = diffs - diffs.mean(1, keepdim=True)
        _, _, vh = torch.linalg.svd(diffs, full_matrices=False)
        return vh[:, 0].float(), torch.zeros(Z.shape[0], device=Z.device)
