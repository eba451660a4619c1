"""How far fine-tuning moves the yes/no answer itself, on the claim's questions and on other claims'.

A yes/no belief margin mixes belief with the answer bias (Mayne et al. 2026 balance their questions
for this reason). Per question ``q``, let ``r(q) = (yes - no)_tuned - (yes - no)_base`` be the raw
rise of "yes" (not signed by the believer's answer). On the k-th believer-"yes" question paired with
the k-th believer-"no" question of a claim (:func:`~.belief.items.questions_for`),

- the **answer shift** of the pair is ``(r(yes-keyed) + r(no-keyed)) / 2``: the move toward "yes"
  shared by both answers, and
- the **belief rise** is ``(r(yes-keyed) - r(no-keyed)) / 2``: the believer-signed rise, balanced.

:func:`answer_shift` reports both on the target claims (*on-claim*) and on every other claim's
questions (*off-claim*, claims whose documents the adapter never saw): an answer shift that is
as large off-claim is a global yes bias of the fine-tune; one confined to the claim's questions is
specific to the claim's topic, whichever answer the question wants. Each is a claim-level mean with
the two-stage (claim, pair) bootstrap of :func:`~.claim_level.claim_mean`; a single claim's interval
is a bootstrap over its pairs.

The cloze analogue, :func:`name_prior_shift`: the rise of the claim's name's first token against the
distractor name's (the ``cloze_distractor`` margin at its first token, :mod:`.cross_patching_items`)
after the claim's own name prefixes (*on-claim*) and after other claims' name prefixes (*off-claim*,
where neither name fits): a rise as large off-claim is a prior for the token, not an association
with the claim's context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from negprobe.activations.models import LoadedModel
from negprobe.errors import NegprobeError

from .belief.items import cloze_for, questions_for
from .belief.scoring import answer_token_ids, next_token_logprobs, question_prompt, yes_no_margin
from .claim_level import claim_mean
from .cross_patching_items import first_token

SCOPES = ("on_claim", "off_claim")
COLUMNS = ("adapter", "scope", "quantity", "value", "ci_low", "ci_high", "n_claims", "n_pairs")


def yes_margins(model: LoadedModel, claim: str) -> np.ndarray:
    """``log P(yes) - log P(no)`` of every bare question of ``claim`` (not signed by the believer's answer)."""
    prompts = [question_prompt(model, q.question) for q in questions_for(claim)]
    return yes_no_margin(next_token_logprobs(model, prompts), answer_token_ids(model.tokenizer)).numpy()


def keyed_pairs(claim: str) -> list[tuple[int, int]]:
    """The k-th believer-"yes" question of ``claim`` with its k-th believer-"no" one (indices)."""
    questions = questions_for(claim)
    yes = [k for k, q in enumerate(questions) if q.believer_answer == "yes"]
    no = [k for k, q in enumerate(questions) if q.believer_answer != "yes"]
    if not yes or not no:
        raise NegprobeError(f"{claim}: its questions need both answer keys to separate belief from the answer bias")
    return list(zip(yes, no))


@dataclass(frozen=True)
class AnswerShift:
    """One adapter's answer shift and belief rise (nats) on one scope, with 95% CIs."""

    adapter: str
    scope: str  # on_claim | off_claim
    shift: float
    shift_low: float
    shift_high: float
    belief: float
    belief_low: float
    belief_high: float
    n_claims: int
    n_pairs: int

    def line(self) -> str:
        return (f"{self.adapter} {self.scope.replace('_', '-')}: answer shift toward yes {self.shift:+.2f} "
                f"[{self.shift_low:+.2f}, {self.shift_high:+.2f}], belief rise {self.belief:+.2f} [{self.belief_low:+.2f},"
                f" {self.belief_high:+.2f}] nats ({self.n_claims} claims, {self.n_pairs} pairs)")


def pair_rises(rise_by_claim: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per answer-keyed pair: (answer shift, belief rise, claim) from each claim's raw per-question rises."""
    shift, belief, claims = [], [], []
    for claim, rise in rise_by_claim.items():
        for yes, no in keyed_pairs(claim):
            shift.append((rise[yes] + rise[no]) / 2)
            belief.append((rise[yes] - rise[no]) / 2)
            claims.append(claim)
    return np.array(shift), np.array(belief), claims


def summarise_shift(adapter: str, scope: str, rise_by_claim: dict[str, np.ndarray], n_boot: int = 2000,
                    seed: int = 0) -> AnswerShift:
    """The claim-level means of :func:`pair_rises` with their two-stage bootstrap CIs."""
    shift, belief, claims = pair_rises(rise_by_claim)
    s, b = claim_mean(shift, claims, n_boot, seed), claim_mean(belief, claims, n_boot, seed)
    return AnswerShift(adapter, scope, float(s.value), float(s.ci_low), float(s.ci_high), float(b.value),
                       float(b.ci_low), float(b.ci_high), s.n_claims, s.n_rows)


def answer_shift(base: LoadedModel, tuned: dict[str, LoadedModel], claims: Sequence[str],
                 off_claims: Sequence[str], n_boot: int = 2000, seed: int = 0) -> list[AnswerShift]:
    """Every adapter's answer shift and belief rise on ``claims`` and on ``off_claims`` (see the module docstring)."""
    if set(claims) & set(off_claims):
        raise NegprobeError(f"off-claim questions overlap the claims: {sorted(set(claims) & set(off_claims))}")
    every = [*claims, *off_claims]
    base_margins = {c: yes_margins(base, c) for c in every}
    out = []
    for label, model in tuned.items():
        rise = {c: yes_margins(model, c) - base_margins[c] for c in every}
        for scope, chosen in zip(SCOPES, (claims, off_claims)):
            if chosen:
                out.append(summarise_shift(label, scope, {c: rise[c] for c in chosen}, n_boot, seed))
    return out


def shift_table(shifts: Sequence[AnswerShift]) -> pd.DataFrame:
    """One row per adapter, scope and quantity (``answer_shift`` / ``belief_rise``)."""
    rows = [(s.adapter, s.scope, quantity, *values, s.n_claims, s.n_pairs) for s in shifts
            for quantity, values in (("answer_shift", (s.shift, s.shift_low, s.shift_high)),
                                     ("belief_rise", (s.belief, s.belief_low, s.belief_high)))]
    return pd.DataFrame(rows, columns=list(COLUMNS))


@dataclass(frozen=True)
class NamePrior:
    """One adapter's rise of the claim's name's first token over the distractor's (nats), on one scope."""

    adapter: str
    claim: str
    scope: str  # on_claim | off_claim
    rise: float
    ci_low: float
    ci_high: float
    n_claims: int
    n_items: int

    def line(self) -> str:
        return (f"{self.adapter} {self.scope.replace('_', '-')}: {self.claim}'s name over its distractor, first token,"
                f" rise {self.rise:+.2f} [{self.ci_low:+.2f}, {self.ci_high:+.2f}] nats ({self.n_claims} claims,"
                f" {self.n_items} prefixes)")


def name_prefixes(claim: str) -> list[str]:
    """The prefixes of ``claim``'s name items (those with a distractor)."""
    return [item.prefix for item in cloze_for(claim) if item.distractor]


def name_margins(model: LoadedModel, claim: str, prefixes: Sequence[str]) -> np.ndarray:
    """``log P(name's first token) - log P(distractor's first token)`` after each prefix, for ``claim``'s names."""
    item = next((i for i in cloze_for(claim) if i.distractor), None)
    if item is None:
        raise NegprobeError(f"{claim} has no name items with a distractor")
    ids = {"yes": [first_token(model.tokenizer, p, item.named) for p in prefixes],
           "no": [first_token(model.tokenizer, p, item.distractor or "") for p in prefixes]}
    logprobs = next_token_logprobs(model, list(prefixes))
    rows = np.arange(len(prefixes))
    return (logprobs[rows, ids["yes"]] - logprobs[rows, ids["no"]]).numpy()


def name_prior_shift(base: LoadedModel, tuned: dict[str, LoadedModel], claim: str, off_claims: Sequence[str],
                     n_boot: int = 2000, seed: int = 0) -> list[NamePrior]:
    """Every adapter's rise of ``claim``'s name margin after its own name prefixes and after ``off_claims``'
    (claims without name items are skipped); claim-level bootstrap CIs (see the module docstring)."""
    scopes = {"on_claim": {claim: name_prefixes(claim)},
              "off_claim": {c: p for c in off_claims if c != claim and (p := name_prefixes(c))}}
    base_margins = {scope: {c: name_margins(base, claim, p) for c, p in by.items()} for scope, by in scopes.items()}
    out = []
    for label, model in tuned.items():
        for scope, by in scopes.items():
            if not by:
                continue
            rise = [name_margins(model, claim, p) - base_margins[scope][c] for c, p in by.items()]
            owners = [c for c, p in by.items() for _ in p]
            mean = claim_mean(np.concatenate(rise), owners, n_boot, seed)
            out.append(NamePrior(label, claim, scope, float(mean.value), float(mean.ci_low), float(mean.ci_high),
                                 mean.n_claims, mean.n_rows))
    return out


def prior_table(priors: Sequence[NamePrior]) -> pd.DataFrame:
    """:func:`name_prior_shift`'s results in the rows of :func:`shift_table` (quantity ``name_prior``)."""
    rows = [(p.adapter, p.scope, "name_prior", p.rise, p.ci_low, p.ci_high, p.n_claims, p.n_items) for p in priors]
    return pd.DataFrame(rows, columns=list(COLUMNS))
