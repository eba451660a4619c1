"""Truth readout of a claim's representation, normalised, paired, and gated for validity.

A truth probe's score is mapped to a readout per layer: 0 = the mean score of the probe's own
false training statements, 1 = the mean of its true ones (fitted on training data only). Raw
scores of out-of-topic prompts carry an offset, so readouts are also reported *paired* (claim
minus its true counterpart; affirmed minus local negation). A readout is a finding only if its
probe transfers: :class:`ValidityGate` requires held-out-topic AUROC and the claim's own
counterpart statistic to reach a threshold (default 0.65) at that layer. The counterpart
statistic is *paired* (:func:`paired_counterpart_statistic`): per claim, the share of its
paraphrase pairs whose true counterpart reads more true than the claim, averaged over claims, with
a CI from resampling claims; pooling all claims' rows into one AUROC would credit a reader for
telling claims apart rather than a claim from its own counterpart. A reader refitted on a
fine-tuned model is gated on held-out truth data only (``counterpart_auroc=None``): gating it on
the claim it is meant to read would fail, by construction, a reader that reads an implanted belief
correctly. The inversion rate is the share of claim paraphrases read on the wrong side of the truth
(Slocum et al. 2025).
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


def counterpart_pairs(pair_ids, is_counterpart) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(claim_rows, counterpart_rows)`` of the pairs, in pair-id order: rows with the same
    ``pair_id``, one a claim (``is_counterpart`` 0) and one its counterpart (1). Pair ids with one
    side only (a claim without a counterpart) are left out; a side given twice is an error."""
    pair_ids = np.asarray(pair_ids, dtype=object).astype(str)
    is_counterpart = np.asarray(is_counterpart).astype(bool)
    if len(pair_ids) != len(is_counterpart):
        raise NegprobeError(f"{len(pair_ids)} pair ids for {len(is_counterpart)} counterpart flags")
    sides: dict[str, list[list[int]]] = {}
    for row, (pid, cp) in enumerate(zip(pair_ids, is_counterpart)):
        sides.setdefault(str(pid), [[], []])[int(cp)].append(row)
    doubled = [pid for pid, (claim, cp) in sides.items() if len(claim) > 1 or len(cp) > 1]
    if doubled:
        raise NegprobeError(f"pair id {doubled[0]!r} has more than one claim or counterpart row")
    both = [(claim[0], cp[0]) for _, (claim, cp) in sorted(sides.items()) if claim and cp]
    rows = np.array(both, dtype=int).reshape(-1, 2)
    return rows[:, 0], rows[:, 1]


def paired_counterpart_statistic(claim_readout: np.ndarray, counterpart_readout: np.ndarray, claims,
                                 n_boot: int = 200, seed: int = 0, level: float = 0.95
                                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per layer, the paired counterpart statistic and its claim-level CI: ``(value, low, high)``, each ``[L]``.

    Pair i is a claim paraphrase and its own true counterpart (columns i of the two ``[L, n_pairs]``
    readouts). Per claim: the share of its pairs whose counterpart reads more true (ties count 1/2),
    a within-claim AUROC restricted to matched pairs; the value is the mean over claims (each claim
    weighs the same), the CI a percentile interval from resampling claims (the one cluster bootstrap
    of :mod:`negprobe.probes.resampling`; paraphrases within a claim are not resampled again).
    """
    a, b = np.atleast_2d(np.asarray(claim_readout, dtype=np.float64)), np.atleast_2d(
        np.asarray(counterpart_readout, dtype=np.float64))
    claims = np.asarray(claims, dtype=object).astype(str)
    if a.shape != b.shape or a.shape[1] != len(claims) or not len(claims):
        raise NegprobeError(f"paired readouts must align with their claims: {a.shape}, {b.shape}, {len(claims)} claims")
    if np.isnan(a).any() or np.isnan(b).any():
        raise NegprobeError("paired counterpart readouts contain NaN (a reader without a probe for the claim)")
    wins = (b > a) + 0.5 * (b == a)  # [L, n_pairs]
    per_claim = np.stack([wins[:, claims == c].mean(1) for c in np.unique(claims)], axis=1)  # [L, n_claims]
    return bootstrap_mean(per_claim, None, n_boot=n_boot, seed=seed, level=level)


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
    """Per layer: does the truth probe transfer to unseen topics and to the claim's own pairs?

    ``counterpart_auroc`` is the paired statistic of :func:`paired_counterpart_statistic` (NaN where
    no claim has a counterpart: the gate cannot pass), or None where it does not apply: a reader
    refitted on a fine-tuned model is gated on held-out truth data only.
    """

    heldout_topic_auroc: np.ndarray  # [L]
    counterpart_auroc: np.ndarray | None  # [L]: paired claim-vs-own-counterpart statistic, base model; None: n/a
    threshold: float = DEFAULT_GATE
    counterpart_ci_low: np.ndarray | None = None  # [L]: claim-level bootstrap CI of counterpart_auroc
    counterpart_ci_high: np.ndarray | None = None

    @property
    def heldout_only(self) -> bool:
        """True for a gate on held-out truth data alone (refitted readers)."""
        return self.counterpart_auroc is None

    @property
    def passed(self) -> np.ndarray:
        heldout = np.asarray(self.heldout_topic_auroc, dtype=float) >= self.threshold
        if self.counterpart_auroc is None:
            return heldout
        return heldout & (np.asarray(self.counterpart_auroc, dtype=float) >= self.threshold)

    def _counterpart_text(self, layer_slot: int) -> str:
        if self.counterpart_auroc is None:
            return "counterpart not gated: refitted reader, held-out truth data only"
        value = float(self.counterpart_auroc[layer_slot])
        if np.isnan(value):
            return "no counterpart pairs"
        ci = ""
        if self.counterpart_ci_low is not None and self.counterpart_ci_high is not None:
            ci = f" [{float(self.counterpart_ci_low[layer_slot]):.2f}, {float(self.counterpart_ci_high[layer_slot]):.2f}]"
        return f"paired counterpart AUROC {value:.2f}{ci}"

    def describe(self, layer_slot: int) -> str:
        if self.passed[layer_slot]:
            return "valid (held-out AUROC only; refitted reader)" if self.heldout_only else "valid"
        return (f"uninformative (held-out-topic AUROC {self.heldout_topic_auroc[layer_slot]:.2f}, "
                f"{self._counterpart_text(layer_slot)}; threshold {self.threshold})")
