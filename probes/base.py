"""Shared machinery of the linear probes: input handling, standardisation, calibration.

Every probe fits all layers at once: ``X`` is ``[n, d]`` (one layer) or ``[n_layers, n, d]``
(every layer in one batched pass), and ``direction_`` is ``[d]`` or ``[n_layers, d]`` in the
input space. Centring/scaling and thresholds are fitted on the training rows only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch
from jaxtyping import Float, Int
from torch import Tensor

from negprobe.errors import NegprobeError


def as_batched(X: Any) -> tuple[Float[Tensor, "layers n d"], bool]:
    """Return ``X`` as a float32 tensor ``[layers, n, d]`` and whether it was one layer."""
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, Tensor) else X).to(torch.float32)
    if X.ndim == 2:
        return X[None], True
    if X.ndim == 3:
        return X, False
    raise NegprobeError(f"probe input must be [n, d] or [layers, n, d], got shape {tuple(X.shape)}")


def as_labels(y: Any, n: int, device: torch.device | str = "cpu") -> Float[Tensor, " n"]:
    """0/1 labels as a float32 vector on ``device`` (the activations' device: fits follow their input)."""
    y = torch.as_tensor(np.asarray(y.cpu() if isinstance(y, Tensor) else y, dtype=np.float32))
    if y.ndim != 1 or len(y) != n:
        raise NegprobeError(f"labels must be a vector of {n} values, got shape {tuple(y.shape)}")
    values = set(torch.unique(y).tolist())
    if not values <= {0.0, 1.0}:
        raise NegprobeError(f"labels must be 0/1, got values {sorted(values)}")
    if len(values) < 2:
        raise NegprobeError("training labels have one class only; a probe needs both true and false rows")
    return y.to(device)


class Standardizer:
    """Per-layer feature mean/std fitted on training rows (std floored to avoid division by 0)."""

    def fit(self, X: Tensor, scale: bool = True) -> Standardizer:
        self.mean_ = X.mean(1, keepdim=True)
        self.scale_ = X.std(1, keepdim=True).clamp_min(1e-6) if scale else torch.ones_like(self.mean_)
        return self

    def transform(self, X: Tensor) -> Tensor:
        return (X - self.mean_) / self.scale_


def fit_logistic_small(F: Float[Tensor, "layers n k"], y: Tensor, ridge: float = 1e-3, iters: int = 100) -> Tensor:
    """Per-layer logistic regression on a few features (plus intercept) by Newton's method.

    Returns [layers, k + 1] (last = intercept). A tiny ridge keeps separable data finite.
    """
    F = F.double()
    y = y.double()
    feats = torch.cat([F, torch.ones(*F.shape[:2], 1, dtype=F.dtype, device=F.device)], -1)
    params = torch.zeros(F.shape[0], feats.shape[-1], dtype=F.dtype, device=F.device)
    eye = ridge * torch.eye(feats.shape[-1], dtype=F.dtype, device=F.device)
    for _ in range(iters):
        p = torch.sigmoid((feats * params[:, None]).sum(-1))
        grad = (feats * (p - y)[..., None]).sum(1) + ridge * params
        hess = torch.einsum("lni,lnj,ln->lij", feats, feats, p * (1 - p)) + eye
        step = torch.linalg.solve(hess, grad.unsqueeze(-1)).squeeze(-1)
        params = params - step
        if step.abs().max() < 1e-10:
            break
    return params.float()


def fit_logistic_1d(scores: Float[Tensor, "layers n"], y: Tensor) -> tuple[Tensor, Tensor]:
    """Per-layer Platt scaling ``p = sigmoid(a * s + b)`` fitted on training scores."""
    norm = scores.std(1).clamp_min(1e-12)
    params = fit_logistic_small((scores / norm[:, None])[..., None], y)
    return params[:, 0] / norm, params[:, 1]


class LinearProbe(ABC):
    """scikit-learn-style estimator over one or many layers.

    Subclasses implement :meth:`_fit` returning (direction [L, d], intercept [L]) on
    *standardised* inputs; this base maps them back to the raw input space so that
    ``decision_function(X) = X @ direction_ + intercept_``.
    """

    scale_inputs: bool = True
    calibrate: bool = True  # fit a 1-D threshold/scale on the training projections

    def fit(self, X: Float[Tensor, "*L n d"] | np.ndarray, y: np.ndarray | Tensor, **fit_params) -> LinearProbe:
        Xb, self._single = as_batched(X)
        yt = as_labels(y, Xb.shape[1], Xb.device)
        if self.scale_inputs:
            self.standardizer_ = Standardizer().fit(Xb)
            Z = self.standardizer_.transform(Xb)
        else:  # probes that centre internally (or need no centring) work on the raw activations, no copy
            self.standardizer_ = Standardizer()
            self.standardizer_.mean_ = torch.zeros(Xb.shape[0], 1, Xb.shape[2], device=Xb.device)
            self.standardizer_.scale_ = torch.ones(Xb.shape[0], 1, Xb.shape[2], device=Xb.device)
            Z = Xb
        w, b = self._fit(Z, yt, **fit_params)
        # map back: w . (x - m) / s + b = (w / s) . x + (b - (w / s) . m)
        w_raw = w / self.standardizer_.scale_[:, 0]
        b_raw = b - (w_raw * self.standardizer_.mean_[:, 0]).sum(-1)
        if self.calibrate:
            scores = torch.einsum("lnd,ld->ln", Xb, w_raw) + b_raw[:, None]
            a, c = fit_logistic_1d(scores, yt)
            # orient with training labels only (a < 0 means the direction points to "false")
            w_raw, b_raw = w_raw * a[:, None], b_raw * a + c
        self.coef_ = w_raw
        self.intercept_ = b_raw
        self.n_features_in_ = Xb.shape[-1]
        self.classes_ = np.array([0, 1])
        return self

    @abstractmethod
    def _fit(self, Z: Tensor, y: Tensor, **fit_params) -> tuple[Tensor, Tensor]:
        ...

    # -- inference -------------------------------------------------------------------
    def _check(self, X) -> tuple[Tensor, bool]:
        if not hasattr(self, "coef_"):
            raise NegprobeError(f"{type(self).__name__} is not fitted yet; call fit first")
        Xb, single = as_batched(X)
        Xb = Xb.to(self.coef_.device)
        if Xb.shape[-1] != self.n_features_in_:
            raise NegprobeError(f"probe expects d_model {self.n_features_in_}, got activations with {Xb.shape[-1]}")
        if Xb.shape[0] != self.coef_.shape[0]:
            if Xb.shape[0] == 1 and single:
                Xb = Xb.expand(self.coef_.shape[0], -1, -1)
            else:
                raise NegprobeError(f"probe was fitted on {self.coef_.shape[0]} layers, got {Xb.shape[0]}")
        return Xb, self._single and single

    def decision_function(self, X: Float[Tensor, "*L n d"] | np.ndarray) -> Float[np.ndarray, "*L n"]:
        Xb, single = self._check(X)
        out = torch.einsum("lnd,ld->ln", Xb, self.coef_) + self.intercept_[:, None]
        out = out.cpu().numpy()
        return out[0] if single else out

    def predict_proba(self, X: Float[Tensor, "*L n d"] | np.ndarray) -> Float[np.ndarray, "*L n 2"]:
        p1 = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.stack([1 - p1, p1], axis=-1)

    def predict(self, X: Float[Tensor, "*L n d"] | np.ndarray) -> Int[np.ndarray, "*L n"]:
        return (self.decision_function(X) > 0).astype(np.int64)

    def score(self, X: Float[Tensor, "*L n d"] | np.ndarray, y: np.ndarray) -> float | Float[np.ndarray, " L"]:
        """Accuracy (one value per layer for layer-batched input)."""
        pred = self.predict(X)
        return (pred == np.asarray(y)[None] if pred.ndim == 2 else pred == np.asarray(y)).mean(-1)

    @property
    def direction_(self) -> Float[np.ndarray, "*L d"]:
        """Unit vector(s) in activation space pointing towards 'true'."""
        w = self.coef_ / self.coef_.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        w = w.cpu().numpy()
        return w[0] if self._single else w

    def layer(self, index: int) -> LinearProbe:
        """The single-layer probe of one slot of a layer-batched fit."""
        clone = object.__new__(type(self))
        vars(clone).update(vars(self))
        clone.coef_ = self.coef_[index : index + 1]
        clone.intercept_ = self.intercept_[index : index + 1]
        clone._single = True
        return clone
