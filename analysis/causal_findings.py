"""The causal checks in plain words: one line per question, and the hand-off layers as a table.

:func:`causal_findings` answers, per annotation, "is there an in-context effect to localise?"
(the prerequisite, with its numbers and n) and "where does it act?" (the hand-off layer with its
CI and controls, or the "nothing to localise" sentence), then what steering did next to its
random control. The report's findings box and the CLI print these lines as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .causal import CausalResult
from .claim_patching import NEUTRAL_TO_PLAIN, RANDOM_TO_PLAIN, TO_ANNOTATED, TO_PLAIN, ClaimPatching
from .prerequisite import AnnotationGate, PooledEffect


def _effect(p: PooledEffect) -> str:
    return f"{p.effect:+.2f} [{p.ci_low:+.2f}, {p.ci_high:+.2f}] nats"


def _verb(p: PooledEffect) -> str:
    return "lowers" if p.ci_high < 0 else "raises" if p.ci_low > 0 else "does not clearly change"


def _prerequisite_line(gate: AnnotationGate) -> str:
    """The annotation-specific effect first (vs its neutral control where one exists), then what any text
    of that length at that place does, then the claim counts."""
    p, c, presence = gate.pooled_vs_plain, gate.pooled_vs_control, gate.pooled_presence
    n = f"{p.n_claims} claims x {p.n_paraphrases} paraphrases"
    if c is not None and presence is not None:
        line = (f"In-context effect ({gate.annotation}): beyond its neutral control of equal length, the annotation "
                f"{_verb(c)} belief in the false claim, {_effect(c)}; the neutral control itself {_verb(presence)} "
                f"it ({_effect(presence)} vs the plain document), and the annotation vs plain is {_effect(p)} ({n})")
    else:
        line = (f"In-context effect ({gate.annotation}): the annotation {_verb(p)} belief in the false claim, "
                f"{_effect(p)} vs the plain document ({n}; no neutral control)")
    wrong = f"; {gate.wrong_sign} claims have a wrong-signed effect with a CI excluding 0" if gate.wrong_sign else ""
    return line + (f"; {len(gate.passing)} of {len(gate.vs_plain)} claims pass the prerequisite (specific effect <= "
                   f"-{gate.min_effect:g} nats, 95% t CI excluding 0){wrong}.") + bracket_sentence(gate)


def bracket_sentence(gate: AnnotationGate) -> str:
    """What the truth words alone do (the annotation vs its affirming twin), and whether the neutral
    control sits between the false and the affirming annotation."""
    t, words, presence = gate.pooled_affirmed, gate.pooled_vs_affirming, gate.pooled_presence
    if t is None or words is None:
        return ""
    between = gate.neutral_in_bracket()
    neutral = "" if presence is None or between is None else \
        f"; the neutral control ({presence.effect:+.2f}) sits {'between' if between else 'outside'} the two"
    return (f" Bracket: the truth-affirming twin ({gate.affirming}) moves belief {_effect(t)} vs plain, so the truth "
            f"words alone (false vs affirming) {_verb(words)} it, {_effect(words)}{neutral}.")


def _peak(patching: ClaimPatching, curve: str) -> tuple[float, int]:
    values = patching.mean[curve].value
    k = int(np.nanargmax(values))
    return float(values[k]), patching.patch_layers[k]


def _where_line(causal: CausalResult, annotation: str) -> str:
    nothing = causal.nothing_to_localise(annotation)
    patching = causal.patching.get(annotation)
    if patching is None:
        reason = nothing or (f"nothing to localise on this model: no paraphrase of a passing claim has a gap of at "
                             f"least {causal.settings.min_effect:g} nats")
        return f"Where it acts ({annotation}): {reason}."
    peak, at = _peak(patching, TO_PLAIN)
    handoff = patching.handoff[TO_PLAIN]
    n = f"{patching.n_claims} claims, {len(patching.pairs)} pairs"
    if handoff.layer is None:
        where = "patching the claim tokens never moves the margin toward the annotated run"
    elif handoff.layer >= causal.n_layers:
        where = (f"the claim tokens carry up to NIE {peak:.2f} of the effect (layer {at}) and still carry at least "
                 f"half of it at the last layer: no hand-off")
    else:
        where = (f"the claim tokens carry up to NIE {peak:.2f} of the effect (layer {at}) and hand it off at "
                 f"layer {handoff.layer} [{handoff.ci_low}, {handoff.ci_high}]")
    controls = []
    if RANDOM_TO_PLAIN in patching.mean:
        controls.append(f"equally many random tokens peak at {_peak(patching, RANDOM_TO_PLAIN)[0]:.2f}")
    if NEUTRAL_TO_PLAIN in patching.mean:
        controls.append(f"the neutral run's claim tokens at {_peak(patching, NEUTRAL_TO_PLAIN)[0]:.2f}")
    reverse = patching.handoff.get(TO_ANNOTATED)
    if reverse is not None and reverse.layer is not None and reverse.layer < causal.n_layers:
        controls.append(f"plain -> {annotation} hands off at {reverse.layer} [{reverse.ci_low}, {reverse.ci_high}]")
    return f"Where it acts ({annotation}, {annotation} -> plain; {n}): {where}" + \
        (f"; {', '.join(controls)}." if controls else ".")


def _steering_line(causal: CausalResult) -> str | None:
    steering = causal.steering
    if steering is None:
        return None
    k = int(np.argmax(np.abs(steering.alphas)))
    alpha = steering.alphas[k]
    truth, rand = steering.shift, steering.random_shift
    return (f"Steering ({steering.reader} direction, layer {steering.layer}; {steering.n_claims} claims, "
            f"{truth.n_rows} runs): alpha {alpha:+g} changes the belief margin by {truth.value[k]:+.2f} "
            f"[{truth.ci_low[k]:+.2f}, {truth.ci_high[k]:+.2f}] nats, a random direction of equal norm by "
            f"{rand.value[k]:+.2f} [{rand.ci_low[k]:+.2f}, {rand.ci_high[k]:+.2f}].")


def causal_findings(causal: CausalResult) -> list[str]:
    """One plain-language line per question and annotation (see the module docstring)."""
    lines = []
    for annotation, gate in causal.prerequisite.gates.items():
        lines.append(_prerequisite_line(gate))
        lines.append(_where_line(causal, annotation))
        if annotation in causal.screens:
            lines.append(causal.screens[annotation].finding())
    steering = _steering_line(causal)
    if steering is not None:
        lines.append(steering)
    s = causal.settings
    lines.append(f"Grid: layers {causal.patch_layers[0]}..{causal.patch_layers[-1]} every "
                 f"{s.patch_layer_stride}; claims {'all passing' if s.patch_claims is None else f'<= {s.patch_claims}'}"
                 f"; paraphrases {'all' if s.patch_paraphrases is None else f'<= {s.patch_paraphrases}'} with a gap "
                 f"<= -{s.min_effect:g} nats; {sum(causal.seconds.values()):.0f} s.")
    return lines


def handoff_table(causal: CausalResult) -> pd.DataFrame:
    """Hand-off layer per annotation and direction, or why there is none (handoff_layers.csv)."""
    rows = []
    for annotation in causal.prerequisite.gates:
        patching = causal.patching.get(annotation)
        if patching is None:
            rows.append({"annotation": annotation, "direction": None, "layer": None, "ci_low": None, "ci_high": None,
                         "n_claims": 0, "n_pairs": 0, "note": causal.nothing_to_localise(annotation)
                         or "no pair with a gap of at least min_effect"})
            continue
        for direction, h in patching.handoff.items():
            note = "never handed off (past the last layer)" if h.layer is not None and h.layer >= causal.n_layers \
                else "the claim tokens never carry the effect" if h.layer is None else ""
            rows.append({"annotation": annotation, "direction": direction.replace("annotated", annotation),
                         "layer": h.layer, "ci_low": h.ci_low, "ci_high": h.ci_high, "n_claims": h.n_claims,
                         "n_pairs": h.n_pairs, "note": note})
    table = pd.DataFrame(rows, columns=["annotation", "direction", "layer", "ci_low", "ci_high", "n_claims", "n_pairs",
                                        "note"])
    for column in ("layer", "ci_low", "ci_high"):
        table[column] = pd.array(table[column], dtype="Int64")
    return table
