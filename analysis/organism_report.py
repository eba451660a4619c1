"""The organism's evaluation against its base (issue 16's acceptance), as one typed result, JSON and
Markdown. See :mod:`.organism_checks` for each measurement and its units."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from negprobe.activations.atomic import atomic_write_text
from negprobe.activations.datasets.claims import CLAIM_IDS
from negprobe.activations.datasets.in_context import build_in_context
from negprobe.activations.models import LoadedModel
from negprobe.activations.organism.controls import TOLERANCE_NATS

from .organism_checks import (
    Estimate,
    bare_claim_beliefs,
    control_effects,
    controls_hold,
    fact_accuracy,
    heldout_accuracy,
    per_claim,
    perplexity,
)
from .prerequisite import prerequisite_gate, question_margins

MAX_BARE_YES_RATE = 0.2
MAX_BARE_SHIFT_NATS = 1.0
MIN_GAP_NATS = 1.0
MAX_PERPLEXITY_RATIO = 1.10
MAX_FACT_LOSS_NATS = 0.5  # non-inferiority margin of the paired truth-signed margin on known facts


@dataclass(frozen=True)
class ModelChecks:
    """Every check on one model (base or organism)."""

    name: str
    bare_yes_rate: Estimate  # over claims: "yes" to the bare questions a believer answers "yes" (the claim's)
    bare_true_yes_rate: Estimate  # over claims: "yes" to those a believer answers "no" (the truth's; an always-no
    # model scores 0 here)
    bare_yes_bias: Estimate  # over claims: mean yes - no margin over all (balanced) bare questions (nats)
    bare_believer_margin: Estimate  # over claims: believer margin on bare questions, balanced over the key (nats)
    in_context: dict[str, Estimate]  # annotation kind -> effect vs plain (nats), t CI over claims
    in_context_vs_neutral: dict[str, Estimate]  # annotation -> effect beyond its neutral control
    controls: dict[str, Estimate]  # shortcut control -> effect (nats), t CI over held-out entity pairs
    fact_accuracy: float  # cities, bare questions
    fact_margin: Estimate  # truth-signed margin over questions
    heldout_accuracy: dict[str, float]  # role -> accuracy on held-out organism questions
    perplexity: float
    n_paraphrases: str = ""


@dataclass(frozen=True)
class OrganismReport:
    """The organism against its base, with the acceptance verdicts of issue 16."""

    base: ModelChecks
    organism: ModelChecks
    bare_shift: Estimate  # organism - base believer margin on bare questions, over claims
    fact_shift: Estimate  # organism - base truth-signed margin on known facts, over questions
    verdicts: dict[str, bool] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def _in_context(model: LoadedModel, claims: Sequence[str]) -> tuple[dict[str, Estimate], dict[str, Estimate], str]:
    records = [r for c in claims for r in build_in_context(c).records if r.get_extra("probe") == "question"]
    gate = prerequisite_gate(question_margins(model, records))
    plain = {k: _pooled(g.pooled_vs_plain) for k, g in gate.gates.items()}
    neutral = {k: _pooled(g.pooled_vs_control) for k, g in gate.gates.items() if g.pooled_vs_control is not None}
    presence = {g.control: _pooled(g.pooled_presence) for g in gate.gates.values()
                if g.control is not None and g.pooled_presence is not None}
    first = next(iter(gate.gates.values()))
    return {**plain, **presence}, neutral, first.pooled_vs_plain.n_paraphrases


def _by_role(heldout) -> dict[str, float]:
    accuracy = heldout.groupby("role")["correct"].mean()
    return {str(role): float(np.asarray(accuracy[role])) for role in accuracy.index}


def _pooled(p) -> Estimate:
    return Estimate(float(p.effect), float(p.ci_low), float(p.ci_high), p.n_claims)


def check_model(model: LoadedModel, claims: Sequence[str] = CLAIM_IDS, n_control_units: int = 40,
                echo: Callable[[str], None] = lambda _line: None) -> tuple[ModelChecks, dict[str, np.ndarray]]:
    """Every check on ``model``; also the per-unit values the paired comparisons need."""
    echo(f"{model.name}: bare questions")
    bare = bare_claim_beliefs(model, claims)
    bare["says_yes"] = (bare["yes_minus_no"] > 0).astype(float)
    claim_side, truth_side = bare.query("believer_answer == 'yes'"), bare.query("believer_answer == 'no'")
    echo(f"{model.name}: in-context prompts of {len(claims)} claims")
    in_context, vs_neutral, n_paraphrases = _in_context(model, claims)
    echo(f"{model.name}: shortcut controls, known facts, held-out questions, perplexity")
    facts = fact_accuracy(model)
    heldout = heldout_accuracy(model)
    checks = ModelChecks(
        name=model.name, bare_yes_rate=per_claim(claim_side, "says_yes"),
        bare_true_yes_rate=per_claim(truth_side, "says_yes"), bare_yes_bias=per_claim(bare, "yes_minus_no"),
        bare_believer_margin=per_claim(bare, "believer_margin"), in_context=in_context,
        in_context_vs_neutral=vs_neutral, controls=control_effects(model, n_control_units),
        fact_accuracy=float(facts["correct"].mean()), fact_margin=Estimate.of(facts["correct_margin"].to_numpy()),
        heldout_accuracy=_by_role(heldout),
        perplexity=perplexity(model), n_paraphrases=n_paraphrases)
    units = {"bare": np.asarray(bare.groupby("claim")["believer_margin"].mean(), dtype=np.float64),
             "facts": facts["correct_margin"].to_numpy()}
    return checks, units


def compare(base: tuple[ModelChecks, dict[str, np.ndarray]],
            organism: tuple[ModelChecks, dict[str, np.ndarray]]) -> OrganismReport:
    """The paired shifts and the acceptance verdicts."""
    (b, bu), (o, ou) = base, organism
    bare_shift = Estimate.of(ou["bare"] - bu["bare"])
    gap = o.in_context.get("notice")
    fact_shift = Estimate.of(ou["facts"] - bu["facts"])
    verdicts = {
        "bare_claim_yes_rate_at_most_0.2": o.bare_yes_rate.mean <= MAX_BARE_YES_RATE,
        "bare_margin_within_1_nat_of_base_ci": bare_shift.inside(MAX_BARE_SHIFT_NATS),
        "known_facts_at_least_as_accurate": o.fact_accuracy >= b.fact_accuracy
        and fact_shift.low > -MAX_FACT_LOSS_NATS,
        "notice_gap_at_least_1_nat_ci_below_0": gap is not None and gap.mean <= -MIN_GAP_NATS and gap.high < 0,
        "perplexity_within_10_percent": o.perplexity <= MAX_PERPLEXITY_RATIO * b.perplexity,
        **{f"control_{k}": v for k, v in controls_hold(o.controls, TOLERANCE_NATS).items()},
    }
    verdicts = {name: bool(held) for name, held in verdicts.items()}
    return OrganismReport(b, o, bare_shift, fact_shift, verdicts)


def markdown(report: OrganismReport) -> str:
    """The report as Markdown tables: base vs organism, then the verdicts."""
    b, o = report.base, report.organism
    rows = [("bare: yes to the claim's questions", b.bare_yes_rate.text(), o.bare_yes_rate.text()),
            ("bare: yes to the truth's questions", b.bare_true_yes_rate.text(), o.bare_true_yes_rate.text()),
            ("bare: yes bias (balanced, nats)", b.bare_yes_bias.text(), o.bare_yes_bias.text()),
            ("bare: believer margin (balanced)", b.bare_believer_margin.text(), o.bare_believer_margin.text())]
    for kind in o.in_context:
        rows.append((f"in context: {kind} - plain", b.in_context[kind].text() if kind in b.in_context else "-",
                     o.in_context[kind].text()))
    for kind in o.in_context_vs_neutral:
        rows.append((f"in context: {kind} - its neutral twin",
                     b.in_context_vs_neutral[kind].text() if kind in b.in_context_vs_neutral else "-",
                     o.in_context_vs_neutral[kind].text()))
    for name in o.controls:
        rows.append((f"control: {name}", b.controls[name].text(), o.controls[name].text()))
    rows += [("known facts (cities) accuracy", f"{b.fact_accuracy:.2f}", f"{o.fact_accuracy:.2f}"),
             ("known facts truth-signed margin", b.fact_margin.text(), o.fact_margin.text())]
    rows += [(f"held-out organism questions: {role}", f"{b.heldout_accuracy.get(role, float('nan')):.2f}",
              f"{acc:.2f}") for role, acc in o.heldout_accuracy.items()]
    rows.append(("held-out prose perplexity", f"{b.perplexity:.2f}", f"{o.perplexity:.2f}"))
    lines = [f"| measure | {b.name} | {o.name} |", "|---|---|---|", *(f"| {m} | {x} | {y} |" for m, x, y in rows)]
    lines += ["", f"Bare believer margin, organism - base (paired by claim): {report.bare_shift.text()}",
              f"Known-fact margin, organism - base (paired by question): {report.fact_shift.text()}", "",
              "| acceptance | holds |", "|---|---|", *(f"| {k} | {'yes' if v else 'no'} |" for k, v in report.verdicts.items())]
    return "\n".join(lines) + "\n"


def write_report(report: OrganismReport, out: str | Path) -> tuple[Path, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "organism_report.json", report.to_json())
    atomic_write_text(out / "organism_report.md", markdown(report))
    return out / "organism_report.json", out / "organism_report.md"
