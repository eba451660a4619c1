"""Claim-level inference for the causal checks: means over claims with a two-stage cluster bootstrap,
and the hand-off layer of a patching-effect curve.

**Claim mean** (:func:`claim_mean`). Rows are (claim, paraphrase) pairs; the statistic is the mean
over claims of each claim's mean over its paraphrases, so a claim with more usable paraphrases
does not weigh more. Its CI is a percentile interval of a two-stage cluster bootstrap
(:func:`claim_paraphrase_weights`): draw claims with replacement, then, within every drawn copy of
a claim, its paraphrases with replacement (Davison & Hinkley 1997, sec. 3.8; Field & Welsh 2007).
Both stages draw from :func:`negprobe.probes.resampling.bootstrap_weights`, the one seeded resampler.
With 6 claims the claim stage dominates; with a single claim the interval is over paraphrases only.

**Hand-off layer** (:func:`handoff_layer`). The curve is the claim mean of the normalised indirect
effect (NIE) of patching every claim token after one layer at a time. Let ``p`` be its peak. The
hand-off layer is the first patched layer after the peak from which the curve stays below ``p / 2``
through the last patched layer, i.e. :func:`negprobe.analysis.drop_layer.decodability_drop_layer`
with floor 0. It is a *hand-off*, not a drop: from there on the claim tokens no longer carry the
effect, yet the effect still reaches the output (the unpatched annotated run still differs from
the plain one), so it has moved to later positions. ``n_layers`` means "never": the claim tokens
still carry at least half the peak at the last patched layer. No hand-off exists when the curve
never exceeds 0. CI: :func:`negprobe.analysis.drop_layer.bootstrap_layer_ci` over claims (each
claim's mean curve is one unit; a single claim resamples its paraphrases), ends on observed draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from jaxtyping import Float

from negprobe.errors import NegprobeError
from negprobe.probes.resampling import bootstrap_weights, percentile_interval

from .drop_layer import bootstrap_layer_ci, decodability_drop_layer


def claim_paraphrase_weights(claims: Sequence | np.ndarray, n_boot: int, seed: int = 0) -> Float[np.ndarray, "n_boot n"]:
    """Row weights of a two-stage bootstrap: claims with replacement, then paraphrases within each drawn copy.

    A row's weight is the number of times it is drawn over all copies of its claim, so a claim's
    rows sum to ``copies * n_rows_of_claim``.
    """
    claims = np.asarray(claims).astype(str)
    n = len(claims)
    first = bootstrap_weights(claims, n, n_boot, seed)  # [B, n]: the claim's number of copies
    names = np.unique(claims)
    out = np.zeros((n_boot, n))
    for k, name in enumerate(names):
        idx = np.flatnonzero(claims == name)
        copies = first[:, idx[0]].astype(int)  # [B]
        inner = bootstrap_weights(None, len(idx), n_boot * len(names), seed + 1 + k)
        inner = inner.reshape(n_boot, len(names), len(idx))
        used = np.arange(len(names))[None, :] < copies[:, None]  # the first `copies` inner draws
        out[:, idx] = (inner * used[..., None]).sum(1)
    return out


def t_interval(values: Float[np.ndarray, " n"], level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` with a Student-t interval ``(mean, low, high)``: the small-sample interval for
    6 claim means or 10 paraphrase differences, where a percentile bootstrap under-covers (Efron &
    Tibshirani 1993, sec. 13.7). One value: the interval is the value itself."""
    from scipy.stats import t as student_t

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or not len(values) or not np.isfinite(values).all():
        raise NegprobeError(f"a t interval needs a non-empty finite 1-d array, got shape {values.shape}")
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = float(student_t.ppf(0.5 + level / 2, len(values) - 1)) * float(values.std(ddof=1)) / np.sqrt(len(values))
    return mean, mean - half, mean + half


