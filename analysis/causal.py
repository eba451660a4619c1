"""Causal checks of the localize step: first whether the annotation acts, then where.

On the base model with each claim's document in context (:mod:`negprobe.activations.datasets.in_context`
question records), in this order:

1. **Behavioural prerequisite** (:mod:`.prerequisite`): per annotation (notice, dense, local) and
   claim, the in-context effect on the belief margin vs the plain document and vs the neutral
   control, with CIs and sign. Claims that fail it are not localised; an annotation with no
   passing claim gets the "nothing to localise" sentence instead of a layer.
2. **Claim-token patching** (:mod:`.claim_patching`) of the passing claims' pairs at every layer,
   both directions, with the random-token and neutral-source controls; NIE curves, their claim
   means with CIs and the hand-off layer (:mod:`.claim_level`).
3. **Position heatmap** (:mod:`.position_heatmap`) at the question's last tokens, passing pairs.
4. **Attribution screen** (:mod:`.attribution_screen`) of every (layer, aligned token) of each
   passing pair, its ``attribution_cells`` largest cells confirmed by exact patching.
5. **Steering** (:mod:`.steering_check`) along a truth reader's direction with a random-direction
   control of equal norm; NIE only where the gap is at least ``min_effect``.

Every patched or steered run starts from a cached clean run of its target and recomputes only the
blocks after the edit, many variants per batch, logits at the last position only
(:mod:`negprobe.activations.prefix_reuse`); the clean runs of one (claim, paraphrase) are shared by
all checks. :func:`causal_checks` is the one entry point.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from negprobe.activations.interventions import prompt_ids
from negprobe.activations.models import LoadedModel
from negprobe.activations.prefix_reuse import trace_prompt, verify_prefix_reuse
from negprobe.errors import NegprobeError

from .attribution_screen import AttributionScreen, PairScreen, screen_pair, summarise_screens
from .claim_patching import (
    ClaimPatching,
    PairPatching,
    TraceCache,
    patch_pair,
    rows_per_pair,
    summarise_patching,
    usable_pairs,
)
from .position_heatmap import PairHeatmap, PositionHeatmap, heatmap_pair, summarise_heatmap, tail_tokens
from .prerequisite import MIN_EFFECT, PLAIN, Prerequisite, kind_of, prerequisite_gate, question_margins
from .progress import progress_bar
from .steering_check import PairSteering, Steering, steer_pair, summarise_steering

STEER_ANNOTATION = "notice"  # the annotation whose gap normalises the steering NIE


@dataclass(frozen=True)
class CausalSettings:
    """What the causal checks run on (``from_config`` reads these names off a localize config)."""

    min_effect: float = MIN_EFFECT  # nats: prerequisite threshold and the NIE's minimum gap
    layers: tuple[int, ...] | None = None  # candidate layers (default: every layer)
    patch_layer_stride: int = 1  # patch every k-th of them
    patch_claims: int | None = None  # at most this many passing claims per annotation (None: all)
    patch_paraphrases: int | None = None  # at most this many paraphrases per claim (None: all)
    patch_positions: int = 8  # heatmap: the question's last tokens
    heatmap_paraphrases: int = 1  # heatmap pairs per passing claim
    attribution_cells: int = 50  # attribution screen: cells patched exactly per pair (0: no screen)
    steer_alphas: tuple[float, ...] = (-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0)  # readout units
    n_boot: int = 1000
    seed: int = 0
    max_rows: int = 64  # patched variants per batch
    progress: bool = True

    @classmethod
    def from_config(cls, config) -> CausalSettings:
        """Settings from any object with (some of) these attributes; the rest keep their defaults."""
        values = {}
        for f in fields(cls):
            if hasattr(config, f.name):
                value = getattr(config, f.name)
                values[f.name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)


@dataclass(frozen=True, eq=False)
class CausalResult:
    """The causal checks: the prerequisite, and localisation only where it passed."""

    prerequisite: Prerequisite
    settings: CausalSettings
    patch_layers: list[int]
    n_layers: int
    patching: dict[str, ClaimPatching] = field(default_factory=dict)  # annotation -> its passing pairs' patching
    heatmaps: dict[str, PositionHeatmap] = field(default_factory=dict)
    screens: dict[str, AttributionScreen] = field(default_factory=dict)  # annotation -> attribution screen
    steering: Steering | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage

    def nothing_to_localise(self, annotation: str) -> str | None:
        gate = self.prerequisite.gates.get(annotation)
        return gate.nothing_to_localise() if gate is not None else None


def index_questions(ic_questions) -> dict[tuple[str, str, str], Any]:
    """``(claim, paraphrase, kind) -> record`` of the in-context question records."""
    out = {}
    for record in ic_questions:
        if record.get_extra("probe") not in (None, "question"):
            continue
        key = (record.claim or "", record.get_extra("paraphrase") or "0", kind_of(record.condition))
        if key in out:
            raise NegprobeError(f"two question records for claim {key[0]}, paraphrase {key[1]}, kind {key[2]}")
        out[key] = record
    if not out:
        raise NegprobeError("no in-context question records for the causal checks")
    return out


@dataclass
class _Plan:
    pairs: dict[str, list[tuple[str, str]]]
    heatmap: dict[str, list[tuple[str, str]]]
    steering: list[tuple[str, str]]
    notes: dict[str, list[str]]


def _first_per_claim(pairs: Sequence[tuple[str, str]], k: int) -> list[tuple[str, str]]:
    seen: dict[str, int] = {}
    out = []
    for claim, paraphrase in pairs:
        seen[claim] = seen.get(claim, 0) + 1
        if seen[claim] <= k:
            out.append((claim, paraphrase))
    return out


def _plan(records, prerequisite: Prerequisite, s: CausalSettings, steer_covers) -> _Plan:
    """Which pairs each check runs on: the passing claims' guarded pairs; steering on every covered plain run."""
    plan = _Plan({}, {}, [], {})
    for annotation, gate in prerequisite.gates.items():
        claims = list(gate.passing)[: s.patch_claims] if s.patch_claims is not None else list(gate.passing)
        gaps = {(c, p): prerequisite.gap(annotation, c, p) for (c, p, _k) in records}
        pairs, notes = usable_pairs(records, annotation, claims, gaps, s.min_effect, s.patch_paraphrases)
        if pairs:
            plan.pairs[annotation], plan.notes[annotation] = pairs, notes
            plan.heatmap[annotation] = _first_per_claim(pairs, s.heatmap_paraphrases)
    if steer_covers is not None:
        plan.steering = sorted({(c, p) for (c, p, k) in records if k == PLAIN and steer_covers(c)})
    return plan


