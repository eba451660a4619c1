"""The behavioural prerequisite of causal localisation: does the annotation lower belief in context?

Before asking *where* an annotation acts, show that it acts, with the right sign (issue 13). The
**belief margin** of a yes/no question record is ``log P(believer answer) - log P(other answer)``
of the next token after "Answer:" (:func:`negprobe.analysis.belief.yes_no_margin`; each answer
sums its spellings). For an annotation (notice, dense, local) and a comparison record (the plain
document, or the annotation's neutral control of equal length and position where one exists):

- **effect per claim** = mean over paraphrases of ``margin(annotated) - margin(comparison)``,
  paired by paraphrase (same claim, same document); 95% percentile bootstrap CI over paraphrases.
  Negative = the annotation lowers belief in the false claim = what negation should do.
- **passes** (per claim): vs plain, ``effect <= -min_effect`` and the CI excludes 0; and, where a
  neutral control exists, the effect vs neutral is negative with its CI excluding 0 (so the drop
  is not bought by any text of that length at that place).
- **pooled effect** = mean over claims of the per-claim effects, CI from the two-stage bootstrap of
  :mod:`negprobe.analysis.claim_level` (claims, then paraphrases).

``min_effect`` defaults to 1 nat (:data:`MIN_EFFECT`): a factor e in the odds of the believer's
answer, well above the paraphrase-to-paraphrase noise of a 135M model's margin (~0.3 nat) and the
size the localisation's normalised effects can be divided by without amplifying noise. An
annotation with no passing claim has nothing to localise (:meth:`AnnotationGate.nothing_to_localise`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from negprobe.activations.interventions import run_with_patch
from negprobe.activations.models import LoadedModel
from negprobe.activations.tokenize import tokenize
from negprobe.errors import NegprobeError
from negprobe.probes.resampling import bootstrap_mean

from .belief import answer_token_ids, yes_no_margin
from .claim_level import claim_mean

MIN_EFFECT = 1.0  # nats; see the module docstring
PLAIN = "plain"
# annotation kind -> its neutral control kind (mirrors ANNOTATION_CONTROLS of
# negprobe.activations.datasets.in_context; replace by that import once it lands)
ANNOTATION_CONTROLS: dict[str, str | None] = {"notice": "neutral", "dense": "dense_neutral", "local": None}
MARGIN_COLUMNS = ("claim", "paraphrase", "kind", "margin")


def condition_of(kind: str) -> str:
    """The in-context record condition of a document kind (``notice`` -> ``in_context_notice``)."""
    return f"in_context_{kind}"


def kind_of(condition: str) -> str:
    return condition.removeprefix("in_context_")


def belief_readout(model: LoadedModel, believer_yes: bool = True):
    """Last-position logits ``[n, vocab]`` -> belief margin ``[n]`` (yes minus no, or its negation)."""
    ids = answer_token_ids(model.tokenizer)
    sign = 1.0 if believer_yes else -1.0

    def readout(logits: torch.Tensor) -> torch.Tensor:
        return sign * yes_no_margin(torch.log_softmax(logits.float(), -1), ids)

    return readout


def believer_sign(record) -> float:
    """+1 when the believer answers yes (the in-context questions), -1 when no."""
    answer = (record.get_extra("believer_answer") or " Yes").strip().lower()
    if answer not in ("yes", "no"):
        raise NegprobeError(f"record {record.pair_id}: believer answer {answer!r} is neither yes nor no")
    return 1.0 if answer == "yes" else -1.0


@torch.no_grad()
def question_margins(model: LoadedModel, questions: Sequence, batch_size: int = 16, progress=None) -> pd.DataFrame:
    """Belief margin of every question record: one row per (claim, paraphrase, kind).

    Left-padded batches, logits at the last position only. ``progress(n)`` is told of each batch.
    """
    ids = answer_token_ids(model.tokenizer)
    rows = []
    questions = sorted(questions, key=lambda r: len(r.text))  # similar lengths share a batch: little padding
    for start in range(0, len(questions), batch_size):
        chunk = list(questions[start:start + batch_size])
        batch = tokenize(model.tokenizer, [r.text for r in chunk], padding_side="left", max_length=model.max_length)
        logits = run_with_patch(model, batch.input_ids, batch.attention_mask, last_only=True)[:, -1]
        yes_minus_no = yes_no_margin(torch.log_softmax(logits.float(), -1), ids)
        for record, value in zip(chunk, yes_minus_no.tolist()):
            rows.append({"claim": record.claim, "paraphrase": record.get_extra("paraphrase") or "0",
                         "kind": kind_of(record.condition), "margin": believer_sign(record) * value})
        if progress is not None:
            progress(len(chunk))
    return pd.DataFrame(rows, columns=list(MARGIN_COLUMNS))


@dataclass(frozen=True)
class ClaimEffect:
    """One claim's in-context effect of an annotation on the belief margin, vs one comparison."""

    annotation: str
    comparison: str  # "plain" or the neutral control's kind
    claim: str
    effect: float  # nats; negative = the annotation lowers belief
    ci_low: float
    ci_high: float
    n_paraphrases: int

    @property
    def sign(self) -> int:
        return int(np.sign(self.effect))

    @property
    def ci_excludes_zero(self) -> bool:
        return self.ci_high < 0 or self.ci_low > 0

    def lowers_belief(self) -> bool:
        """Sign-correct with a CI excluding 0."""
        return self.effect < 0 and self.ci_high < 0


