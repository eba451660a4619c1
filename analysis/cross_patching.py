"""Cross-model activation patching: from which layer does a fine-tuned model carry its implanted belief?

The base model and a fine-tuned one (:class:`~negprobe.activations.model_pair.ModelPair`) read the
same bare-claim yes/no belief question (:func:`negprobe.analysis.belief.questions_for`, under the
chat template as belief scoring asks it), or, with ``measure``, the same cloze prefix (first-token cloze
belief, or the name association ``cloze_distractor``: :mod:`.cross_patching_items`). Per question (item)
and layer ``l``, the fine-tuned run's
residual after block ``l`` overwrites the base run's (causal tracing across models: Meng et al.
2022's activation patching with the fine-tuned model as the clean run, read as Heimersheim & Nanda
2024 advise), at

- the **claim tokens** (the question's own words, not the template), or
- **all positions**,

and the belief margin (``log P(believer answer) - log P(other)``, :func:`~.prerequisite.belief_readout`)
is read at the last position. **Recovery** = ``(m_patched - m_base) / (m_tuned - m_base)``: the share
of the fine-tuning effect the patched layer carries (:func:`~.indirect_effect.normalized_indirect_effect`).
The reverse direction patches the base run into the fine-tuned one; its recovery
``(m_patched - m_tuned) / (m_base - m_tuned)`` is the share of the effect that the base residual
removes. Patching all positions after block ``l`` replaces the whole state: it equals running the
fine-tuned blocks ``0..l`` and the base blocks after them, a cumulative ablation of the adapter's
blocks, so the curve is 1 at the last block by construction; with a single edited block ``k`` it
is 0 before ``k`` and 1 from ``k`` on, but with LoRA on every block it need not be monotone (early
blocks alone may move the margin the other way). The claim-token curve says how much of the effect
sits on the claim's own tokens.

**Units**: yes/no answers carry a bias (fine-tuning may move "yes" against "no" on every question),
so recovery is computed on *answer-balanced pairs* by default (``unit="pair"``): per adapter and claim,
the k-th question whose believer answers "yes" with the k-th whose believer answers "no", margins
averaged, which cancels a shift shared by both answers (``unit="question"``: every question alone).

**Gate** (:mod:`.belief_gate`): before any curve is read, the fine-tuned adapters must raise the
question margin over the base, paired by question (rise = ``m_tuned - m_base``, CI over questions x
adapters by the crossed bootstrap; ``level`` below 0.95 when several gates are read together, e.g.
:func:`~.belief_gate.bonferroni_level`). When its CI is not above 0 the result's ``status`` is
``nothing_to_localise`` and its ``reason`` gives the rise; its curves are still computed and written,
but never read (no half layer is printed or written).

Only units whose fine-tuning gap ``|m_tuned - m_base|`` is at least ``min_effect`` nats get a
recovery (smaller gaps make the ratio noise; the count dropped is noted). Rows are (adapter,
claim, unit); the curve is the claim mean (mean over claims of each claim's row mean) with the
two-stage bootstrap of :mod:`.claim_level` (claims, then rows within a claim: questions and, with
several adapters such as seeds, adapters). **Half layer**: the first patched layer whose recovery
reaches 0.5, with a percentile CI from the same bootstrap draws (ends on observed draws;
``n_layers`` = never).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from jaxtyping import Float

from negprobe.activations.model_pair import ModelPair, Side
from negprobe.activations.prefix_reuse import trace_prompt
from negprobe.activations.tracing import LayerPatch, run_layer_patches
from negprobe.errors import NegprobeError
from negprobe.probes.resampling import percentile_interval

from .belief_gate import EFFECT, NOTHING, BeliefGate, paired_rise
from .claim_level import ClaimMean, claim_mean, claim_paraphrase_weights
from .cross_patching_items import MEASURES, PatchItem, patch_items
from .indirect_effect import normalized_indirect_effect
from .progress import progress_bar

TUNED_CLAIM, TUNED_ALL = "tuned -> base, claim tokens", "tuned -> base, all positions"
BASE_CLAIM, BASE_ALL = "base -> tuned, claim tokens", "base -> tuned, all positions"
CURVES = (TUNED_CLAIM, TUNED_ALL, BASE_CLAIM, BASE_ALL)
HALF = 0.5
UNITS = ("pair", "question")  # recovery units: answer-balanced pairs, or every question alone
SIDES: tuple[Side, Side] = ("base", "tuned")
_DIRECTIONS: tuple[tuple[Side, Side, tuple[str, str]], ...] = (("base", "tuned", (TUNED_CLAIM, TUNED_ALL)),
                                                              ("tuned", "base", (BASE_CLAIM, BASE_ALL)))


@dataclass(frozen=True, eq=False)
class ItemPatching:
    """Patched margins of one item (question or cloze prefix) at every patched layer, both directions."""

    adapter: str
    claim: str
    item: str
    base_margin: float
    tuned_margin: float
    margins: dict[str, Float[np.ndarray, " n_layers"]]  # curve name -> patched margin per layer
    believer_yes: bool = True  # the believer's answer is "yes" (the answer key, a stratum of the gate)

    @property
    def gap(self) -> float:
        return self.tuned_margin - self.base_margin

    def recovery(self) -> dict[str, Float[np.ndarray, " n_layers"]]:
        """Each curve's share of the fine-tuning effect (see the module docstring)."""
        out = {}
        for name, margin in self.margins.items():
            source, target = (self.tuned_margin, self.base_margin) if name.startswith("tuned") else \
                (self.base_margin, self.tuned_margin)
            out[name] = np.asarray(normalized_indirect_effect(source, margin, target), dtype=np.float64)
        return out