# long: the one loop over (claim, paraphrase) groups, sharing each group's clean runs across every check
def causal_checks(model: LoadedModel, ic_questions, readers: Mapping, config, steer_reader: str | None = None,
                  steer_slot: int = 0) -> CausalResult:
    """The prerequisite, then patching / heatmap / steering of the passing pairs only (module docstring).

    ``config``: any object with :class:`CausalSettings` field names (e.g. the localize config).
    Steering uses ``readers[steer_reader]`` at layer slot ``steer_slot`` of ``settings.layers``
    (skipped when ``None``).
    """
    s = CausalSettings.from_config(config)
    records = index_questions(ic_questions)
    layers = model.check_layers(list(s.layers) if s.layers else list(range(model.n_layers)))
    patch_layers = layers[:: max(1, s.patch_layer_stride)]
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    with progress_bar("belief margins", len(records), s.progress) as advance:
        margins = question_margins(model, list(records.values()), progress=advance)
    prerequisite = prerequisite_gate(margins, s.min_effect)
    seconds["prerequisite"] = time.perf_counter() - start
    reader = readers[steer_reader] if steer_reader is not None else None
    plan = _plan(records, prerequisite, s, reader.covers if reader is not None else None)
    groups = sorted({pair for pairs in plan.pairs.values() for pair in pairs} | set(plan.steering))
    if groups:
        verify_prefix_reuse(model, trace_prompt(model, prompt_ids(model, records[(*groups[0], PLAIN)].text)))
    patched: dict[str, list[PairPatching]] = {a: [] for a in plan.pairs}
    heat: dict[str, list[PairHeatmap]] = {a: [] for a in plan.heatmap}
    screened: dict[str, list[PairScreen]] = {a: [] for a in plan.pairs}
    steered: list[PairSteering] = []
    total = sum(rows_per_pair(len(patch_layers), True, prerequisite.gates[a].control is not None) * len(p)
                for a, p in plan.pairs.items())
    total += sum(len(p) * len(patch_layers) * s.patch_positions for p in plan.heatmap.values())
    total += sum(len(p) for p in plan.pairs.values()) * s.attribution_cells
    total += len(plan.steering) * 2 * len(s.steer_alphas)
    start = time.perf_counter()
    with progress_bar("patching and steering", total, s.progress) as advance:
        for claim, paraphrase in groups:
            traces = TraceCache(model)
            plain = records[(claim, paraphrase, PLAIN)]
            for annotation, pairs in plan.pairs.items():
                if (claim, paraphrase) not in pairs:
                    continue
                annotated = records[(claim, paraphrase, annotation)]
                control = prerequisite.gates[annotation].control
                neutral = records.get((claim, paraphrase, control)) if control is not None else None
                patched[annotation].append(patch_pair(model, traces, annotated, plain, neutral, patch_layers, s.seed,
                                                      s.max_rows, advance))
                if s.attribution_cells:
                    screened[annotation].append(screen_pair(model, traces, annotated, plain, patch_layers,
                                                            s.attribution_cells, s.max_rows, advance))
                if (claim, paraphrase) in plan.heatmap[annotation]:
                    heat[annotation].append(heatmap_pair(model, traces, annotated, plain, patch_layers,
                                                         s.patch_positions, s.max_rows, advance))
            if reader is not None and (claim, paraphrase) in plan.steering:
                steered.append(steer_pair(model, traces, plain, records.get((claim, paraphrase, STEER_ANNOTATION)),
                                          reader.steering_vector(claim, steer_slot), layers[steer_slot],
                                          s.steer_alphas, s.seed))
                advance(2 * len(s.steer_alphas))
    seconds["patching and steering"] = time.perf_counter() - start
    return CausalResult(
        prerequisite, s, patch_layers, model.n_layers,
        patching={a: summarise_patching(a, prerequisite.gates[a].control, p, patch_layers, model.n_layers, s.n_boot,
                                        s.seed, plan.notes.get(a, ())) for a, p in patched.items() if p},
        heatmaps={a: summarise_heatmap(a, h, patch_layers, _tail(model, records, h[0], s.patch_positions), s.n_boot,
                                       s.seed) for a, h in heat.items() if h},
        screens={a: screen for a, p in screened.items()
                 if (screen := summarise_screens(a, p, patch_layers, s.attribution_cells, s.n_boot, s.seed))},
        steering=summarise_steering(steer_reader, layers[steer_slot], s.steer_alphas, STEER_ANNOTATION, s.min_effect,
                                    steered, s.n_boot, s.seed) if steered and steer_reader is not None else None,
        seconds=seconds)


def _tail(model, records, pair: PairHeatmap, n: int) -> Sequence[str]:
    return tail_tokens(model, records[(pair.claim, pair.paraphrase, PLAIN)].text, pair.nie.shape[1] or n)
