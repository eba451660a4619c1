"""L2-regularised logistic regression probes, every layer fitted in one batched L-BFGS run.

The objective per layer is scikit-learn's ``C * sum(log-loss) + ||w||^2 / 2`` (intercept not
penalised), on inputs standardised with training statistics, so a layer-batched fit matches
``StandardScaler + LogisticRegression(C)`` on the same rows. (Logistic probes as in Alain &
Bengio 2016; Marks & Tegmark 2023 use them as the supervised baseline.)
"""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor

from .base import LinearProbe


def _loss_grad(theta: Tensor, Z1: Tensor, sign: Tensor, reg: float) -> tuple[Tensor, Tensor]:
    """Mean log-loss + reg/2 ||w||^2 and its gradient; theta [L, d+1] (last entry = intercept)."""
    margins = sign * torch.einsum("lnd,ld->ln", Z1, theta)
    loss = torch.nn.functional.softplus(-margins).mean(1)
    coef = -sign * torch.sigmoid(-margins) / Z1.shape[1]  # d loss / d logit
    grad = torch.einsum("lnd,ln->ld", Z1, coef)
    w = theta.clone()
    w[:, -1] = 0
    return loss + 0.5 * reg * (w * w).sum(1), grad + reg * w


def _boehning_inverse(Z1: Float[Tensor, "L n d1"], reg: float) -> Float[Tensor, "L d1 d1"]:
    """Inverse of Boehning's bound on the Hessian, Z1'Z1 / 4n + reg (a fixed majoriser of the
    log-loss curvature). As a preconditioner it makes the first steps near-Newton steps and lets
    L-BFGS converge in tens of iterations instead of hundreds on correlated residual features."""
    n, d1 = Z1.shape[1], Z1.shape[2]
    penalty = torch.full((d1,), reg, dtype=torch.float64, device=Z1.device)
    penalty[-1] = 1e-8
    # (estimated on at most 2048 evenly spaced rows: a preconditioner need not be exact)
    sample = Z1[:, :: max(1, n // 2048)]
    bound = torch.bmm(sample.transpose(1, 2), sample).double() / (4 * sample.shape[1]) + torch.diag(penalty)
    return torch.cholesky_inverse(torch.linalg.cholesky(bound)).to(Z1.dtype)


def _two_loop(g: Tensor, S: list[Tensor], Y: list[Tensor], rho: list[Tensor], precondition) -> Tensor:
    """The L-BFGS two-loop recursion, batched over layers: an approximate inverse Hessian times ``g``."""
    q = g.clone()
    alphas = []
    for s_k, y_k, r_k in zip(reversed(S), reversed(Y), reversed(rho)):
        a = r_k * (s_k * q).sum(1)
        q -= a[:, None] * y_k
        alphas.append(a)
    r = precondition(q)
    for s_k, y_k, r_k, a in zip(S, Y, rho, reversed(alphas)):
        b = r_k * (y_k * r).sum(1)
        r += s_k * (a - b)[:, None]
    return r


def batched_lbfgs_logistic(Z: Float[Tensor, "L n d"], y: Float[Tensor, " n"], C: float = 1.0, max_iter: int = 500,
                           tol: float = 1e-5, history: int = 10
                           ) -> tuple[Float[Tensor, "L d"], Float[Tensor, " L"], Int[Tensor, " L"]]:
    """Fit one logistic regression per layer of ``Z`` [L, n, d]; returns (w [L, d], b [L], n_iter [L])."""
    L, n, d = Z.shape
    Z1 = torch.cat([Z, torch.ones(L, n, 1, dtype=Z.dtype, device=Z.device)], -1)
    sign = (2 * y - 1).to(Z.dtype)[None]
    reg = 1.0 / (C * n)
    inverse = _boehning_inverse(Z1, reg)

    def precondition(v: Tensor) -> Tensor:
        return torch.bmm(inverse, v.unsqueeze(-1)).squeeze(-1)

    theta = torch.zeros(L, d + 1, dtype=Z.dtype, device=Z.device)
    f, g = _loss_grad(theta, Z1, sign, reg)
    S, Y, rho = [], [], []
    active = torch.ones(L, dtype=torch.bool, device=Z.device)
    n_iter = torch.zeros(L, dtype=torch.long, device=Z.device)
    for _ in range(max_iter):
        active &= g.abs().amax(1) > tol
        if not active.any():
            break
        n_iter += active
        r = _two_loop(g, S, Y, rho, precondition)
        direction = torch.where(active[:, None], -r, torch.zeros_like(r))
        slope = (g * direction).sum(1)
        bad = (slope >= 0) & active  # not a descent direction: fall back to the preconditioned gradient
        if bad.any():
            direction[bad] = -precondition(g)[bad]
            slope = (g * direction).sum(1)
        # Armijo backtracking, per layer; a layer whose line search fails has converged as far
        # as float32 allows and is frozen
        step = torch.ones(L, dtype=Z.dtype)
        for _ in range(20):
            f_new, g_new = _loss_grad(theta + step[:, None] * direction, Z1, sign, reg)
            ok = (f_new <= f + 1e-4 * step * slope) | ~active
            if ok.all():
                break
            step = torch.where(ok, step, step * 0.5)
        active &= ok
        step = torch.where(ok, step, torch.zeros_like(step))
        new_theta = theta + step[:, None] * direction
        s_vec, y_vec = new_theta - theta, g_new - g
        sy = (s_vec * y_vec).sum(1)
        S.append(s_vec)
        Y.append(y_vec)
        rho.append(torch.where(sy > 1e-12, 1.0 / sy.clamp_min(1e-12), torch.zeros_like(sy)))
        if len(S) > history:
            S.pop(0), Y.pop(0), rho.pop(0)
        theta, f, g = new_theta, f_new, g_new
    return theta[:, :-1], theta[:, -1], n_iter


def fit_logistic_layers(Z: Float[Tensor, "L n d"], y: Float[Tensor, " n"], C: float = 1.0, max_iter: int = 500,
                        tol: float = 1e-4, chunk_bytes: int = 12 * 2**20
                        ) -> tuple[Float[Tensor, "L d"], Float[Tensor, " L"], Int[Tensor, " L"]]:
    """Batched fit over layers, in chunks of layers small enough to stay in the CPU cache
    (the iterations are memory-bound matrix-vector products)."""
    per_layer = Z.shape[1] * (Z.shape[2] + 1) * Z.element_size()
    chunk = max(1, chunk_bytes // per_layer) if Z.device.type == "cpu" else Z.shape[0]
    parts = [batched_lbfgs_logistic(Z[i : i + chunk], y, C, max_iter, tol) for i in range(0, Z.shape[0], chunk)]
    coefs, intercepts, n_iters = zip(*parts)
    return torch.cat(coefs), torch.cat(intercepts), torch.cat(n_iters)


class LogisticRegressionProbe(LinearProbe):
    """L2 logistic regression on standardised activations (all layers in one batched, preconditioned L-BFGS)."""

    calibrate = False

    def __init__(self, C: float = 1.0, max_iter: int = 500, tol: float = 1e-4):
        self.C, self.max_iter, self.tol = C, max_iter, tol

    def _fit(self, Z, y, **_):
        w, b, self.n_iter_ = fit_logistic_layers(Z, y, self.C, self.max_iter, self.tol)
        return w, b