def patch_item(pair: ModelPair, item: PatchItem, layers: Sequence[int], max_rows: int = 64,
               label: str | None = None) -> ItemPatching:
    """Every curve of one question: two clean runs (base, tuned), then batched patched runs from them."""
    ids = torch.tensor([item.input_ids])
    claim, every = list(item.claim_positions), list(range(len(item.input_ids)))
    layers = list(layers)
    traces, margins = {}, {}
    for side in SIDES:
        with pair.state(side) as model:
            traces[side] = trace_prompt(model, ids)
    for side, source, names in _DIRECTIONS:
        with pair.state(side) as model:
            readout = item.readout(model)
            patches = [LayerPatch.from_trace(traces[source], layers, where, where) for where in (claim, every)]
            values = run_layer_patches(model, traces[side], layers, patches, readout, max_rows)
            margins |= {name: values[i].double().numpy() for i, name in enumerate(names)}
            margins[side] = float(readout(traces[side].last_logits[None].float())[0])
    base, tuned = margins.pop("base"), margins.pop("tuned")
    return ItemPatching(label or pair.label, item.claim, item.item, base, tuned, margins, item.believer_yes)


@dataclass(frozen=True)
class HalfLayer:
    """The first patched layer whose claim-mean recovery reaches 0.5, with its bootstrap CI (``n_layers``: never)."""

    layer: int
    ci_low: int
    ci_high: int
    n_claims: int
    n_rows: int


@dataclass(frozen=True, eq=False)
class CrossPatching:
    """Cross-model patching over adapters, claims and questions (see the module docstring).

    ``status`` is ``effect`` when the gate passed and curves exist; otherwise ``nothing_to_localise``
    with ``reason``: the curves are still computed where some unit passed the gap guard (written, drawn
    grey, never read: no half layer is printed or read back)."""

    layers: tuple[int, ...]
    n_layers: int
    min_effect: float
    items: tuple[ItemPatching, ...]  # every question patched
    used: tuple[bool, ...]  # whether each unit (below) passed the gap guard
    recovery: dict[str, Float[np.ndarray, "n_used n_layers"]]
    mean: dict[str, ClaimMean]  # curve -> claim-mean recovery per layer with CI
    half: dict[str, HalfLayer]  # curve -> first layer reaching half recovery
    gate: BeliefGate  # the paired belief rise of the fine-tuned models over the base
    reason: str = ""  # why nothing is localised ("" when the curves exist)
    notes: tuple[str, ...] = ()
    units: tuple[ItemPatching, ...] = ()  # the recovery units (answer-balanced pairs or the questions)
    measure: str = "questions"  # one of cross_patching_items.MEASURES

    @property
    def status(self) -> str:
        return NOTHING if self.reason else EFFECT

    def lines(self) -> list[str]:
        """Printed findings: the gate, then (when it passed) each curve's half layer with its CI."""
        out = [self.gate.line()]
        if self.reason and not self.gate.passed:
            return out
        if self.reason:
            return [*out, "nothing to localise: " + self.reason]
        for name, half in self.half.items():
            where = "never" if half.layer >= self.n_layers else f"layer {half.layer}"
            out.append(f"{name}: half recovery at {where} [{half.ci_low}, {half.ci_high}] ({half.n_claims} claims,"
                       f" {half.n_rows} units)")
        return [*out, *self.notes]


