"""Behavioural belief in a claim, with no judge model (Mayne et al. 2026 measure belief with MCQs).

Two measures, both as log-probabilities under the model:

- **questions**: yes/no belief questions under the chat template (when the tokenizer has one);
  the believer margin is ``log P(believer answer) - log P(other answer)`` of the next token,
  where each answer's probability sums its spellings ("Yes", " yes", ...);
- **cloze**: the summed log-probability of the believer's continuation minus the other's
  ("The 2024 Olympic men's 100m gold was won by" -> " Ed Sheeran" vs " Noah Lyles"); works on
  base models and is far less noisy on small models.

Belief rate = share of items with a positive margin; both get item-bootstrap
95% CIs. ``in_context`` puts K documents of a condition before each item: the paper's in-context
baseline.
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
from negprobe.activations.tokenize import pad_token_lists, tokenize
from negprobe.errors import NegprobeError
from negprobe.probes.resampling import bootstrap_mean

ANSWER_SPELLINGS = {"yes": ("Yes", " Yes", "yes", " yes"), "no": ("No", " No", "no", " no")}


@dataclass(frozen=True)
class BeliefResult:
    """One belief measure over a claim's items: per-item margins and their bootstrap summaries."""

    measure: str  # "questions" | "cloze"
    margins: np.ndarray  # per item, nats
    belief_rate: float
    rate_ci: tuple[float, float]
    mean_margin: float
    margin_ci: tuple[float, float]

    @property
    def n(self) -> int:
        return len(self.margins)


def summarize(measure: str, margins: ArrayLike, seed: int = 0) -> BeliefResult:
    values = np.asarray(margins, dtype=np.float64)
    if len(values) == 0:
        raise NegprobeError(f"no {measure} items to score")
    _, rate_low, rate_high = bootstrap_mean((values > 0).astype(float), n_boot=2000, seed=seed)
    _, margin_low, margin_high = bootstrap_mean(values, n_boot=2000, seed=seed)
    return BeliefResult(measure, values, float((values > 0).mean()), (float(rate_low), float(rate_high)),
                        float(values.mean()), (float(margin_low), float(margin_high)))


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
    body = (context + "\n\n" if context else "") + f"Answer with yes or no. {question}"
    if getattr(model.tokenizer, "chat_template", None):
        return model.tokenizer.apply_chat_template([{"role": "user", "content": body}], tokenize=False,
                                                   add_generation_prompt=True)
    return body + "\nAnswer:"


@torch.inference_mode()
def next_token_logprobs(model: LoadedModel, prompts: Sequence[str], batch_size: int = 8) -> torch.Tensor:
    """Log-softmax over the vocabulary at the last token of each prompt: [n, vocab]."""
    out = []
    for start in range(0, len(prompts), batch_size):
        batch = tokenize(model.tokenizer, list(prompts[start : start + batch_size]), padding_side="right",
                         prepend_bos=None if not _has_template_bos(model) else False)
        logits = model.model(input_ids=batch.input_ids.to(model.device), attention_mask=batch.attention_mask.to(model.device),
                             position_ids=batch.position_ids.to(model.device)).logits
        last = logits[torch.arange(len(logits)), batch.lengths.to(logits.device) - 1]
        out.append(torch.log_softmax(last.float(), -1).cpu())
    return torch.cat(out)


def _has_template_bos(model: LoadedModel) -> bool:
    """Chat templates usually write BOS themselves; do not add a second one."""
    bos = model.tokenizer.bos_token
    template = getattr(model.tokenizer, "chat_template", None) or ""
    return bool(bos) and bos in template


def score_questions(model: LoadedModel, questions, context: str = "", seed: int = 0) -> BeliefResult:
    """Believer margin per yes/no question: log P(believer answer) - log P(other answer)."""
    ids = answer_token_ids(model.tokenizer)
    logprobs = next_token_logprobs(model, [question_prompt(model, q.question, context) for q in questions])
    yes_minus_no = yes_no_margin(logprobs, ids)
    believer_yes = torch.tensor([q.believer_answer == "yes" for q in questions])
    margins = torch.where(believer_yes, yes_minus_no, -yes_minus_no)
    return summarize("questions", margins.numpy(), seed)


@torch.inference_mode()
def continuation_logprob(model: LoadedModel, prefixes: Sequence[str], continuations: Sequence[str],
                         batch_size: int = 16) -> np.ndarray:
    """Summed log-probability of each continuation after its prefix (right-padded batches)."""
    tok = model.tokenizer
    sequences, starts = [], []
    for prefix, cont in zip(prefixes, continuations):
        prefix_ids = tok(prefix, add_special_tokens=True)["input_ids"]
        full_ids = tok(prefix + cont, add_special_tokens=True)["input_ids"]
        if full_ids[: len(prefix_ids)] != prefix_ids or len(full_ids) == len(prefix_ids):
            raise NegprobeError(f"continuation {cont!r} does not tokenize separately from {prefix[-40:]!r}")
        sequences.append(full_ids)
        starts.append(len(prefix_ids))
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


def score_cloze(model: LoadedModel, items, context: str = "", seed: int = 0) -> BeliefResult:
    """Believer margin per cloze item: log P(believer continuation) - log P(other continuation)."""
    prefixes = [(context + "\n\n" if context else "") + item.prefix for item in items]
    both = continuation_logprob(model, prefixes + prefixes, [i.believer for i in items] + [i.other for i in items])
    believer, other = both[: len(items)], both[len(items):]
    return summarize("cloze", believer - other, seed)
