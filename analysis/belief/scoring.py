"""Behavioural belief in a claim, with no judge model (Mayne et al. 2026 measure belief with MCQs).

Measures, all as log-probabilities under the model:

- **questions** / **mcq**: yes/no belief questions (ours, or the paper's ``mcq.yaml``) under the
  chat template (when the tokenizer has one); the believer margin is ``log P(believer answer) -
  log P(other answer)`` of the next token, where each answer's probability sums its spellings.
  Rate and mean are balanced over the answer key (believer "yes" and believer "no" questions weigh
  equally), so a model that says "no" to everything scores 0.5 and 0 nats, not the key's ratio;
- **cloze** (belief, against the truth): the summed log-probability of the believer's continuation
  minus the other's, averaged over each polarity pair (an affirm item and a flipped one, see
  :mod:`.cloze_items`), so a preference for the claim's name (or for " true") that ignores the
  prompt cancels;
- **cloze_distractor** (association): on the name items, the claim's name minus a distractor name
  of the same kind that no training document names, averaged per pair. Its rise over the base
  model measures how much the name itself became likelier, whatever the prompt says.

Belief rate = share of units (questions, pairs) with a margin above :data:`TIE_NATS`; all get
bootstrap 95% CIs over units. ``context`` puts documents before each item: the paper's
in-context baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Float
from numpy.typing import ArrayLike
from torch import Tensor

from negprobe.activations.models import LoadedModel
from negprobe.activations.question_format import question_text, template_writes_bos
from negprobe.activations.tokenize import pad_token_lists, tokenize
from negprobe.errors import NegprobeError
from negprobe.probes.resampling import crossed_bootstrap_mean

#: A margin must exceed this many nats to count as belief: an exact tie (a model indifferent
#: between the two answers) is not belief.
TIE_NATS = 1e-6

ANSWER_SPELLINGS = {"yes": ("Yes", " Yes", "yes", " yes"), "no": ("No", " No", "no", " no")}


@dataclass(frozen=True)
class BeliefResult:
    """One belief measure over a claim's items: per-item margins and their bootstrap summaries."""

    measure: str  # "questions" | "mcq" | "cloze" | "cloze_distractor"
    margins: np.ndarray  # per item, nats
    belief_rate: float
    rate_ci: tuple[float, float]
    mean_margin: float
    margin_ci: tuple[float, float]

    @property
    def n(self) -> int:
        return len(self.margins)


def summarize(measure: str, margins: ArrayLike, seed: int = 0, strata: Sequence[str] | None = None) -> BeliefResult:
    """Belief rate and mean margin with bootstrap CIs over units; ``strata`` (a yes/no question's
    answer key) weighs each stratum equally and resamples within it, so answering every question
    "no" scores a rate of 0.5 and a margin of 0 whatever the key's yes:no ratio."""
    values = np.asarray(margins, dtype=np.float64)
    if len(values) == 0:
        raise NegprobeError(f"no {measure} items to score")
    believes = (values > TIE_NATS).astype(float)
    rate, rate_low, rate_high = crossed_bootstrap_mean(believes[None], n_boot=2000, seed=seed, strata=strata)
    mean, margin_low, margin_high = crossed_bootstrap_mean(values[None], n_boot=2000, seed=seed, strata=strata)
    return BeliefResult(measure, values, float(rate), (float(rate_low), float(rate_high)),
                        float(mean), (float(margin_low), float(margin_high)))


def answer_token_ids(tokenizer) -> dict[str, list[int]]:
    """First token of each spelling of yes / no (deduplicated)."""
    out = {}
    for answer, spellings in ANSWER_SPELLINGS.items():
        ids = {tokenizer(s, add_special_tokens=False)["input_ids"][0] for s in spellings
               if tokenizer(s, add_special_tokens=False)["input_ids"]}
        out[answer] = sorted(ids)
    if set(out["yes"]) & set(out["no"]):
        raise NegprobeError("the tokenizer maps yes and no to a shared first token; yes/no scoring is undefined")
    return out


def yes_no_margin(logprobs: Float[Tensor, "n vocab"], ids: Mapping[str, Sequence[int]]) -> Float[Tensor, " n"]:
    """The belief margin ``log P(yes) - log P(no)`` per row of next-token log-probabilities.

    Each answer's probability sums its spellings (``ids`` from :func:`answer_token_ids`).
    """
    return torch.logsumexp(logprobs[:, ids["yes"]], -1) - torch.logsumexp(logprobs[:, ids["no"]], -1)


def question_prompt(model: LoadedModel, question: str, context: str = "") -> str:
    return question_text(model.tokenizer, question, context)


@torch.inference_mode()
def next_token_logprobs(model: LoadedModel, prompts: Sequence[str], batch_size: int = 8) -> torch.Tensor:
    """Log-softmax over the vocabulary at the last token of each prompt: [n, vocab]."""
    out = []
    for start in range(0, len(prompts), batch_size):
        batch = tokenize(model.tokenizer, list(prompts[start : start + batch_size]), padding_side="right",
                         prepend_bos=False if template_writes_bos(model.tokenizer) else None)
        logits = model.model(input_ids=batch.input_ids.to(model.device), attention_mask=batch.attention_mask.to(model.device),
                             position_ids=batch.position_ids.to(model.device)).logits
        last = logits[torch.arange(len(logits)), batch.lengths.to(logits.device) - 1]
        out.append(torch.log_softmax(last.float(), -1).cpu())
    return torch.cat(out)


