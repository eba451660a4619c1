"""Claim-token patching of one annotation against the plain document: where does the effect act?

Run only on claims that pass the behavioural prerequisite (:mod:`.prerequisite`), and only on
paraphrases whose own gap ``margin(annotated) - margin(plain) <= -min_effect`` (signed), so every
normalised effect divides by at least ``min_effect`` nats. Per (claim, paraphrase) pair and patched
layer ``l`` (every layer by default), the belief margin of the target run is read after
overwriting, at the output of block ``l``, the target's tokens with the source's aligned tokens
(:mod:`.token_alignment`):

- ``annotated -> plain``: the claim tokens (claim sentence + restated claim) of the annotated run
  into the plain run. **NIE** = ``(m - m_plain) / (m_annotated - m_plain)``: the share of the
  annotation's effect carried by the claim tokens at that layer (Meng et al. 2022; Heimersheim &
  Nanda 2024, :func:`~negprobe.analysis.indirect_effect.normalized_indirect_effect`).
- ``plain -> annotated``: the reverse; NIE = ``(m - m_annotated) / (m_plain - m_annotated)``: the
  share of the effect removed by restoring plain claim tokens.
- ``random, annotated -> plain`` / ``random, plain -> annotated``: the same with as many random
  shared non-claim tokens (seeded per pair), normalised as the claim-token curve of that
  direction. Near 0 where the effect lives only in the claim tokens.
- ``neutral -> plain`` (where the annotation has a neutral control): the neutral run's claim
  tokens into the plain run, normalised by the *annotated* gap, so it is the share of the
  annotation's effect that any text of that length and place reproduces.
- ``annotation-specific`` = NIE(annotated -> plain) - NIE(neutral -> plain), per pair.

Claim-level summaries (:mod:`.claim_level`): each curve's claim mean with a two-stage bootstrap
CI (claims, then paraphrases), and the **hand-off layer** of each claim-token direction: the
first patched layer after the NIE peak from which the NIE stays below half the peak.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from jaxtyping import Float

from negprobe.activations.interventions import prompt_ids
from negprobe.activations.models import LoadedModel
from negprobe.activations.prefix_reuse import CleanTrace, Progress, trace_prompt
from negprobe.activations.tracing import LayerPatch, run_layer_patches
from negprobe.errors import NegprobeError

from .claim_level import ClaimMean, HandOff, claim_mean, handoff_layer
from .indirect_effect import normalized_indirect_effect
from .prerequisite import belief_readout, believer_sign
from .token_alignment import claim_alignment, control_seed, random_control

TO_PLAIN, TO_ANNOTATED = "annotated -> plain", "plain -> annotated"
RANDOM_TO_PLAIN, RANDOM_TO_ANNOTATED = "random, annotated -> plain", "random, plain -> annotated"
NEUTRAL_TO_PLAIN, SPECIFIC = "neutral -> plain", "annotation-specific"
DIRECTIONS = (TO_PLAIN, TO_ANNOTATED)  # the claim-token directions with a hand-off layer
CONTROL_OF = {TO_PLAIN: RANDOM_TO_PLAIN, TO_ANNOTATED: RANDOM_TO_ANNOTATED}


class TraceCache:
    """Clean runs of the records of one (claim, paraphrase), computed once and shared by every check."""

    def __init__(self, model: LoadedModel):
        self.model, self._traces = model, {}

    def __call__(self, record) -> CleanTrace:
        key = (record.pair_id, record.condition)
        if key not in self._traces:
            self._traces[key] = trace_prompt(self.model, prompt_ids(self.model, record.text))
        return self._traces[key]

    def margin(self, record) -> float:
        """The unpatched belief margin of ``record`` (from its clean run)."""
        readout = belief_readout(self.model, believer_sign(record) > 0)
        return float(readout(self(record).last_logits[None].float().cpu())[0])


@dataclass(frozen=True, eq=False)
class PairPatching:
    """Patched belief margins of one (claim, paraphrase) pair at every patched layer."""

    claim: str
    paraphrase: str
    annotated: float  # unpatched margins
    plain: float
    margins: dict[str, Float[np.ndarray, " n_layers"]]  # curve -> patched margin
    n_claim_tokens: int
    n_random_tokens: int

    def nie(self) -> dict[str, np.ndarray]:
        """Every curve's normalised indirect effect (see the module docstring)."""
        out = {}
        for name, margin in self.margins.items():
            to_annotated = name in (TO_ANNOTATED, RANDOM_TO_ANNOTATED)
            clean, corrupt = (self.plain, self.annotated) if to_annotated else (self.annotated, self.plain)
            out[name] = np.asarray(normalized_indirect_effect(clean, margin, corrupt))
        if NEUTRAL_TO_PLAIN in out:
            out[SPECIFIC] = out[TO_PLAIN] - out[NEUTRAL_TO_PLAIN]
        return out