@dataclass(frozen=True, eq=False)
class ClaimMean:
    """A claim-level mean (over claims of per-claim paraphrase means) with its bootstrap CI."""

    value: Float[np.ndarray, "*shape"]
    ci_low: Float[np.ndarray, "*shape"]
    ci_high: Float[np.ndarray, "*shape"]
    n_claims: int
    n_rows: int


def claim_mean(values: Float[np.ndarray, "n_rows ..."], claims: Sequence | np.ndarray, n_boot: int = 1000,
               seed: int = 0, level: float = 0.95) -> ClaimMean:
    """Mean over claims of per-claim means of ``values`` (rows on axis 0), with a two-stage bootstrap CI."""
    values = np.asarray(values, dtype=np.float64)
    claims = np.asarray(claims).astype(str)
    if len(values) == 0 or len(values) != len(claims):
        raise NegprobeError(f"need one claim per row and at least one row, got {len(values)} rows, {len(claims)} claims")
    _, inverse, counts = np.unique(claims, return_inverse=True, return_counts=True)
    per_row = 1.0 / counts[inverse.reshape(-1)]  # a claim's rows share one unit of weight
    flat = values.reshape(len(values), -1)
    point = per_row @ flat / per_row.sum()
    weights = claim_paraphrase_weights(claims, n_boot, seed) * per_row[None]
    draws = weights @ flat / weights.sum(1, keepdims=True)
    low, high = percentile_interval(draws, level)
    shape = values.shape[1:]
    return ClaimMean(point.reshape(shape), np.asarray(low).reshape(shape), np.asarray(high).reshape(shape),
                     len(counts), len(values))


def per_claim_curves(values: Float[np.ndarray, "n n_layers"], claims) -> tuple[np.ndarray, np.ndarray]:
    """Each claim's mean curve over its rows: ``(curves [n_claims, n_layers], claim names)``."""
    claims = np.asarray(claims).astype(str)
    names = np.unique(claims)
    return np.stack([np.asarray(values)[claims == name].mean(0) for name in names]), names


@dataclass(frozen=True)
class HandOff:
    """The hand-off layer (see the module docstring) and its bootstrap CI, in layer indices.

    ``layer`` is ``None`` when patching the claim tokens never moves the margin toward the source
    run (nothing to hand off); ``n_layers`` (past the last layer) means "never handed off".
    """

    layer: int | None
    ci_low: int | None
    ci_high: int | None
    n_claims: int
    n_pairs: int


def _handoff_slot(curve: np.ndarray) -> int:
    """Hand-off slot of one curve; a draw that never exceeds 0 has no effect to hand off: slot 0."""
    return decodability_drop_layer(curve, 0.0) if np.nanmax(curve) > 0 else 0


def handoff_layer(nie: Float[np.ndarray, "n_pairs n_slots"], claims, patch_layers: Sequence[int], n_layers: int,
                  n_boot: int = 1000, seed: int = 0) -> HandOff:
    """The hand-off layer of the claim-mean NIE curve over ``patch_layers``, CI over claims."""
    nie = np.asarray(nie, dtype=np.float64)
    claims = np.asarray(claims).astype(str)
    if nie.ndim != 2 or nie.shape[1] != len(patch_layers) or len(nie) != len(claims) or not len(nie):
        raise NegprobeError(f"NIE curves must be [n_pairs, {len(patch_layers)}] with one claim each, got {nie.shape}")
    curves, names = per_claim_curves(nie, claims)
    if len(names) == 1:
        curves = nie  # one claim: its paraphrases are the units
    n_claims = len(names)
    if not np.isfinite(curves).all():
        raise NegprobeError("NIE curves have non-finite values; compute them only where the gap is guarded")
    if curves.mean(0).max() <= 0:
        return HandOff(None, None, None, n_claims, len(nie))

    def at(slot: float) -> int:
        return patch_layers[int(slot)] if int(slot) < len(patch_layers) else n_layers

    value, low, high = bootstrap_layer_ci(curves, _handoff_slot, n_boot=n_boot, seed=seed)
    return HandOff(at(value), at(low), at(high), n_claims, len(nie))