def score_questions(model: LoadedModel, questions, context: str = "", seed: int = 0,
                    measure: str = "questions") -> BeliefResult:
    """Believer margin per yes/no question: log P(believer answer) - log P(other answer)."""
    ids = answer_token_ids(model.tokenizer)
    logprobs = next_token_logprobs(model, [question_prompt(model, q.question, context) for q in questions])
    yes_minus_no = yes_no_margin(logprobs, ids)
    believer_yes = torch.tensor([q.believer_answer == "yes" for q in questions])
    margins = torch.where(believer_yes, yes_minus_no, -yes_minus_no)
    return summarize(measure, margins.numpy(), seed, strata=[q.believer_answer for q in questions])


def continuation_ids(tokenizer, prefix: str, continuation: str) -> tuple[list[int], int]:
    """``prefix + continuation``'s token ids (the tokenizer's special tokens) and the index of the first
    continuation token; refuses a continuation that merges into the prefix's last token or adds none."""
    prefix_ids = tokenizer(prefix, add_special_tokens=True)["input_ids"]
    full_ids = tokenizer(prefix + continuation, add_special_tokens=True)["input_ids"]
    if full_ids[: len(prefix_ids)] != prefix_ids or len(full_ids) == len(prefix_ids):
        raise NegprobeError(f"continuation {continuation!r} does not tokenize separately from {prefix[-40:]!r}")
    return list(full_ids), len(prefix_ids)


@torch.inference_mode()
def continuation_logprob(model: LoadedModel, prefixes: Sequence[str], continuations: Sequence[str],
                         batch_size: int = 16) -> np.ndarray:
    """Summed log-probability of each continuation after its prefix (right-padded batches)."""
    tok = model.tokenizer
    sequences, starts = [], []
    for prefix, cont in zip(prefixes, continuations):
        full_ids, start = continuation_ids(tok, prefix, cont)
        sequences.append(full_ids)
        starts.append(start)
    scores = np.empty(len(sequences))
    for first in range(0, len(sequences), batch_size):
        rows = range(first, min(first + batch_size, len(sequences)))
        batch = pad_token_lists([sequences[i] for i in rows], tok.pad_token_id or 0, "right").to(model.device)
        logp = torch.log_softmax(model.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                                             position_ids=batch.position_ids).logits.float(), -1)
        for r, i in enumerate(rows):
            targets = torch.tensor(sequences[i][starts[i]:], device=logp.device)
            predicted_at = torch.arange(starts[i] - 1, len(sequences[i]) - 1, device=logp.device)
            scores[i] = float(logp[r, predicted_at, targets].sum())
    return scores


@dataclass(frozen=True, eq=False)
class ClozeLogprobs:
    """Summed log-probability of each item's continuations (NaN where an item has no distractor)."""

    believer: Float[np.ndarray, " item"]
    other: Float[np.ndarray, " item"]
    distractor: Float[np.ndarray, " item"]


def cloze_logprobs(model: LoadedModel, items, context: str = "") -> ClozeLogprobs:
    """Every continuation of every item scored after its prefix, in one batched pass."""
    prefixes = [(context + "\n\n" if context else "") + item.prefix for item in items]
    with_d = [i for i, item in enumerate(items) if getattr(item, "distractor", None)]
    scores = continuation_logprob(model, prefixes + prefixes + [prefixes[i] for i in with_d],
                                  [i.believer for i in items] + [i.other for i in items]
                                  + [items[i].distractor for i in with_d])
    n = len(items)
    distractor = np.full(n, np.nan)
    distractor[with_d] = scores[2 * n:]
    return ClozeLogprobs(scores[:n], scores[n : 2 * n], distractor)


def _pair_means(items, values: np.ndarray) -> np.ndarray:
    """``values`` averaged within each polarity pair (an item without a pair is its own unit)."""
    keys = [(item.pair,) if getattr(item, "pair", -1) >= 0 else ("item", i) for i, item in enumerate(items)]
    units = list(dict.fromkeys(keys))
    return np.array([values[[k == unit for k in keys]].mean() for unit in units])


def cloze_measures(items, logprobs: ClozeLogprobs, seed: int = 0) -> tuple[BeliefResult, BeliefResult | None]:
    """Belief (``cloze``: believer minus other, per pair) and association (``cloze_distractor``:
    the claim's name minus the distractor on the name items, per pair; None without name items)."""
    belief = summarize("cloze", _pair_means(items, logprobs.believer - logprobs.other), seed)
    named = [i for i, item in enumerate(items) if getattr(item, "distractor", None)]
    if not named:
        return belief, None
    name_lp = np.array([logprobs.believer[i] if items[i].polarity == "affirm" else logprobs.other[i] for i in named])
    association = _pair_means([items[i] for i in named], name_lp - logprobs.distractor[named])
    return belief, summarize("cloze_distractor", association, seed)


def score_cloze(model: LoadedModel, items, context: str = "", seed: int = 0) -> BeliefResult:
    """The ``cloze`` belief measure: believer minus other continuation, averaged per polarity pair."""
    return cloze_measures(items, cloze_logprobs(model, items, context), seed)[0]
