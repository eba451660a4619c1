"""Truth readout of a claim's representation, normalised, paired, and gated for validity.

A truth probe's score is mapped to a readout per layer: 0 = the mean score of the probe's own
false training statements, 1 = the mean of its true ones (fitted on training data only). Raw
scores of out-of-topic prompts carry an offset, so readouts are also reported *paired* (claim
minus its true counterpart; affirmed minus local negation). A readout is a finding only if its
probe transfers: :class:`ValidityGate` requires held-out-topic AUROC and the claim's own
counterpart-pair AUROC to reach a threshold (default 0.65) at that layer. The inversion rate is
the share of claim paraphrases read on the wrong side of the truth (Slocum et al. 2025).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negprobe.errors import NegprobeError
from negprobe.probes.resampling import bootstrap_mean

DEFAULT_GATE = 0.65  # below this AUROC a probe's readout on the claim is reported as uninformative


@dataclass(frozen=True, eq=False)
class ReadoutScale:
    """Per-layer affine map from probe scores to the 0 (false) .. 1 (true) readout scale."""

    false_mean: np.ndarray  # [L]
    true_mean: np.ndarray  # [L]

    @classmethod
    def fit(cls, scores: np.ndarray, labels) -> ReadoutScale:
        """``scores`` [L, n] of the probe on its own training rows, ``labels`` 0/1."""
        scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
        labels = np.asarray(labels) > 0.5
        if labels.all() or (~labels).all():
            raise NegprobeError("a readout scale needs true and false training statements")
        false_mean, true_mean = scores[:, ~labels].mean(1), scores[:, labels].mean(1)
        if np.any(np.isclose(true_mean, false_mean)):
            raise NegprobeError("the probe scores true and false training rows alike at some layer; no readout scale")
        return cls(false_mean, true_mean)

    def apply(self, scores: np.ndarray) -> np.ndarray:
        scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
        return (scores - self.false_mean[:, None]) / (self.true_mean - self.false_mean)[:, None]


def inversion_rate(readout: np.ndarray, truth, threshold: float = 0.5) -> np.ndarray:
    """Share of rows per layer read on the wrong side of ``threshold`` given their truth (0/1)."""
    readout = np.atleast_2d(readout)
    truth = np.asarray(truth) > 0.5
    reads_true = readout >= threshold
    return (reads_true != truth[None]).mean(1)


def paired_difference(readout_a: np.ndarray, readout_b: np.ndarray, n_boot: int = 1000, seed: int = 0,
                      level: float = 0.95, groups=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean per layer of ``a - b`` over aligned pairs, with a percentile CI from resampling pairs
    (or whole ``groups`` of pairs, e.g. the paraphrases of one claim, with replacement)."""
    a, b = np.atleast_2d(readout_a), np.atleast_2d(readout_b)
    if a.shape != b.shape:
        raise NegprobeError(f"paired readouts must align: {a.shape} vs {b.shape}")
    diff = a - b  # [L, n_pairs]
    return bootstrap_mean(diff, groups, n_boot=n_boot, seed=seed, level=level)


@dataclass(frozen=True, eq=False)
class ValidityGate:
    """Per layer: does the truth probe transfer to unseen topics and to the claim's own pairs?"""

    heldout_topic_auroc: np.ndarray  # [L]
    counterpart_auroc: np.ndarray  # [L]: claim vs its true counterpart, in the base model
    threshold: float = DEFAULT_GATE

    @property
    def passed(self) -> np.ndarray:
        return (np.asarray(self.heldout_topic_auroc) >= self.threshold) & (
            np.asarray(self.counterpart_auroc) >= self.threshold)

    def describe(self, layer_slot: int) -> str:
        if self.passed[layer_slot]:
            return "valid"
        return (f"uninformative (held-out-topic AUROC {self.heldout_topic_auroc[layer_slot]:.2f}, counterpart AUROC"
                f" {self.counterpart_auroc[layer_slot]:.2f} < {self.threshold})")
