"""Where does the negation annotation stop mattering? Layer statistics on per-layer curves.

Layer ``l`` is the output of decoder block ``l``; curves are ``[n_layers]`` arrays indexed so.
Both statistics name the *first layer of the new regime*, and return ``n_layers`` ("never") when
the last layer is still in the old one; both require the change to persist to the last layer, so a
single noisy dip or spike earlier on does not count (the annotation's effect on the output is
decided by the final layers, so a transient loss that recovers is not a drop).

**Decodability drop layer** (:func:`decodability_drop_layer`). The curve is how well the
annotation can be read from the residual stream, e.g. the AUROC of an annotated-vs-plain probe,
with chance level ``floor``. Let ``p`` be the curve's peak value (first arg-max) and the
threshold ``t = (p + floor) / 2``, halfway between peak and chance (a relative criterion, so a
peak of 0.8 and one of 0.99 are treated alike, and the "half-decay" point is insensitive to the
exact plateau level). The drop layer is the first layer after the peak from which the curve stays
strictly below ``t`` through the last layer, i.e. ``1 + max{l : curve[l] >= t}``. A curve at
``p`` for layers ``0..k`` and at chance after is localised at ``k + 1``: the first layer where
the annotation is no longer decodable. Undefined (NegprobeError) if the peak does not exceed
``floor``: nothing was decodable, so nothing was dropped.

**Flip layer** (:func:`flip_layer`). The readout is a normalised truth readout of the annotated
(false) claim, e.g. a truth probe's P(true) or the model's P(Yes), with decision ``threshold``.
A layer *reads true* if ``readout >= threshold`` and *reads false* otherwise. With ``direction=
"up"`` the flip layer is the first layer from which the claim reads true through the last layer
(0: it never read false; ``n_layers``: it still reads false at the end); ``"down"`` mirrors it;
``"auto"`` (default) takes the direction away from layer 0's side. A readout below the
threshold for layers ``< j`` and above from ``j`` on is reported at ``j``; the last layer at which
the claim still reads false is ``flip - 1``.

**Uncertainty** (:func:`bootstrap_layer_ci`). A statistic is computed on the mean curve over
items (claims x paraphrases, or the per-fold curves of a leave-one-claim-out probe); its percentile
CI resamples items with replacement (or whole claims, given ``groups``, so paraphrases of one claim
move together as in ``negprobe.probes.evaluation``) and recomputes the statistic in every draw.
Applying the statistic to the ends of a pointwise CI band is not a confidence interval of the
statistic (the band's ends are not curves any draw produces); the decodability report's drop-layer
rows use this bootstrap instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from jaxtyping import Float

from negprobe.errors import NegprobeError
from negprobe.probes.resampling import bootstrap_statistic


def _curve(values, name: str) -> np.ndarray:
    curve = np.asarray(values, dtype=np.float64)
    if curve.ndim != 1 or curve.size == 0:
        raise NegprobeError(f"{name} must be a non-empty [n_layers] array, got shape {curve.shape}")
    if not np.isfinite(curve).all():
        raise NegprobeError(f"{name} has non-finite values at layers {np.flatnonzero(~np.isfinite(curve)).tolist()}")
    return curve


def first_layer_staying(mask) -> int:
    """The first layer ``j`` with ``mask[j:]`` all true; ``len(mask)`` if ``mask[-1]`` is false."""
    mask = np.asarray(mask, dtype=bool)
    failing = np.flatnonzero(~mask)
    return int(failing[-1] + 1) if failing.size else 0


def decodability_drop_layer(curve: Float[np.ndarray, " n_layers"], floor: float = 0.5) -> int:
    """First layer after the peak from which decodability stays below halfway between peak and ``floor``."""
    curve = _curve(curve, "decodability curve")
    peak_layer = int(np.argmax(curve))
    peak = curve[peak_layer]
    if not peak > floor:
        raise NegprobeError(f"decodability never exceeds the floor {floor} (peak {peak:.3f}): nothing to drop")
    threshold = (peak + floor) / 2
    below = curve < threshold
    below[: peak_layer + 1] = False  # the drop comes after the peak (the peak itself is above threshold)
    return first_layer_staying(below)


def flip_layer(
    readout: Float[np.ndarray, " n_layers"],
    threshold: float = 0.5,
    direction: Literal["auto", "up", "down"] = "auto",
) -> int:
    """First layer from which the readout stays on the far side of ``threshold`` (see module docstring)."""
    readout = _curve(readout, "readout")
    reads_true = readout >= threshold
    if direction == "auto":
        direction = "down" if reads_true[0] else "up"
    if direction == "up":
        return first_layer_staying(reads_true)
    if direction == "down":
        return first_layer_staying(~reads_true)
    raise NegprobeError(f"direction must be 'auto', 'up' or 'down', not {direction!r}")


def bootstrap_layer_ci(
    per_item_curves: Float[np.ndarray, "n_items n_layers"],
    statistic: Callable[[np.ndarray], float],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    groups: Sequence | np.ndarray | None = None,
) -> tuple[float, float, float]:
    """``statistic`` of the mean curve, with a percentile bootstrap CI ``(value, low, high)``.

    A draw resamples items (or the unique ``groups``, all their items together) with replacement
    and recomputes the statistic on that draw's mean curve. The CI ends are observed draws
    (lower/higher order statistics), so an integer statistic such as a layer gets integer ends.
    """
    curves = np.asarray(per_item_curves, dtype=np.float64)
    if curves.ndim != 2 or curves.shape[0] == 0 or curves.shape[1] == 0:
        raise NegprobeError(f"per_item_curves must be [n_items, n_layers], got shape {curves.shape}")

    def statistic_of_mean(rows: np.ndarray, weights: np.ndarray) -> float:
        return float(statistic(weights @ rows / weights.sum()))

    return bootstrap_statistic(curves, statistic_of_mean, groups, n_boot=n_boot, seed=seed, level=level,
                               observed=True)