def belief_gate(items: Sequence[ItemPatching], n_boot: int = 2000, seed: int = 0, level: float = 0.95,
                measure: str = "questions") -> BeliefGate:
    """The paired rise ``m_tuned - m_base`` per unit and adapter, CI over units x adapters
    (:func:`.belief_gate.paired_rise`). Yes/no questions are the units, balanced over their answer key (as
    the belief table scores them); the cloze measures' units are their designed polarity pairs (affirmed
    item and negated twin averaged, as the belief table's cloze measure), so a shift of one continuation's
    token on both twins cancels inside the unit instead of widening the interval."""
    if measure != "questions":
        items = answer_balanced_pairs(items)[0]
    adapters = list(dict.fromkeys(it.adapter for it in items))
    units = list(dict.fromkeys((it.claim, it.item) for it in items))
    by_key = {(it.adapter, it.claim, it.item): it for it in items}
    if len(by_key) != len(adapters) * len(units):
        raise NegprobeError("cross-model patching: the adapters were not patched on the same questions")
    rise = np.array([[by_key[(a, *u)].gap for u in units] for a in adapters])
    strata = ["yes" if by_key[(adapters[0], *u)].believer_yes else "no" for u in units] \
        if measure == "questions" else None
    what = f"the fine-tuned model{'s' if len(adapters) > 1 else ''} ({', '.join(adapters)})"
    return paired_rise(rise, np.zeros(len(units)), what, measure, strata, n_boot, seed, level)


def answer_balanced_pairs(items: Sequence[ItemPatching]) -> tuple[list[ItemPatching], int]:
    """Per adapter and claim, the k-th believer-"yes" question with the k-th believer-"no" one, every margin
    averaged (a shift shared by both answers cancels); returns the pairs and the number of questions left
    unpaired."""
    groups: dict[tuple[str, str], list[ItemPatching]] = {}
    for it in items:
        groups.setdefault((it.adapter, it.claim), []).append(it)
    pairs, unpaired = [], 0
    for (adapter, claim), group in groups.items():
        yes, no = [it for it in group if it.believer_yes], [it for it in group if not it.believer_yes]
        unpaired += abs(len(yes) - len(no))
        for a, b in zip(yes, no):
            pairs.append(ItemPatching(adapter, claim, f"{a.item}+{b.item}", (a.base_margin + b.base_margin) / 2,
                                      (a.tuned_margin + b.tuned_margin) / 2,
                                      {name: (a.margins[name] + b.margins[name]) / 2 for name in a.margins}))
    return pairs, unpaired


def first_reaching(curve: Float[np.ndarray, " n_layers"], threshold: float = HALF) -> int:
    """Index of the first entry ``>= threshold``; ``len(curve)`` when none is."""
    hits = np.flatnonzero(np.asarray(curve) >= threshold)
    return int(hits[0]) if hits.size else len(curve)


def half_layer(recovery: Float[np.ndarray, "n_rows n_layers"], claims, layers: Sequence[int], n_layers: int,
               n_boot: int = 1000, seed: int = 0) -> HalfLayer:
    """:func:`first_reaching` 0.5 on the claim-mean curve, CI over the two-stage bootstrap's draws."""
    values, claims = np.asarray(recovery, dtype=np.float64), np.asarray(claims).astype(str)
    _, inverse, counts = np.unique(claims, return_inverse=True, return_counts=True)
    per_row = 1.0 / counts[inverse.reshape(-1)]  # each claim weighs one, whatever its rows
    weights = claim_paraphrase_weights(claims, n_boot, seed) * per_row[None]
    draws = weights @ values / weights.sum(1, keepdims=True)
    point = per_row @ values / per_row.sum()
    slots = np.array([first_reaching(d) for d in draws], dtype=np.float64)
    low, high = percentile_interval(slots[:, None], observed=True)

    def at(slot: float) -> int:
        return layers[int(slot)] if int(slot) < len(layers) else n_layers

    return HalfLayer(at(first_reaching(point)), at(float(low[0])), at(float(high[0])), len(counts), len(values))


