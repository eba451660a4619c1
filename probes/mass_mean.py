"""Difference-of-means ("mass-mean") probes, Marks & Tegmark 2023, "The Geometry of Truth".

``theta = mean(true) - mean(false)``; the ``iid`` variant multiplies by the inverse pooled
within-class covariance (LDA-like), the right choice when test data is distributed like
training data. Closed form, all layers at once.
"""

from __future__ import annotations

import torch

from .base import LinearProbe


class MassMeanProbe(LinearProbe):
    """Difference of class means; ``iid=True`` applies the (shrunk) inverse covariance."""

    scale_inputs = False

    def __init__(self, iid: bool = False, shrinkage: float = 0.1):
        self.iid, self.shrinkage = iid, shrinkage

    def _fit(self, Z, y, **_):
        pos, neg = y > 0.5, y < 0.5
        weights = torch.stack([pos / pos.sum(), neg / neg.sum()]).to(Z.dtype)  # [2, n]: one pass for both means
        mu_pos, mu_neg = torch.matmul(weights, Z).unbind(1)
        theta = mu_pos - mu_neg
        if self.iid:
            centred = torch.cat([Z[:, pos] - mu_pos[:, None], Z[:, neg] - mu_neg[:, None]], 1).double()
            cov = centred.transpose(1, 2) @ centred / max(centred.shape[1] - 2, 1)
            ridge = self.shrinkage * torch.diagonal(cov, dim1=1, dim2=2).mean(1)
            cov = (1 - self.shrinkage) * cov + ridge[:, None, None] * torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
            theta = torch.linalg.solve(cov, theta.double().unsqueeze(-1)).squeeze(-1).float()
        midpoint = 0.5 * (mu_pos + mu_neg)
        return theta, -(theta * midpoint).sum(-1)