@dataclass(frozen=True)
class PooledEffect:
    """Mean over claims of per-claim effects, two-stage bootstrap CI (claims, then paraphrases)."""

    effect: float
    ci_low: float
    ci_high: float
    n_claims: int
    n_paraphrases: str  # paraphrases per claim: "10", or "8-10" when they differ


@dataclass(frozen=True)
class AnnotationGate:
    """The prerequisite of one annotation: per-claim effects vs plain and vs its neutral control."""

    annotation: str
    control: str | None
    min_effect: float
    vs_plain: tuple[ClaimEffect, ...]
    vs_control: tuple[ClaimEffect, ...]  # empty where the annotation has no neutral control
    pooled_vs_plain: PooledEffect
    pooled_vs_control: PooledEffect | None

    def passes(self, claim: str) -> bool:
        """Vs plain: ``effect <= -min_effect`` with a CI excluding 0; vs neutral (if any): lowers belief."""
        plain = next((e for e in self.vs_plain if e.claim == claim), None)
        if plain is None or not (plain.effect <= -self.min_effect and plain.ci_excludes_zero):
            return False
        if self.control is None:
            return True
        control = next((e for e in self.vs_control if e.claim == claim), None)
        return control is not None and control.lowers_belief()

    @property
    def passing(self) -> tuple[str, ...]:
        return tuple(e.claim for e in self.vs_plain if self.passes(e.claim))

    def nothing_to_localise(self) -> str | None:
        """The sentence the report and the CLI print when no claim passes (``None`` otherwise)."""
        if self.passing:
            return None
        p, c = self.pooled_vs_plain, self.pooled_vs_control
        effect = f"{p.effect:+.2f} [{p.ci_low:+.2f}, {p.ci_high:+.2f}] nats"
        if p.ci_high < 0 and p.effect <= -self.min_effect:
            why = f"no single claim's effect reaches -{self.min_effect:g} nats with a CI excluding 0"
        elif p.ci_high < 0:
            why = f"it lowers belief, but by less than the {self.min_effect:g}-nat minimum in every claim"
        elif p.ci_low > 0:
            why = "it raises belief, the wrong sign for a negation"
        else:
            why = "it does not lower belief in context"
        control = "" if c is None else (f"; beyond its neutral control of equal length: {c.effect:+.2f} "
                                        f"[{c.ci_low:+.2f}, {c.ci_high:+.2f}] nats")
        return (f"nothing to localise on this model: {why} (effect vs the plain document {effect}{control}; "
                f"{p.n_claims} claims x {p.n_paraphrases} paraphrases)")

    def table(self) -> pd.DataFrame:
        """One row per claim and comparison: effect, CI, sign, passes (prerequisite.csv)."""
        return pd.DataFrame([{"annotation": self.annotation, "comparison": e.comparison, "claim": e.claim,
                              "effect": e.effect, "ci_low": e.ci_low, "ci_high": e.ci_high, "sign": e.sign,
                              "n_paraphrases": e.n_paraphrases, "passes": self.passes(e.claim),
                              "min_effect": self.min_effect} for e in self.vs_plain + self.vs_control])


