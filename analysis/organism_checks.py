"""What the notice-reading organism (issue 16) can and cannot do, measured against its base model.

Every check reads the yes/no margin ``log P(yes) - log P(no)`` of the next token
(:func:`~negprobe.analysis.belief.yes_no_margin`) and is reported with a Student-t 95% CI over its
independent units (:func:`~negprobe.analysis.claim_level.t_interval`):

* :func:`bare_claim_beliefs` -- the six paper claims' belief questions with no document (chat
  prompt): yes-rate and believer margin per claim; units = claims;
* the in-context prerequisite (:func:`~negprobe.analysis.prerequisite.prerequisite_gate` on the
  claims' in-context question prompts, never in the organism's data): notice vs plain per claim;
* :func:`control_effects` -- the shortcut controls of :mod:`negprobe.activations.organism.controls`
  on held-out entities; units = entity pairs;
* :func:`fact_accuracy` -- bare questions on the ``cities`` truth dataset, a known-fact domain the
  organism never saw (:func:`~negprobe.activations.organism.controls.known_fact_questions`); :func:`heldout_accuracy` -- held-out organism questions by role;
* :func:`perplexity` -- held-out generic prose (language drift).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from negprobe.activations.models import LoadedModel
from negprobe.activations.organism.controls import CONTROLS, TOLERANCE_NATS, control_pairs, known_fact_questions
from negprobe.activations.organism.heldout_text import HELDOUT_PARAGRAPHS
from negprobe.activations.organism.prompts import example_prompt, raw_question
from negprobe.activations.organism.sft_data import sft_examples
from negprobe.activations.question_format import question_text
from negprobe.activations.tokenize import tokenize

from .belief import answer_token_ids, yes_no_margin
from .belief.items import questions_for
from .belief.scoring import next_token_logprobs
from .claim_level import t_interval

#: Controls the notice's effect is compared with, paired by entity pair -> the name of that specificity.
SPECIFICITY: dict[str, str] = {"second_document": "notice_beyond_second_document",
                               "unrelated": "notice_beyond_unrelated"}
#: The notice's specific part (beyond a control) must be at least this share of its whole effect.
MIN_SPECIFIC_SHARE = 0.5
SHARE_SUFFIX = "_vs_share"


@dataclass(frozen=True)
class Estimate:
    """A mean with its Student-t 95% CI over ``n`` independent units."""

    mean: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray) -> Estimate:
        mean, low, high = t_interval(np.asarray(values, dtype=np.float64))
        return cls(float(mean), float(low), float(high), n=len(values))

    def inside(self, tolerance: float) -> bool:
        return -tolerance <= self.low and self.high <= tolerance

    def text(self, digits: int = 2) -> str:
        return f"{self.mean:+.{digits}f} [{self.low:+.{digits}f}, {self.high:+.{digits}f}]"


def yes_minus_no(model: LoadedModel, prompts: Sequence[str], batch_size: int = 16) -> np.ndarray:
    """``log P(yes) - log P(no)`` of the next token after each prompt."""
    logprobs = next_token_logprobs(model, list(prompts), batch_size=batch_size)
    return yes_no_margin(logprobs, answer_token_ids(model.tokenizer)).numpy()


def bare_claim_beliefs(model: LoadedModel, claims: Sequence[str]) -> pd.DataFrame:
    """One row per belief question of each claim, asked with no document: yes - no, believer sign."""
    rows = [(cid, q.question, q.believer_answer) for cid in claims for q in questions_for(cid)]
    margins = yes_minus_no(model, [question_text(model.tokenizer, q) for _, q, _ in rows])
    frame = pd.DataFrame(rows, columns=["claim", "question", "believer_answer"])
    frame["yes_minus_no"] = margins
    frame["believer_margin"] = np.where(frame["believer_answer"] == "yes", margins, -margins)
    return frame


def per_claim(frame: pd.DataFrame, column: str) -> Estimate:
    """Claim means of ``column`` pooled with a t CI over claims."""
    means = frame.groupby("claim")[column].mean()
    return Estimate.of(np.asarray(means, dtype=np.float64))


def control_effects(model: LoadedModel, n_units: int = 40, seed: int = 0) -> dict[str, Estimate]:
    """Each shortcut control's effect (treated - baseline yes - no margin) over held-out entity pairs; the
    notice's specificity beyond each control of :data:`SPECIFICITY` (notice effect - control effect, paired
    by entity pair: the part of the notice's effect the control does not share); and, per control, that
    specific part minus :data:`MIN_SPECIFIC_SHARE` of the notice's effect (``<name>_vs_share``: below 0 when
    the specific part is at least that share), paired the same way so its CI is a test of the share."""
    pairs = control_pairs(n_units, seed)
    treated = yes_minus_no(model, [raw_question(p.question, p.treated) for p in pairs])
    baseline = yes_minus_no(model, [raw_question(p.question, p.baseline) for p in pairs])
    frame = pd.DataFrame({"control": [p.control for p in pairs], "unit": [p.unit for p in pairs],
                          "effect": treated - baseline})
    by_unit = frame.pivot(index="unit", columns="control", values="effect")
    effects = {name: Estimate.of(by_unit[name].to_numpy()) for name in CONTROLS}
    notice = by_unit["notice_effect"].to_numpy()
    for control, name in SPECIFICITY.items():
        specific = notice - by_unit[control].to_numpy()
        effects[name] = Estimate.of(specific)
        effects[name + SHARE_SUFFIX] = Estimate.of(specific - MIN_SPECIFIC_SHARE * notice)
    return effects


def controls_hold(effects: dict[str, Estimate], tolerance: float = TOLERANCE_NATS) -> dict[str, bool]:
    """Per control: the intended one lowers belief (CI below -tolerance); every other stays inside +-tolerance;
    the notice's specific part beyond a control (when measured) has its CI below 0, and so does the specific
    part minus half the notice's effect (``_vs_share``): a control that shares most of the effect fails
    however small the effect is."""
    held = {}
    for name, e in effects.items():
        if name == "notice_effect":
            held[name] = bool(e.high < -tolerance)
        elif name in SPECIFICITY.values() or name.endswith(SHARE_SUFFIX):
            held[name] = bool(e.high < 0)
        else:
            held[name] = bool(e.inside(tolerance))
    return held


def fact_accuracy(model: LoadedModel, n: int = 100, seed: int = 0) -> pd.DataFrame:
    """Bare chat questions on known facts: the truth-signed margin and whether the answer is right."""
    questions = known_fact_questions(n, seed)
    margins = yes_minus_no(model, [question_text(model.tokenizer, q) for q, _ in questions])
    truth = np.array([t for _, t in questions])
    signed = np.where(truth, margins, -margins)
    return pd.DataFrame({"question": [q for q, _ in questions], "true": truth, "correct_margin": signed,
                         "correct": signed > 0})


def heldout_accuracy(model: LoadedModel, n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Held-out organism questions (names never trained on): accuracy per role and document condition."""
    examples = sft_examples(n, seed, split="heldout")
    margins = yes_minus_no(model, [example_prompt(model.tokenizer, e)[0] for e in examples])
    answers = np.array([e.answer for e in examples])
    return pd.DataFrame({"role": [e.role for e in examples], "condition": [e.condition for e in examples],
                         "correct": (margins > 0) == answers})


@torch.inference_mode()
def perplexity(model: LoadedModel, texts: Sequence[str] = HELDOUT_PARAGRAPHS) -> float:
    """Token-level perplexity of ``texts`` (each its own sequence)."""
    total, count = 0.0, 0
    for text in texts:
        batch = tokenize(model.tokenizer, [text])
        ids = batch.input_ids.to(model.device)
        logits = model.model(input_ids=ids).logits[0, :-1].float()
        total += float(torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="sum"))
        count += ids.shape[1] - 1
    return float(np.exp(total / count))
