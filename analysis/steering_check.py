"""Steering the plain in-context run along a truth reader's direction, with a random-direction control.

Marks & Tegmark (2023) add a truth direction to flip a true/false judgement. Here ``alpha`` times
the reader's steering vector (:meth:`~negprobe.analysis.truth_readers.TruthReader.steering_vector`:
``alpha = 1`` moves that reader's readout from a typical false to a typical true statement at the
steered layer) is added at every position after one block of the *plain* in-context question run,
and the belief margin is read. Control: a random direction of the same norm (seeded per claim),
so an effect of steering "anywhere that big" is not read as an effect of the truth direction.

- **shift** = ``m(alpha) - m_plain`` per (claim, paraphrase), claim mean with a two-stage bootstrap
  CI (claims, then paraphrases), for the truth direction and for the random one.
- **NIE** = ``(m(alpha) - m_plain) / (m_annotated - m_plain)``: steering's effect as a share of the
  annotation's in-context effect; computed only where ``m_annotated - m_plain <= -min_effect``
  (NaN otherwise: never divided by a tiny gap), claim mean over those pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Float

from negprobe.activations.models import LoadedModel
from negprobe.activations.tracing import run_additions

from .claim_level import ClaimMean, claim_mean
from .claim_patching import TraceCache
from .indirect_effect import normalized_indirect_effect
from .prerequisite import belief_readout, believer_sign
from .token_alignment import control_seed


def random_direction(vector: torch.Tensor, seed: int) -> torch.Tensor:
    """A Gaussian direction with the same norm as ``vector`` (seeded)."""
    gen = torch.Generator().manual_seed(seed)
    r = torch.randn(vector.shape[-1], generator=gen, dtype=torch.float64)
    return (r * vector.double().norm() / r.norm()).float()


@dataclass(frozen=True, eq=False)
class PairSteering:
    claim: str
    paraphrase: str
    plain: float  # unpatched plain-run margin
    gap: float  # m_annotated - m_plain (NaN when the annotated record is absent)
    truth: Float[np.ndarray, " n_alphas"]  # steered margins
    random: Float[np.ndarray, " n_alphas"]


def steer_pair(model: LoadedModel, traces: TraceCache, plain, annotated, vector: torch.Tensor, layer: int,
               alphas: Sequence[float], seed: int) -> PairSteering:
    """Steered margins of one plain run along ``vector`` and along a random direction of equal norm."""
    control = random_direction(vector, control_seed(seed, plain.claim or "", "steering"))
    alphas_t = torch.tensor([float(a) for a in alphas])[:, None]
    deltas = torch.cat([alphas_t * vector.float()[None], alphas_t * control[None]])
    margins = run_additions(model, traces(plain), layer, deltas, belief_readout(model, believer_sign(plain) > 0)).numpy()
    m_plain = traces.margin(plain)
    gap = traces.margin(annotated) - m_plain if annotated is not None else float("nan")
    return PairSteering(plain.claim or "", plain.get_extra("paraphrase") or "0", m_plain, gap,
                        margins[:len(alphas)], margins[len(alphas):])


@dataclass(frozen=True, eq=False)
class Steering:
    """Steering along a truth reader's direction vs a random direction of equal norm (module docstring)."""

    reader: str
    layer: int
    alphas: tuple[float, ...]
    annotation: str  # the annotation whose gap normalises the NIE
    min_effect: float
    pairs: tuple[PairSteering, ...]
    shift: ClaimMean  # [n_alphas], truth direction
    random_shift: ClaimMean  # [n_alphas], random direction
    nie: Float[np.ndarray, "n_pairs n_alphas"]  # NaN where gap > -min_effect
    nie_mean: ClaimMean | None  # over the pairs with a guarded gap; None when there is none

    @property
    def n_claims(self) -> int:
        return self.shift.n_claims


def summarise_steering(reader: str, layer: int, alphas: Sequence[float], annotation: str, min_effect: float,
                       pairs: Sequence[PairSteering], n_boot: int = 1000, seed: int = 0) -> Steering:
    claims = np.array([p.claim for p in pairs])
    plain = np.array([p.plain for p in pairs])[:, None]
    truth, random = np.stack([p.truth for p in pairs]), np.stack([p.random for p in pairs])
    gap = np.array([p.gap for p in pairs])
    guarded = gap <= -min_effect  # signed (the annotated run below the plain one); False for NaN
    nie = np.full_like(truth, np.nan)
    nie[guarded] = normalized_indirect_effect((plain + gap[:, None])[guarded], truth[guarded], plain[guarded])
    nie_mean = claim_mean(nie[guarded], claims[guarded], n_boot, seed) if guarded.any() else None
    return Steering(reader, layer, tuple(float(a) for a in alphas), annotation, min_effect, tuple(pairs),
                    claim_mean(truth - plain, claims, n_boot, seed), claim_mean(random - plain, claims, n_boot, seed),
                    nie, nie_mean)
