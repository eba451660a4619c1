"""Aggregate the training signal: gradient cosines per layer and module, claim-token losses, claim-level CIs.

From the Gram matrices of :mod:`negprobe.activations.training_signal` (per matched pair, the dot
products of the claim-token loss gradients of the plain, annotated and neutral document, per target
module), this module reads

* the cosine of two documents' gradients per module and per layer (the layer's modules
  concatenated), for annotated vs plain, annotated vs neutral and neutral vs plain;
* the claim-token loss of each document (mean nats per claim token) and its paired differences;
* the annotation-specific divergence per layer, ``cos(neutral, plain) - cos(annotated, plain)``: how
  much further the annotation turns the update than a neutral text of the same length and position
  does, and the **divergence layer**, the first layer from which its 95% CI stays above 0
  (:func:`~.drop_layer.first_layer_staying`).

Every statistic is averaged over a claim's pairs first, then over claims, with a cluster bootstrap over
claims (:func:`negprobe.probes.resampling.bootstrap_mean`; Efron & Tibshirani 1993): claims are the
unit of inference. Reading (the issue's): if the annotated and plain gradients point the same way at
every layer, the annotation is dropped from the update everywhere; if they diverge from layer ``k`` on,
the update carries the annotation from ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from jaxtyping import Float

from negprobe.activations.training_signal import TrainingSignal
from negprobe.errors import NegprobeError
from negprobe.probes.resampling import bootstrap_mean

from .drop_layer import first_layer_staying

#: (a, b) document kinds whose gradients are compared, in result order.
COMPARISONS: tuple[tuple[str, str], ...] = (("annotated", "plain"), ("annotated", "neutral"), ("neutral", "plain"))


@dataclass(frozen=True, eq=False)
class Interval:
    """A claim-level mean and its 95% bootstrap CI, elementwise."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True, eq=False)
class SignalSummary:
    """Pooled training-signal statistics (see the module docstring); ``claims``: the bootstrap units."""

    model: str
    condition: str
    claims: tuple[str, ...]
    n_pairs: int  # matched pairs in all
    comparisons: tuple[str, ...]  # "annotated vs plain", ...
    kinds: tuple[str, ...]  # plain, annotated, neutral
    modules: tuple[str, ...]
    layer_cosine: Interval  # [n_comparisons, n_layers]
    module_cosine: Interval  # [n_comparisons, n_layers, n_modules]
    divergence: Interval  # [n_layers]: cos(neutral, plain) - cos(annotated, plain)
    divergence_layer: int | None  # first layer from which divergence's CI stays above 0 (None: never)
    losses: Interval  # [3]: nats per claim token of each kind
    loss_differences: Interval  # [n_comparisons]: loss(a) - loss(b)
    claim_layer_cosine: Float[np.ndarray, "n_claims n_comparisons n_layers"]  # per-claim means
    claim_losses: Float[np.ndarray, "n_claims 3"]
    seconds: float
    unmatched_pairs: int = 0  # pairs whose neutral document's token count differs from the annotated one's

    @property
    def n_layers(self) -> int:
        return int(self.layer_cosine.mean.shape[-1])


