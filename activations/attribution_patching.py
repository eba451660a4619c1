"""Attribution patching: a first-order estimate of every (layer, position) patching effect.

Patching the residual after block ``l`` at target token ``t`` with a source run's residual at the
aligned source token ``s`` moves a scalar metric ``m`` of the target's last-position logits by
about ``(h_src[l, s] - h_tgt[l, t]) . dm/dh_tgt[l, t]`` (Nanda 2023, "Attribution patching:
activation patching at industrial scale"; Syed et al. 2023). One forward + one backward pass of
the target and one forward pass of the source give the whole layer x position grid
(:func:`attribution_patching`), where exact patching costs one (partial) forward pass per cell.
The estimate is exact where the metric is linear in the patched residual (the last block's output
under an identity final norm, with a logit-difference metric) and degrades where attention or
norms saturate (Kramar et al. 2024, "AtP*", whose fixes concern attention-node attributions; here
the nodes are residuals). So it is a screen: :func:`screen_then_confirm` patches the top cells of
the grid exactly (:func:`exact_patching`, prefix reuse and batches of
:mod:`negprobe.activations.prefix_reuse`), and :func:`compare_with_exact` reports the rank
agreement on whatever cells an exact sweep covers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Float, Int
from torch import Tensor

from negprobe.errors import NegprobeError

from .interventions import edit_hook
from .models import LoadedModel, decoder_layers
from .prefix_reuse import CleanTrace, Progress, last_position_kwargs, run_from, trace_prompt

Metric = Callable[[Float[Tensor, "n vocab"]], Float[Tensor, " n"]]  # last-position logits -> one value per row
Cell = tuple[int, int, int]  # (layer, target position, source position)


@dataclass(frozen=True, eq=False)
class AttributionGrid:
    """Estimated effect ``m(patched) - m(clean)`` of patching each (layer, aligned target position)."""

    effects: Float[np.ndarray, "n_layers n_positions"]
    layers: tuple[int, ...]
    target_positions: tuple[int, ...]  # column j patches this target token ...
    source_positions: tuple[int, ...]  # ... with the source's residual at this token
    clean_metric: float  # m of the unpatched target run

    def cells(self) -> list[Cell]:
        """Every grid cell as ``(layer, target position, source position)``, row-major."""
        return [(layer, t, s) for layer in self.layers for t, s in zip(self.target_positions, self.source_positions)]


def metric_gradients(model: LoadedModel, input_ids: Int[Tensor, "1 seq"], metric: Metric, layers: Sequence[int]
                     ) -> tuple[float, Float[Tensor, "n_layers seq d_model"], Float[Tensor, "n_layers seq d_model"]]:
    """``m`` of one run, the residual after each of ``layers`` and ``dm/d residual`` there (one forward + backward).

    A zero tensor added to each block's output is the leaf the gradient is taken against, so the
    weights need no gradient and every downstream path counts.
    """
    if model.remote:
        raise NegprobeError("attribution patching takes gradients through weights held here, which a remote handle"
                            " (--remote) has not: patch exactly instead (negprobe.activations.tracing)")
    input_ids = torch.as_tensor(input_ids, dtype=torch.long).reshape(1, -1).to(model.device)
    blocks, seq = decoder_layers(model.model), input_ids.shape[1]
    zeros = {layer: torch.zeros(seq, model.d_model, dtype=model.dtype, device=model.device, requires_grad=True)
             for layer in layers}
    kept: dict[int, Tensor] = {}

    def edit(layer: int):
        def add_zero(hidden: Tensor) -> Tensor:
            kept[layer] = hidden[0].detach()
            return hidden + zeros[layer]

        return add_zero

    handles = [blocks[layer].register_forward_hook(edit_hook(edit(layer))) for layer in layers]
    try:
        with torch.enable_grad():
            out = model.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), use_cache=False,
                              **last_position_kwargs(model))
            value = metric(out.logits[:, -1])
            if value.numel() != 1:
                raise NegprobeError(f"the metric must give one value per row, got shape {tuple(value.shape)}")
            grads = torch.autograd.grad(value.sum(), [zeros[layer] for layer in layers], allow_unused=True)
    finally:
        for handle in handles:
            handle.remove()
    grads = [torch.zeros_like(zeros[layer]) if g is None else g for g, layer in zip(grads, layers)]
    return float(value.detach().float().sum()), torch.stack([kept[layer] for layer in layers]), torch.stack(grads)


def attribution_grid(model: LoadedModel, target_ids: Int[Tensor, "1 seq"], target_positions: Sequence[int],
                     source_values: Float[Tensor, "n_layers n_positions d_model"], metric: Metric,
                     layers: Sequence[int] | None = None, source_positions: Sequence[int] | None = None
                     ) -> AttributionGrid:
    """The attribution-patching estimate for given replacement residuals ``source_values[i, j]`` (after block
    ``layers[i]`` at ``target_positions[j]``); :func:`attribution_patching` reads them off a source prompt."""
    layers = model.check_layers(range(model.n_layers) if layers is None else list(layers))
    positions = list(target_positions)
    if source_values.shape[:2] != (len(layers), len(positions)):
        raise NegprobeError(f"source values of shape {tuple(source_values.shape)} do not fit {len(layers)} layers x "
                            f"{len(positions)} positions")
    clean, residuals, grads = metric_gradients(model, target_ids, metric, layers)
    if positions and not 0 <= min(positions) <= max(positions) < residuals.shape[1]:
        raise NegprobeError(f"target positions must be in 0..{residuals.shape[1] - 1}, got {positions}")
    diff = source_values.to(residuals) - residuals[:, positions]
    effects = (diff.float() * grads[:, positions].float()).sum(-1)
    return AttributionGrid(effects.cpu().numpy(), tuple(layers), tuple(positions),
                           tuple(positions if source_positions is None else source_positions), clean)


def attribution_patching(model: LoadedModel, target_ids: Int[Tensor, "1 seq"], source_ids: Int[Tensor, "1 seq"],
                         target_positions: Sequence[int], source_positions: Sequence[int], metric: Metric,
                         layers: Sequence[int] | None = None, source: CleanTrace | None = None) -> AttributionGrid:
    """Estimated effect on ``metric`` of patching the target's residual after every block in ``layers`` (default:
    every block) at each ``target_positions[j]`` with the source run's at ``source_positions[j]``.

    One forward + backward pass of the target, one forward pass of the source (or its cached ``source``
    trace). Positions are non-negative token indices aligned one to one (e.g.
    :func:`negprobe.analysis.token_alignment.grid_alignment`).
    """
    if len(target_positions) != len(source_positions):
        raise NegprobeError(f"target and source positions must align one to one: got {len(target_positions)} "
                            f"and {len(source_positions)}")
    layers = model.check_layers(range(model.n_layers) if layers is None else list(layers))
    source = source if source is not None else trace_prompt(model, source_ids)
    values = source.residuals[layers][:, list(source_positions)]
    return attribution_grid(model, target_ids, target_positions, values, metric, layers, source_positions)


def exact_patching(model: LoadedModel, target: CleanTrace, source: CleanTrace, cells: Sequence[Cell], metric: Metric,
                   max_rows: int = 64, progress: Progress | None = None) -> Float[np.ndarray, " n_cells"]:
    """``m(patched) - m(clean)`` of each cell ``(layer, target position, source position)``, exactly: one
    patched row per cell, run from the target's clean trace in batches (rows grouped by position, so each batch
    recomputes few positions)."""
    order = sorted(range(len(cells)), key=lambda i: (cells[i][1], cells[i][0]))
    clean = metric(target.last_logits[None].float().cpu())
    out = np.empty(len(cells), dtype=np.float64)
    step = max(1, max_rows)
    for first in range(0, len(order), step):
        rows = order[first:first + step]
        layers = [cells[i][0] for i in rows]
        hidden = target.residuals[layers].clone()
        for row, i in enumerate(rows):
            layer, t, s = cells[i]
            hidden[row, t] = source.residuals[layer, s]
        logits = run_from(model, target, layers, hidden, max_rows=step, progress=progress).logits
        out[rows] = (metric(logits) - clean).double().numpy()
    return out


@dataclass(frozen=True)
class Agreement:
    """How well attribution patching ranks the cells an exact sweep covers."""

    spearman: float  # Spearman rank correlation (Pearson of average ranks) of the signed effects on the covered cells
    top_k: float  # share of the exact top-k cells (by |effect|) that are in attribution patching's top k
    k: int
    n_cells: int


def compare_with_exact(estimate: Float[np.ndarray, " *cells"], exact: Float[np.ndarray, " *cells"], k: int = 10
                       ) -> Agreement:
    """Agreement of estimated and exact effects on the cells where ``exact`` is finite (NaN: not covered)."""
    from scipy.stats import rankdata

    estimate, exact = np.asarray(estimate, dtype=float).ravel(), np.asarray(exact, dtype=float).ravel()
    if estimate.shape != exact.shape:
        raise NegprobeError(f"estimate and exact effects differ in size: {estimate.size} and {exact.size}")
    covered = np.isfinite(exact) & np.isfinite(estimate)
    est, ex = estimate[covered], exact[covered]
    if len(ex) < 2:
        raise NegprobeError(f"{len(ex)} covered cells: need two to compare rankings")
    rho = float(np.corrcoef(rankdata(est), rankdata(ex))[0, 1]) if np.ptp(est) > 0 and np.ptp(ex) > 0 else np.nan
    k = min(k, len(ex))
    top_est, top_ex = set(np.argsort(-np.abs(est), kind="stable")[:k]), set(np.argsort(-np.abs(ex), kind="stable")[:k])
    return Agreement(rho, len(top_est & top_ex) / k, k, len(ex))


@dataclass(frozen=True, eq=False)
class Screen:
    """Attribution patching over the full grid, then exact patching of its ``k`` largest cells."""

    grid: AttributionGrid
    cells: tuple[Cell, ...]  # the confirmed cells, largest |estimate| first
    estimate: Float[np.ndarray, " k"]
    exact: Float[np.ndarray, " k"]

    def agreement(self) -> Agreement:
        return compare_with_exact(self.estimate, self.exact, len(self.cells))


def screen_then_confirm(model: LoadedModel, target_ids: Int[Tensor, "1 seq"], source_ids: Int[Tensor, "1 seq"],
                        target_positions: Sequence[int], source_positions: Sequence[int], metric: Metric, k: int = 10,
                        layers: Sequence[int] | None = None, max_rows: int = 64, source: CleanTrace | None = None,
                        target: CleanTrace | None = None, progress: Progress | None = None) -> Screen:
    """:func:`attribution_patching` over every (layer, aligned position), then :func:`exact_patching` of the ``k``
    cells with the largest estimated |effect| (``source`` / ``target``: their clean traces, when cached)."""
    source = source if source is not None else trace_prompt(model, source_ids)
    target = target if target is not None else trace_prompt(model, target_ids)
    grid = attribution_patching(model, target_ids, source_ids, target_positions, source_positions, metric, layers,
                                source)
    flat = grid.effects.ravel()
    top = np.argsort(-np.abs(flat), kind="stable")[: max(0, k)]
    every = grid.cells()
    cells = tuple(every[i] for i in top)
    exact = exact_patching(model, target, source, cells, metric, max_rows, progress) if cells else np.empty(0)
    return Screen(grid, cells, flat[top], exact)
