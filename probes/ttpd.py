"""Training of Truth and Polarity Direction (TTPD), Buerger et al. 2024, "Truth is Universal".

Activations centred per (domain, polarity) are modelled as ``a ~ tau * t_G + tau * p * t_P``
with ``tau = +-1`` the truth label and ``p = +-1`` the polarity (affirmed / negated); ``t_G`` and
``t_P`` come from least squares. A polarity direction separates affirmed from negated rows, and a
2-D logistic regression on ``(a . t_G, a . polarity)`` classifies truth, generalising across
affirmed and negated statements where a single direction fails.
"""

from __future__ import annotations

import numpy as np
import torch

from negprobe.errors import NegprobeError

from .base import LinearProbe, fit_logistic_small


class TTPDProbe(LinearProbe):
    scale_inputs = False
    calibrate = False

    def _fit(self, Z, y, polarity=None, domain=None, **_):
        n = Z.shape[1]
        if polarity is None:
            raise NegprobeError("TTPD needs polarity=[1 affirmed / 0 negated per row] when fitting")
        pol = torch.as_tensor(np.array(polarity, dtype=np.float32), dtype=Z.dtype).to(Z.device)
        if pol.shape != (n,):
            raise NegprobeError(f"polarity must have one value per row ({n}), got shape {tuple(pol.shape)}")
        dom = np.zeros(n, dtype=np.int64) if domain is None else np.unique(np.asarray(domain), return_inverse=True)[1]
        centred = Z.clone()
        for key in set(zip(dom.tolist(), pol.tolist())):
            rows = torch.from_numpy((dom == key[0]) & (pol.cpu().numpy() == key[1])).to(Z.device)
            centred[:, rows] -= Z[:, rows].mean(1, keepdim=True)
        tau = 2 * y - 1
        p = 2 * pol - 1
        design = torch.stack([tau, tau * p], 1).double()  # [n, 2]
        coef = torch.linalg.lstsq(design.expand(Z.shape[0], -1, -1), centred.double()).solution.float()  # [L, 2, d]
        self.t_G_, self.t_P_ = coef[:, 0], coef[:, 1]
        if pol.unique().numel() > 1:
            polarity_dir = Z[:, pol > 0.5].mean(1) - Z[:, pol < 0.5].mean(1)
        else:
            polarity_dir = torch.zeros_like(self.t_G_)
        self.polarity_direction_ = polarity_dir
        feats = torch.stack([torch.einsum("lnd,ld->ln", Z, self.t_G_), torch.einsum("lnd,ld->ln", Z, polarity_dir)], -1)
        scale = feats.std(1, keepdim=True).clamp_min(1e-12)
        params = fit_logistic_small(feats / scale, y)
        c = params[:, :2] / scale[:, 0]
        w = c[:, :1] * self.t_G_ + c[:, 1:2] * polarity_dir
        return w, params[:, 2]

    @property
    def direction_(self) -> np.ndarray:
        """The general truth direction t_G (unit norm), oriented towards 'true'."""
        w = self.t_G_ / self.t_G_.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        w = w.cpu().numpy()
        return w[0] if self._single else w
