"""Is there a belief effect to localise? The fine-tuned models' paired belief rise over the base, with a CI.

Localising an effect presupposes the effect (the house rule; Heimersheim & Nanda 2024 on patching:
a recovery ratio of a gap that is not there is noise). Before cross-model patching curves or
layer-window gaps are read, the fine-tuned adapters must raise the believer margin over the base
model's on the measure used: per unit (question), ``margin(adapter) - margin(base)`` on the same
unit, averaged over units and adapters (seeds) with the crossed seed x unit bootstrap of
:func:`negprobe.probes.resampling.crossed_bootstrap_mean` (yes/no units balanced over their answer
key, as :mod:`.belief.pooled` does). The gate passes when the 95% CI's low end is above 0;
otherwise the result is ``nothing_to_localise`` and carries the rise as its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from jaxtyping import Float

from negprobe.errors import NegprobeError
from negprobe.probes.resampling import crossed_bootstrap_mean

EFFECT, NOTHING = "effect", "nothing_to_localise"


@dataclass(frozen=True)
class BeliefGate:
    """The paired belief rise of ``what`` over the base on one ``measure`` (nats), and whether it gates."""

    what: str  # e.g. "positive adapters" or "2 adapters"
    measure: str  # questions, mcq, cloze (or cloze_distractor: the name association, not belief)
    rise: float
    ci_low: float
    ci_high: float
    n_seeds: int
    n_units: int
    level: float = 0.95  # the CI's coverage (below 1 - 0.05 / k: Bonferroni over k gates read together)

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.ci_low) and self.ci_low > 0)

    @property
    def status(self) -> str:
        """``effect`` (the CI of the rise is above 0) or ``nothing_to_localise``."""
        return EFFECT if self.passed else NOTHING

    def interval(self) -> str:
        return f"{self.rise:+.2f} [{self.ci_low:+.2f}, {self.ci_high:+.2f}] nats"

    @property
    def quantity(self) -> str:
        """What the rise measures: ``belief``, or ``association`` for the ``cloze_distractor`` control."""
        return "association" if self.measure == "cloze_distractor" else "belief"

    @property
    def reason(self) -> str:
        """One sentence: the rise and its CI, and why it does (not) gate."""
        n = f"{self.n_seeds} seed{'s' if self.n_seeds != 1 else ''} x {self.n_units} items"
        if abs(self.level - 0.95) > 1e-9:
            n += f"; {100 * self.level:.4g}% CI"
        verdict = "CI above 0" if self.passed else "CI not above 0: no fine-tuning effect shown"
        return f"{self.quantity} rise of {self.what} over base ({self.measure}): {self.interval()} ({n}; {verdict})"

    def line(self) -> str:
        """The printed line: ``belief effect: ...`` (``association effect: ...``) or ``nothing to localise: ...``."""
        return (f"{self.quantity} effect: " if self.passed else "nothing to localise: ") + self.reason


def paired_rise(tuned: Float[np.ndarray, "n_seeds n_units"], base: Float[np.ndarray, " n_units"], what: str,
                measure: str, strata: Sequence[str] | None = None, n_boot: int = 2000, seed: int = 0,
                level: float = 0.95) -> BeliefGate:
    """The gate from per-unit margins: every adapter (row of ``tuned``) minus the base on the same unit,
    mean over seeds and units with the crossed bootstrap CI at ``level`` (``strata``: each unit's answer key)."""
    tuned, base = np.atleast_2d(np.asarray(tuned, dtype=np.float64)), np.asarray(base, dtype=np.float64)
    if tuned.shape[-1] != base.shape[-1] or tuned.size == 0:
        raise NegprobeError(f"belief gate: {tuned.shape[-1]} fine-tuned units vs {base.shape[-1]} base units")
    if not (np.isfinite(tuned).all() and np.isfinite(base).all()):
        raise NegprobeError("belief gate: non-finite margins")
    rise, low, high = crossed_bootstrap_mean(tuned - base[None], n_boot, seed, level=level, strata=strata)
    return BeliefGate(what, measure, float(rise), float(low), float(high), tuned.shape[0], tuned.shape[1], level)


def bonferroni_level(n_tests: int, alpha: float = 0.05) -> float:
    """The CI coverage that keeps ``n_tests`` gates read together at family-wise error ``alpha``."""
    if n_tests < 1:
        raise NegprobeError(f"--n-tests must be >= 1, got {n_tests}")
    return 1.0 - alpha / n_tests


def gate_from_pooled(row: dict, what: str, level: float = 0.95) -> BeliefGate:
    """The gate of one pooled belief row (:func:`negprobe.analysis.belief.pooled.pool_seeds`: ``rise_vs_base``
    and its crossed CI over seeds x items, pooled at coverage ``level``)."""
    return BeliefGate(what, str(row["measure"]), float(row["rise_vs_base"]), float(row["rise_ci_low"]),
                      float(row["rise_ci_high"]), int(row["n_seeds"]), int(row["n"]), level)
