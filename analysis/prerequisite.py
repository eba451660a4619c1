"""The behavioural prerequisite of causal localisation: does the annotation lower belief in context?

Before asking *where* an annotation acts, show that it acts, with the right sign (issue 13). The
**belief margin** of a yes/no question record is ``log P(believer answer) - log P(other answer)``
of the next token after "Answer:" (:func:`negprobe.analysis.belief.yes_no_margin`; each answer
sums its spellings). For an annotation (notice, dense, local) and a comparison record (the plain
document, or the annotation's neutral control of equal length and position where one exists):

- **effect per claim** = mean over paraphrases of ``margin(annotated) - margin(comparison)``,
  paired by paraphrase (same claim, same document); 95% Student-t CI over the paraphrases
  (:func:`~negprobe.analysis.claim_level.t_interval`). Negative = the annotation lowers belief in
  the false claim = what negation should do.
- **presence effect**: the neutral control vs plain, i.e. what *any* notice of that length at that
  place does; reported beside, so a drop bought by presence is not credited to the annotation.
- **bracket** (:meth:`AnnotationGate.neutral_in_bracket`): the annotation's truth-affirming twin vs plain, and
  the annotation vs that twin (what the truth words alone do). A neutral control is neutral when
  its effect sits between the annotation's and the twin's; the twin takes no part in the pass rule.
- **passes** (per claim): the annotation-specific effect (vs its neutral control where one exists,
  else vs plain) is ``<= -min_effect`` with its CI excluding 0, and the effect vs plain is negative
  with its CI excluding 0.
- **pooled effect** = mean over claims of the per-claim effects, 95% Student-t CI over the claim
  means (claims are the independent unit; with one claim, over its paraphrases).

``min_effect`` defaults to 1 nat (:data:`MIN_EFFECT`): a factor e in the odds of the believer's
answer, well above the paraphrase-to-paraphrase noise of a 135M model's margin (~0.3 nat) and the
size the localisation's normalised effects can be divided by without amplifying noise. An
annotation with no passing claim has nothing to localise (:meth:`AnnotationGate.nothing_to_localise`),
which also says how many claims would pass at 0.25 and 0.5 nats, so the threshold's role is visible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from negprobe.activations.datasets.claim_docs import DENSE_NOTES, DOC_NOTICES, dense_wording, notice_wording
from negprobe.activations.datasets.in_context import AFFIRMING_CONTROLS, ANNOTATION_CONTROLS
from negprobe.activations.interventions import run_with_patch
from negprobe.activations.models import LoadedModel
from negprobe.activations.tokenize import tokenize
from negprobe.errors import NegprobeError

from .belief import answer_token_ids, yes_no_margin
from .claim_level import t_interval

MIN_EFFECT = 1.0  # nats; see the module docstring
PLAIN = "plain"
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
    """Mean over claims of per-claim effects, Student-t CI over the claim means."""

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
    presence: tuple[ClaimEffect, ...] = ()  # the neutral control vs plain: what any notice there does
    pooled_presence: PooledEffect | None = None
    affirming: str | None = None  # the truth-affirming twin's kind, where one was measured
    vs_affirming: tuple[ClaimEffect, ...] = ()  # the annotation vs its affirming twin: what the truth words do
    pooled_vs_affirming: PooledEffect | None = None
    affirmed: tuple[ClaimEffect, ...] = ()  # the affirming twin vs plain
    pooled_affirmed: PooledEffect | None = None

    def specific(self, claim: str) -> ClaimEffect | None:
        """The annotation-specific effect of ``claim``: vs its neutral control where one exists, else vs plain."""
        effects = self.vs_control if self.control is not None else self.vs_plain
        return next((e for e in effects if e.claim == claim), None)

    def passes(self, claim: str, min_effect: float | None = None) -> bool:
        """The specific effect is ``<= -min_effect`` with a CI excluding 0, and vs plain it lowers belief."""
        minimum = self.min_effect if min_effect is None else min_effect
        plain = next((e for e in self.vs_plain if e.claim == claim), None)
        specific = self.specific(claim)
        return plain is not None and specific is not None and plain.lowers_belief() and \
            specific.lowers_belief() and specific.effect <= -minimum

    @property
    def passing(self) -> tuple[str, ...]:
        return tuple(e.claim for e in self.vs_plain if self.passes(e.claim))

    def passing_at(self, min_effect: float) -> int:
        """How many claims would pass with minimum ``min_effect`` (the threshold's role, for the report)."""
        return sum(self.passes(e.claim, min_effect) for e in self.vs_plain)

    @property
    def wrong_sign(self) -> int:
        """Claims whose effect vs plain is positive with a CI excluding 0 (the annotation raises belief)."""
        return sum(e.ci_low > 0 for e in self.vs_plain)

    def nothing_to_localise(self) -> str | None:
        """The sentence the report and the CLI print when no claim passes (``None`` otherwise)."""
        if self.passing:
            return None
        p, c = self.pooled_vs_plain, self.pooled_vs_control
        specific = c if c is not None else p
        if specific.ci_low > 0 or p.ci_low > 0:
            why = "it raises belief, the wrong sign for a negation"
        elif specific.ci_high < 0:
            why = (f"it lowers belief, but no claim's {'effect beyond the neutral control' if c else 'effect'} "
                   f"reaches -{self.min_effect:g} nats with a CI excluding 0")
        elif p.ci_high < 0:
            why = "it lowers belief only as much as a neutral notice of the same length does"
        else:
            why = "it does not lower belief in context"
        return (f"nothing to localise on this model: {why} (effect vs the plain document {_interval(p)}"
                + ("" if c is None else f"; beyond its neutral control {_interval(c)}")
                + f"; {p.n_claims} claims x {p.n_paraphrases} paraphrases; claims passing at a 0.25 / 0.5 / "
                f"{self.min_effect:g}-nat minimum: {self.passing_at(0.25)} / {self.passing_at(0.5)} / {len(self.passing)})")

    def neutral_in_bracket(self) -> bool | None:
        """Whether the neutral control's effect vs plain sits between the annotation's and its affirming
        twin's (pooled point estimates), as a neutral text should; ``None`` without both controls."""
        a, n, t = self.pooled_vs_plain, self.pooled_presence, self.pooled_affirmed
        if n is None or t is None:
            return None
        low, high = sorted((a.effect, t.effect))
        return low <= n.effect <= high

    def table(self) -> pd.DataFrame:
        """One row per claim and comparison: effect, CI, sign, passes (prerequisite.csv); the presence rows
        (neutral control vs plain) carry the control's kind as ``annotation`` and no ``passes``, as do
        the affirming twin's rows (twin vs plain) beside the annotation-vs-twin rows."""
        return pd.DataFrame([{"gate": self.annotation, "annotation": e.annotation, "comparison": e.comparison,
                              "claim": e.claim, "effect": e.effect, "ci_low": e.ci_low, "ci_high": e.ci_high,
                              "sign": e.sign, "n_paraphrases": e.n_paraphrases,
                              "passes": self.passes(e.claim) if e.annotation == self.annotation else None,
                              "min_effect": self.min_effect}
                             for e in self.vs_plain + self.vs_control + self.presence + self.vs_affirming
                             + self.affirmed])


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


def _interval(p: PooledEffect) -> str:
    return f"{p.effect:+.2f} [{p.ci_low:+.2f}, {p.ci_high:+.2f}] nats"


def _paired(margins: pd.DataFrame, kind: str, comparison: str) -> pd.DataFrame:
    """Per (claim, paraphrase): margin(kind) - margin(comparison), where both exist."""
    wide = margins.pivot_table(index=["claim", "paraphrase"], columns="kind", values="margin", aggfunc="mean")
    if kind not in wide or comparison not in wide:
        return pd.DataFrame(columns=["claim", "paraphrase", "diff"])
    diff = (wide[kind] - wide[comparison]).dropna()
    return diff.rename("diff").reset_index()


def _effects(annotation: str, comparison: str, paired: pd.DataFrame) -> tuple[tuple[ClaimEffect, ...], PooledEffect | None]:
    effects = []
    for claim, rows in paired.groupby("claim", sort=True):
        values = rows["diff"].to_numpy(dtype=float)
        mean, low, high = t_interval(values)
        effects.append(ClaimEffect(annotation, comparison, str(claim), mean, low, high, len(values)))
    if not effects:
        return (), None
    units = np.array([e.effect for e in effects]) if len(effects) > 1 else paired["diff"].to_numpy(dtype=float)
    value, low, high = t_interval(units)
    counts = sorted({e.n_paraphrases for e in effects})
    spread = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return tuple(effects), PooledEffect(value, low, high, len(effects), spread)


def _versus(margins: pd.DataFrame, kind: str, comparison: str | None, kinds: set[str]):
    """Effects of ``kind`` vs ``comparison`` (none when ``comparison`` was not measured)."""
    if comparison is None or comparison not in kinds:
        return (), None
    return _effects(kind, comparison, _paired(margins, kind, comparison))


def prerequisite_gate(margins: pd.DataFrame, min_effect: float = MIN_EFFECT,
                      controls: Mapping[str, str | None] = ANNOTATION_CONTROLS,
                      affirming: Mapping[str, str | None] = AFFIRMING_CONTROLS) -> Prerequisite:
    """The prerequisite of every annotation in ``controls`` that ``margins`` has (see the module docstring);
    ``affirming`` names each annotation's truth-affirming twin, reported as the neutral control's bracket."""
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
        vs_plain, pooled = _effects(annotation, PLAIN, _paired(margins, annotation, PLAIN))
        if pooled is None:
            continue
        control = control if control in kinds else None
        twin = affirming.get(annotation)
        twin = twin if twin in kinds else None
        vs_control, pooled_control = _versus(margins, annotation, control, kinds)
        presence, pooled_presence = _versus(margins, control, PLAIN, kinds) if control else ((), None)
        vs_twin, pooled_vs_twin = _versus(margins, annotation, twin, kinds)
        affirmed, pooled_affirmed = _versus(margins, twin, PLAIN, kinds) if twin else ((), None)
        gates[annotation] = AnnotationGate(annotation, control, min_effect, vs_plain, vs_control, pooled,
                                           pooled_control, presence, pooled_presence, twin, vs_twin, pooled_vs_twin,
                                           affirmed, pooled_affirmed)
    return Prerequisite(min_effect, gates, margins)


#: Annotation family -> (its kinds: annotated, neutral, affirming; paraphrase -> wording index; wordings).
WORDING_FAMILIES = {
    "notice": (("notice", "neutral", "affirm"), notice_wording, DOC_NOTICES),
    "dense": (("dense", "dense_neutral", "dense_affirm"), dense_wording, DENSE_NOTES),
}
WORDING_COLUMNS = ("family", "wording", "annotation_text", "kind", "effect", "ci_low", "ci_high", "n_claims", "n_paraphrases")


def wording_effects(margins: pd.DataFrame) -> pd.DataFrame:
    """Per annotation family and wording: each kind (annotated, neutral, affirming) vs plain, as the mean
    over claims of each claim's mean over the paraphrases that use that wording, with a Student-t 95% CI
    over the claim means (wording_effects.csv). Every claim shares the same few wordings, so the pooled
    effect is conditional on them; this table shows how much it varies by wording."""
    rows = []
    for family, (kinds, wording_of, texts) in WORDING_FAMILIES.items():
        for kind in kinds:
            paired = _paired(margins, kind, PLAIN)
            if paired.empty:
                continue
            paired["wording"] = [wording_of(int(p)) for p in paired["paraphrase"]]
            for wording in sorted(set(paired["wording"])):
                rows_w = paired[paired["wording"] == wording]
                per_claim = np.asarray(rows_w.groupby("claim")["diff"].mean(), dtype=float)
                effect, low, high = t_interval(per_claim)
                rows.append({"family": family, "wording": int(wording), "annotation_text": texts[int(wording)][0], "kind": kind,
                             "effect": effect, "ci_low": low, "ci_high": high, "n_claims": len(per_claim),
                             "n_paraphrases": len(rows_w)})
    return pd.DataFrame(rows, columns=list(WORDING_COLUMNS))