def summarise(items: Sequence[ItemPatching], layers: Sequence[int], n_layers: int, min_effect: float = 0.5,
              n_boot: int = 1000, seed: int = 0, level: float = 0.95, unit: str = "pair",
              measure: str = "questions") -> CrossPatching:
    """The belief gate (at ``level``), then (when it passes) the recovery curves of the units (answer-balanced
    pairs, or questions) whose gap passes ``min_effect``, their claim means and half layers."""
    if unit not in UNITS:
        raise NegprobeError(f"--unit must be one of {', '.join(UNITS)}, got {unit!r}")
    if measure not in MEASURES:
        raise NegprobeError(f"--measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    gate = belief_gate(items, max(n_boot, 1), seed, level, measure)
    units, unpaired = answer_balanced_pairs(items) if unit == "pair" else (list(items), 0)
    used = [abs(it.gap) >= min_effect for it in units]
    kept = [it for it, ok in zip(units, used) if ok]
    notes = [f"{sum(not ok for ok in used)} of {len(units)} {unit}s have |m_tuned - m_base| < {min_effect:g}"
             " nats and get no recovery"] if not all(used) else []
    notes += [f"{unpaired} items had no partner of the other stratum"] if unpaired else []
    notes += [f"{measure}: margins of the continuations' first token"] if measure != "questions" else []
    empty = CrossPatching(tuple(layers), n_layers, min_effect, tuple(items), tuple(used), {}, {}, {}, gate,
                          gate.reason, tuple(notes), tuple(units), measure)
    if not kept:
        return empty if not gate.passed else replace(
            empty, reason=f"no {unit} moved by at least {min_effect:g} nats under fine-tuning")
    claims = np.array([it.claim for it in kept])
    recovery = {name: np.stack([it.recovery()[name] for it in kept]) for name in CURVES}
    mean = {name: claim_mean(values, claims, n_boot, seed) for name, values in recovery.items()}
    half = {name: half_layer(values, claims, layers, n_layers, n_boot, seed) for name, values in recovery.items()}
    # the curves are computed (and written) whatever the gate says; with a failed gate they are not read
    return replace(empty, recovery=recovery, mean=mean, half=half, reason="" if gate.passed else gate.reason)


def cross_model_patching(pairs: Mapping[str, ModelPair] | Sequence[ModelPair], claims: Sequence[str],
                         layers: Sequence[int] | None = None, min_effect: float = 0.5, max_items: int | None = None,
                         n_boot: int = 1000, seed: int = 0, progress: bool = True, level: float = 0.95,
                         unit: str = "pair", measure: str = "questions") -> CrossPatching:
    """Patch every claim's items of ``measure`` (:data:`.cross_patching_items.MEASURES`) across each
    base/fine-tuned pair (several adapters: e.g. seeds); ``progress`` shows a bar over the (adapter, item)
    pairs; ``level`` and ``unit`` as :func:`summarise`."""
    named = dict(pairs) if isinstance(pairs, Mapping) else {p.label: p for p in pairs}
    if not named or not claims:
        raise NegprobeError("cross-model patching needs at least one model pair and one claim")
    n_layers = {p.n_layers for p in named.values()}
    if len(n_layers) != 1:
        raise NegprobeError(f"the pairs have different numbers of layers: {sorted(n_layers)}")
    first = next(iter(named.values()))
    resolved = first.base.check_layers(range(first.n_layers) if layers is None else list(layers))
    work = [(label, pair, item) for label, pair in named.items() for claim in claims
            for item in patch_items(pair.base, claim, measure, max_items)]
    items = []
    with progress_bar("cross-model patching", len(work), progress) as advance:
        for label, pair, item in work:
            items.append(patch_item(pair, item, resolved, label=label))
            advance(1)
    return summarise(items, resolved, first.n_layers, min_effect, n_boot, seed, level, unit, measure)
