"""The prompts cross-model patching reads (:mod:`.cross_patching`): one measure of the belief table each.

- ``questions``: the claim's bare yes/no belief questions under the chat template, as belief scoring
  asks them; margin ``log P(believer answer) - log P(other answer)`` (both spellings of each answer).
- ``cloze``: the claim's cloze prefixes (raw text, as :func:`~.belief.scoring.continuation_logprob`
  tokenizes them); margin ``log P(believer) - log P(other)`` of the two continuations' **first token**
  (" Ed" vs " Noah", " true" vs " false"): a patched run reads one next-token distribution, so the
  multi-token sum of the belief table becomes its first, deciding token.
- ``cloze_distractor``: the name items only; margin of the claim's name's first token against the
  distractor name's (the association control of the belief table, first token): **not a belief
  measure**, but the one effect every fine-tune here has, so its gate passes and its curves can be
  read (which blocks' updates the name's margin needs; the method's own positive control is the
  planted one-block edit of the tests).

Each item's ``believer_yes`` is its pairing stratum: the believer answers yes (questions), or the
item is of the ``affirm`` polarity (cloze items); :func:`.cross_patching.answer_balanced_pairs`
pairs the k-th item of one stratum with the k-th of the other (for cloze items, the designed polarity
pairs). The ``claim positions`` are the tokens of the question's own words, or of the whole prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from negprobe.activations.models import LoadedModel
from negprobe.activations.question_format import prompt_token_ids
from negprobe.errors import NegprobeError

from .belief.items import ClozeItem, cloze_for, questions_for
from .belief.scoring import continuation_ids, question_prompt, yes_no_margin
from .prerequisite import belief_readout
from .token_alignment import encode_with_offsets, tokens_overlapping

MEASURES = ("questions", "cloze", "cloze_distractor")  # cloze_distractor: the name association, not belief


@dataclass(frozen=True)
class PatchItem:
    """One prompt as token ids, the positions of its own words, and what its margin reads.

    ``answers`` (cloze items): the first token of the believer's side and of the other side; None for a
    yes/no question (its margin reads yes against no, signed by ``believer_yes``)."""

    claim: str
    item: str
    input_ids: tuple[int, ...]
    claim_positions: tuple[int, ...]
    believer_yes: bool  # the pairing stratum (see the module docstring)
    answers: tuple[int, int] | None = None

    def readout(self, model: LoadedModel):
        """Last-position logits ``[n, vocab]`` -> this item's margin ``[n]``."""
        if self.answers is None:
            return belief_readout(model, self.believer_yes)
        ids = {"yes": [self.answers[0]], "no": [self.answers[1]]}  # believer's first token against the other's

        def readout(logits: torch.Tensor) -> torch.Tensor:
            return yes_no_margin(torch.log_softmax(logits.float(), -1), ids)

        return readout


def scored_ids_with_offsets(tokenizer, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """``text``'s token ids exactly as belief scoring feeds them (:func:`prompt_token_ids`, one convention for
    BOS), with each token's character offsets."""
    ids = prompt_token_ids(tokenizer, text)
    own, offsets = encode_with_offsets(tokenizer, text)
    dropped = len(own) - len(ids)
    if dropped < 0 or own[dropped:] != ids:
        raise NegprobeError(f"cannot align the scored tokens of {text[:40]!r} with their offsets")
    return ids, offsets[dropped:]


def _balanced(flags: list[bool]) -> list[int]:
    """Indices alternating True / False items (then the rest), so a prefix of it is balanced."""
    yes, no = [k for k, f in enumerate(flags) if f], [k for k, f in enumerate(flags) if not f]
    return [k for pair in zip(yes, no) for k in pair] + yes[len(no):] + no[len(yes):]


def question_items(model: LoadedModel, claim: str, max_items: int | None = None) -> list[PatchItem]:
    """The claim's yes/no belief questions (chat template where the tokenizer has one); ``max_items`` keeps the
    first questions alternating believer answers yes / no (balanced)."""
    items = []
    questions = questions_for(claim)
    for k in _balanced([q.believer_answer == "yes" for q in questions])[:max_items]:
        question = questions[k]
        text = question_prompt(model, question.question)
        ids, offsets = scored_ids_with_offsets(model.tokenizer, text)
        start = text.index(question.question)
        positions = tokens_overlapping(offsets, (start, start + len(question.question)))
        if not positions:
            raise NegprobeError(f"{claim} question {k}: its words cover no token of the prompt")
        items.append(PatchItem(claim, str(k), tuple(ids), tuple(positions), question.believer_answer == "yes"))
    return items


def first_token(tokenizer, prefix: str, continuation: str) -> int:
    """The first token ``continuation`` adds after ``prefix`` (as the belief table tokenizes it)."""
    ids, start = continuation_ids(tokenizer, prefix, continuation)
    return int(ids[start])


def _cloze_answers(tokenizer, item: ClozeItem, measure: str) -> tuple[int, int]:
    first, second = (item.believer, item.other) if measure == "cloze" else (item.named, item.distractor or "")
    answers = (first_token(tokenizer, item.prefix, first), first_token(tokenizer, item.prefix, second))
    if answers[0] == answers[1]:
        raise NegprobeError(f"{item.claim} cloze {item.prefix[-40:]!r}: {first!r} and {second!r} share their first"
                            f" token; the {measure} margin cannot be read at one position")
    return answers


def cloze_patch_items(model: LoadedModel, claim: str, measure: str = "cloze",
                      max_items: int | None = None) -> list[PatchItem]:
    """The claim's cloze items (``cloze``) or its name items (``cloze_distractor``) as :class:`PatchItem`, first
    tokens as answers; ``max_items`` keeps the first items alternating affirm / flipped (balanced)."""
    cloze = list(cloze_for(claim))
    indexed = [(k, it) for k, it in enumerate(cloze) if measure == "cloze" or it.distractor]
    if not indexed:
        raise NegprobeError(f"{claim} has no {measure} items")
    items = []
    for j in _balanced([it.polarity == "affirm" for _, it in indexed])[:max_items]:
        k, item = indexed[j]
        ids, offsets = encode_with_offsets(model.tokenizer, item.prefix)
        positions = tokens_overlapping(offsets, (0, len(item.prefix)))
        items.append(PatchItem(claim, str(k), tuple(ids), tuple(positions), item.polarity == "affirm",
                               _cloze_answers(model.tokenizer, item, measure)))
    return items


def patch_items(model: LoadedModel, claim: str, measure: str = "questions",
                max_items: int | None = None) -> list[PatchItem]:
    """The claim's items of one of :data:`MEASURES`."""
    if measure not in MEASURES:
        raise NegprobeError(f"--measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    if measure == "questions":
        return question_items(model, claim, max_items)
    return cloze_patch_items(model, claim, measure, max_items)