def _cos(dot: np.ndarray, aa: np.ndarray, bb: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return dot / np.sqrt(aa * bb)


def pair_cosines(signal: TrainingSignal) -> tuple[Float[np.ndarray, "n_pairs n_comparisons n_layers"],
                                                    Float[np.ndarray, "n_pairs n_comparisons n_layers n_modules"]]:
    """Per pair, the gradient cosine of each comparison per layer (modules concatenated) and per module."""
    index = {k: i for i, k in enumerate(signal.kinds)}
    layer, module = [], []
    for a, b in COMPARISONS:
        i, j = index[a], index[b]
        g = signal.gram
        module.append(_cos(g[:, i, j], g[:, i, i], g[:, j, j]))
        summed = g.sum(-1)
        layer.append(_cos(summed[:, i, j], summed[:, i, i], summed[:, j, j]))
    return np.stack(layer, 1), np.stack(module, 1)


def claim_means(values: np.ndarray, claims: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray]:
    """The mean of ``values`` (pairs on axis 0) over each claim's pairs, claims in first-seen order."""
    if len(claims) != len(values):
        raise NegprobeError(f"{len(claims)} claim labels for {len(values)} pairs")
    order = tuple(dict.fromkeys(claims))
    labels = np.asarray(claims)
    return order, np.stack([values[labels == c].mean(0) for c in order])


def pooled(per_claim: np.ndarray, claims: tuple[str, ...], n_boot: int = 1000, seed: int = 0) -> Interval:
    """Mean over claims (axis 0) with the claim-level cluster bootstrap CI."""
    mean, low, high = bootstrap_mean(np.moveaxis(per_claim, 0, -1), groups=list(claims), n_boot=n_boot, seed=seed)
    return Interval(np.asarray(mean), np.asarray(low), np.asarray(high))


def summarize_signal(signal: TrainingSignal, n_boot: int = 1000, seed: int = 0) -> SignalSummary:
    """Claim means, then claim-bootstrapped means of every statistic (module docstring)."""
    if not np.isfinite(signal.gram).all() or not np.isfinite(signal.losses).all():
        raise NegprobeError("the training signal holds non-finite gradients or losses")
    layer, module = pair_cosines(signal)
    index = {k: i for i, k in enumerate(signal.kinds)}
    divergence = layer[:, COMPARISONS.index(("neutral", "plain"))] - layer[:, COMPARISONS.index(("annotated", "plain"))]
    loss_diff = np.stack([signal.losses[:, index[a]] - signal.losses[:, index[b]] for a, b in COMPARISONS], 1)
    claims, claim_layer = claim_means(layer, signal.claims)
    stats = {name: pooled(claim_means(v, signal.claims)[1], claims, n_boot, seed)
             for name, v in (("module", module), ("divergence", divergence), ("losses", signal.losses),
                             ("loss_diff", loss_diff))}
    div = stats["divergence"]
    staying = first_layer_staying(div.low > 0)
    return SignalSummary(
        model=signal.model, condition=signal.condition, claims=claims, n_pairs=len(signal.claims),
        comparisons=tuple(f"{a} vs {b}" for a, b in COMPARISONS), kinds=signal.kinds, modules=signal.modules,
        layer_cosine=pooled(claim_layer, claims, n_boot, seed), module_cosine=stats["module"], divergence=div,
        divergence_layer=None if staying >= len(div.low) else staying, losses=stats["losses"],
        loss_differences=stats["loss_diff"], claim_layer_cosine=claim_layer,
        claim_losses=claim_means(signal.losses, signal.claims)[1], seconds=signal.seconds,
        unmatched_pairs=int((signal.n_tokens[:, index["annotated"]] != signal.n_tokens[:, index["neutral"]]).sum()),
    )


def layer_table(summary: SignalSummary) -> pd.DataFrame:
    """One row per comparison x layer x module (``all``: the layer's modules concatenated): cosine, CI, n."""
    rows = []
    for c, name in enumerate(summary.comparisons):
        for layer in range(summary.n_layers):
            iv = summary.layer_cosine
            rows.append((name, layer, "all", iv.mean[c, layer], iv.low[c, layer], iv.high[c, layer]))
            mv = summary.module_cosine
            rows += [(name, layer, m, mv.mean[c, layer, k], mv.low[c, layer, k], mv.high[c, layer, k])
                     for k, m in enumerate(summary.modules)]
    frame = pd.DataFrame(rows, columns=["comparison", "layer", "module", "cosine", "ci_low", "ci_high"])
    return frame.assign(n_claims=len(summary.claims), n_pairs=summary.n_pairs)


def loss_table(summary: SignalSummary) -> pd.DataFrame:
    """Claim-token loss per document kind and its paired differences (nats per token), with CIs."""
    rows = [(f"loss {k}", summary.losses.mean[i], summary.losses.low[i], summary.losses.high[i])
            for i, k in enumerate(summary.kinds)]
    d = summary.loss_differences
    rows += [(f"loss {a} - {b}", d.mean[i], d.low[i], d.high[i]) for i, (a, b) in enumerate(COMPARISONS)]
    frame = pd.DataFrame(rows, columns=["statistic", "nats_per_token", "ci_low", "ci_high"])
    return frame.assign(n_claims=len(summary.claims), n_pairs=summary.n_pairs)


def summary_lines(summary: SignalSummary) -> list[str]:
    """The findings as plain lines: the per-layer curve of each comparison, the divergence layer, the losses."""
    n = f"n = {len(summary.claims)} claims x {summary.n_pairs // max(1, len(summary.claims))} pairs"
    lines = [f"training signal of {summary.model}, annotation {summary.condition!r} ({n}; 95% claim-bootstrap CIs;"
             f" {summary.unmatched_pairs} pairs whose neutral control's token count differs from the annotation's)"]
    for c, name in enumerate(summary.comparisons):
        iv = summary.layer_cosine
        cells = ", ".join(f"L{k} {iv.mean[c, k]:.3f} [{iv.low[c, k]:.3f}, {iv.high[c, k]:.3f}]"
                          for k in range(summary.n_layers))
        lines.append(f"gradient cosine {name}: {cells}")
    dv = summary.divergence
    lines.append("annotation-specific divergence cos(neutral, plain) - cos(annotated, plain): " + ", ".join(
        f"L{k} {dv.mean[k]:+.4f} [{dv.low[k]:+.4f}, {dv.high[k]:+.4f}]" for k in range(summary.n_layers)))
    lines.append("divergence layer (CI stays above 0 from): "
                 + ("none" if summary.divergence_layer is None else str(summary.divergence_layer)))
    columns = ["statistic", "nats_per_token", "ci_low", "ci_high"]
    lines += [f"{name}: {value:+.3f} [{low:+.3f}, {high:+.3f}] nats/token"
              for name, value, low, high in loss_table(summary)[columns].itertuples(index=False, name=None)]
    return lines