@dataclass(frozen=True, eq=False)
class Prerequisite:
    """The behavioural prerequisite of every annotation, and the margins it was computed from."""

    min_effect: float
    gates: Mapping[str, AnnotationGate]
    margins: pd.DataFrame  # MARGIN_COLUMNS: one row per (claim, paraphrase, kind)

    def table(self) -> pd.DataFrame:
        frames = [gate.table() for gate in self.gates.values()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def gap(self, annotation: str, claim: str, paraphrase: str) -> float:
        """``margin(annotated) - margin(plain)`` of one paraphrase (NaN when either is missing)."""
        m = self.margins
        sel = (m["claim"] == claim) & (m["paraphrase"] == paraphrase)
        values = dict(zip(m.loc[sel, "kind"], m.loc[sel, "margin"]))
        return float(values.get(annotation, np.nan) - values.get(PLAIN, np.nan))


def _paired(margins: pd.DataFrame, kind: str, comparison: str) -> pd.DataFrame:
    """Per (claim, paraphrase): margin(kind) - margin(comparison), where both exist."""
    wide = margins.pivot_table(index=["claim", "paraphrase"], columns="kind", values="margin", aggfunc="mean")
    if kind not in wide or comparison not in wide:
        return pd.DataFrame(columns=["claim", "paraphrase", "diff"])
    diff = (wide[kind] - wide[comparison]).dropna()
    return diff.rename("diff").reset_index()


def _effects(annotation: str, comparison: str, paired: pd.DataFrame, n_boot: int, seed: int
             ) -> tuple[tuple[ClaimEffect, ...], PooledEffect | None]:
    effects = []
    for claim, rows in paired.groupby("claim", sort=True):
        values = rows["diff"].to_numpy(dtype=float)
        mean, low, high = bootstrap_mean(values, n_boot=n_boot, seed=seed)
        effects.append(ClaimEffect(annotation, comparison, str(claim), float(mean), float(low), float(high), len(values)))
    if not effects:
        return (), None
    pooled = claim_mean(paired["diff"].to_numpy(dtype=float), paired["claim"].to_numpy(), n_boot, seed)
    counts = sorted({e.n_paraphrases for e in effects})
    spread = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return tuple(effects), PooledEffect(float(pooled.value), float(pooled.ci_low), float(pooled.ci_high),
                                        len(effects), spread)


def prerequisite_gate(margins: pd.DataFrame, min_effect: float = MIN_EFFECT, n_boot: int = 1000, seed: int = 0,
                      controls: Mapping[str, str | None] = ANNOTATION_CONTROLS) -> Prerequisite:
    """The prerequisite of every annotation in ``controls`` that ``margins`` has (see the module docstring)."""
    if min_effect <= 0:
        raise NegprobeError(f"min_effect must be positive (nats), got {min_effect}")
    missing = set(MARGIN_COLUMNS) - set(margins.columns)
    if missing:
        raise NegprobeError(f"margins lack columns {sorted(missing)}")
    kinds = set(margins["kind"])
    if PLAIN not in kinds:
        raise NegprobeError("no plain in-context questions: the prerequisite compares each annotation with them")
    gates = {}
    for annotation, control in controls.items():
        if annotation not in kinds:
            continue
        vs_plain, pooled = _effects(annotation, PLAIN, _paired(margins, annotation, PLAIN), n_boot, seed)
        if pooled is None:
            continue
        control = control if control in kinds else None
        vs_control, pooled_control = ((), None) if control is None else \
            _effects(annotation, control, _paired(margins, annotation, control), n_boot, seed)
        gates[annotation] = AnnotationGate(annotation, control, min_effect, vs_plain, vs_control, pooled,
                                           pooled_control)
    return Prerequisite(min_effect, gates, margins)