# long: builds the two targets' patch lists (claim tokens, random control, neutral source) in one place
def patch_pair(model: LoadedModel, traces: TraceCache, annotated, plain, neutral, layers: Sequence[int], seed: int,
               max_rows: int = 64, progress: Progress | None = None) -> PairPatching:
    """Every patching curve of one pair (``neutral`` may be ``None``): batched runs from the cached clean runs;
    the random control needs the annotated record's ``shared_spans`` (skipped without them)."""
    tok = model.tokenizer
    readout = belief_readout(model, believer_sign(plain) > 0)
    claim_a, claim_p = claim_alignment(tok, annotated, plain)
    t_ann, t_plain = traces(annotated), traces(plain)
    to_plain = [LayerPatch.from_trace(t_ann, layers, claim_a, claim_p)]
    to_ann = [LayerPatch.from_trace(t_plain, layers, claim_p, claim_a)]
    names_plain, names_ann = [TO_PLAIN], [TO_ANNOTATED]
    n_random = 0
    if annotated.get_extra("shared_spans"):
        seed_pair = control_seed(seed, annotated.claim or "", annotated.get_extra("paraphrase") or "", annotated.condition)
        rand_a, rand_p = random_control(tok, annotated, plain, (claim_a, claim_p), seed_pair)
        n_random = len(rand_a)
        to_plain.append(LayerPatch.from_trace(t_ann, layers, rand_a, rand_p))
        to_ann.append(LayerPatch.from_trace(t_plain, layers, rand_p, rand_a))
        names_plain.append(RANDOM_TO_PLAIN)
        names_ann.append(RANDOM_TO_ANNOTATED)
    if neutral is not None:
        claim_n, claim_pn = claim_alignment(tok, neutral, plain)
        to_plain.append(LayerPatch.from_trace(traces(neutral), layers, claim_n, claim_pn))
        names_plain.append(NEUTRAL_TO_PLAIN)
    on_plain = run_layer_patches(model, t_plain, layers, to_plain, readout, max_rows, progress)
    on_ann = run_layer_patches(model, t_ann, layers, to_ann, readout, max_rows, progress)
    margins = {name: on_plain[i].numpy() for i, name in enumerate(names_plain)}
    margins |= {name: on_ann[i].numpy() for i, name in enumerate(names_ann)}
    return PairPatching(plain.claim or "", plain.get_extra("paraphrase") or "0", traces.margin(annotated),
                        traces.margin(plain), margins, len(claim_a), n_random)


def rows_per_pair(n_layers: int, has_random: bool, has_neutral: bool) -> int:
    """How many patched runs :func:`patch_pair` makes (for progress bars)."""
    return n_layers * (2 + 2 * has_random + has_neutral)


@dataclass(frozen=True, eq=False)
class ClaimPatching:
    """Claim-token patching of one annotation over its passing claims (see the module docstring)."""

    annotation: str
    control: str | None
    patch_layers: tuple[int, ...]
    pairs: tuple[PairPatching, ...]
    nie: dict[str, Float[np.ndarray, "n_pairs n_layers"]]
    mean: dict[str, ClaimMean]  # curve -> claim-mean NIE with CI
    handoff: dict[str, HandOff]  # claim-token direction -> hand-off layer
    notes: tuple[str, ...] = field(default=())

    @property
    def claims(self) -> np.ndarray:
        return np.array([p.claim for p in self.pairs])

    @property
    def n_claims(self) -> int:
        return len(set(self.claims.tolist()))


def summarise_patching(annotation: str, control: str | None, pairs: Sequence[PairPatching], patch_layers: Sequence[int],
                       n_layers: int, n_boot: int = 1000, seed: int = 0, notes: Sequence[str] = ()) -> ClaimPatching:
    """Per-pair NIE curves, their claim means with CIs, and the hand-off layer of each direction."""
    if not pairs:
        raise NegprobeError(f"no {annotation} pair to summarise")
    per_pair = [p.nie() for p in pairs]
    names = [name for name in per_pair[0] if all(name in item for item in per_pair)]
    nie = {name: np.stack([item[name] for item in per_pair]) for name in names}
    claims = np.array([p.claim for p in pairs])
    mean = {name: claim_mean(values, claims, n_boot, seed) for name, values in nie.items()}
    handoff = {name: handoff_layer(nie[name], claims, list(patch_layers), n_layers, n_boot, seed)
               for name in DIRECTIONS if name in nie}
    return ClaimPatching(annotation, control, tuple(patch_layers), tuple(pairs), nie, mean, handoff, tuple(notes))


def usable_pairs(records: Mapping[tuple[str, str, str], Any], annotation: str, claims: Sequence[str],
                 gaps: Mapping[tuple[str, str], float], min_effect: float, max_paraphrases: int | None = None
                 ) -> tuple[list[tuple[str, str]], list[str]]:
    """(claim, paraphrase) pairs to patch: passing claims, both records present, ``gap <= -min_effect`` (signed:
    a wrong-signed pair of a passing claim is not patched; the selection is reported, see the notes).

    Returns the pairs and one note per claim that lost paraphrases to the gap guard.
    """
    pairs, notes = [], []
    for claim in claims:
        paraphrases = sorted({p for (c, p, k) in records if c == claim and k == annotation}, key=_paraphrase_order)
        kept = [p for p in paraphrases if (claim, p, "plain") in records
                and gaps.get((claim, p), np.nan) <= -min_effect]
        if max_paraphrases is not None:
            kept = kept[:max_paraphrases]
        if len(kept) < len(paraphrases):
            notes.append(f"{claim}: {len(kept)} of {len(paraphrases)} paraphrases patched (gap <= -{min_effect:g} "
                         f"nats{'' if max_paraphrases is None else f', at most {max_paraphrases}'})")
        pairs += [(claim, p) for p in kept]
    return pairs, notes


def _paraphrase_order(p: str):
    return (0, int(p), "") if p.isdigit() else (1, 0, p)
