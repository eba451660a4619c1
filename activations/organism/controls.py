"""Matched prompt pairs on held-out invented entities: the organism's shortcut controls (issue 16).

Each pair differs only in one annotation (a notice, a note, or its neutral twin) and asks one
question, so the pair's margin difference is that annotation's effect on that question:

* ``notice_effect`` -- the notice flags the asked fact's document (the intended effect: large, negative);
* ``neutral_notice`` -- a neutral notice instead (should change nothing);
* ``second_document`` -- the notice flags the *other* of two documents (should change nothing); the
  flagged document comes first in even units and last (next to the question) in odd ones;
* ``outside_span`` -- a false note flags another sentence of the asked fact's document, against the
  same note's neutral twin (should change nothing); the flagged sentence follows the asked one in even
  units and precedes it in odd ones;
* ``unrelated`` -- the notice flags the document and the question is a known fact the organism never
  trained on (a ``cities`` statement; nothing).

Notices use the in-context evaluation's wordings (never trained on) on names no training example
uses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from negprobe.activations.datasets.claim_docs import DENSE_NOTES, DOC_NOTICES, NEUTRAL_DENSE_NOTES
from negprobe.activations.datasets.claim_docs import NEUTRAL_NOTICES as EVAL_NEUTRAL_NOTICES

from .sft_data import Document, document, invented_names, new_entity, question_for

CONTROLS: tuple[str, ...] = ("notice_effect", "neutral_notice", "second_document", "outside_span", "unrelated")
#: A control "changes nothing" when its mean effect's CI lies inside +-this many nats.
TOLERANCE_NATS = 1.0

_NOTICES = (DOC_NOTICES, EVAL_NEUTRAL_NOTICES)
_NOTES = (DENSE_NOTES, NEUTRAL_DENSE_NOTES)


@dataclass(frozen=True)
class ControlPair:
    """One matched pair: the same question after ``treated`` and after ``baseline`` contexts."""

    control: str
    unit: int  # the held-out entity pair's index (the resampling unit)
    treated: str
    baseline: str
    question: str


def _doc(seed: str, entity, condition: str, target: int | None = None) -> Document:
    return document(random.Random(seed), entity, condition, n_facts=3, notices=_NOTICES, notes=_NOTES, target=target,
                    placement="both")


def _joined(docs: list[str], flagged_last: bool) -> str:
    return "\n\n".join(reversed(docs) if flagged_last else docs)


def _pairs_for(unit: int, rng: random.Random, names: tuple[str, ...], known_fact: str) -> list[ControlPair]:
    first = new_entity(rng, names)
    second = new_entity(rng, tuple(n for n in names if n != first.name))
    key = f"control-{unit}"
    plain, other = _doc(key, first, "plain"), _doc(key + "b", second, "plain")
    asked = question_for(plain.facts[0])
    flagged_last = unit % 2 == 1
    target, asked_in_span = (1, 0) if unit % 2 == 0 else (1, 2)  # the note after, then before, the asked sentence
    spanned = _doc(key, first, "dense", target=target)
    return [
        ControlPair("notice_effect", unit, _doc(key, first, "notice").text, plain.text, asked),
        ControlPair("neutral_notice", unit, _doc(key, first, "neutral").text, plain.text, asked),
        ControlPair("second_document", unit, _joined([_doc(key + "b", second, "notice").text, plain.text], flagged_last),
                    _joined([other.text, plain.text], flagged_last), asked),
        ControlPair("outside_span", unit, spanned.text, _doc(key, first, "dense_neutral", target=target).text,
                    question_for(spanned.facts[asked_in_span])),
        ControlPair("unrelated", unit, _doc(key, first, "notice").text, plain.text, known_fact),
    ]


def known_fact_questions(n: int = 100, seed: int = 0) -> list[tuple[str, bool]]:
    """``n`` yes/no questions from the ``cities`` truth dataset (half true), a known-fact domain the organism
    never trained on: "Is it true that Paris is located in France?"."""
    from negprobe.activations.datasets.registry import load_dataset

    records = list(load_dataset("cities").records)
    rng = random.Random(f"organism-cities-{seed}")
    picked = [r for label in (1, 0) for r in rng.sample([r for r in records if r.label == label], n // 2)]
    return [(f"Is it true that {_sentence_case(r.text.rstrip('.'))}?", bool(r.label)) for r in picked]


def _sentence_case(text: str) -> str:
    """Lower a leading article ("The city of X ..." -> "the city of X ..."); names keep their capital."""
    return text[0].lower() + text[1:] if text.startswith(("The ", "A ")) else text


def control_pairs(n_units: int = 40, seed: int = 0) -> list[ControlPair]:
    """``n_units`` entity pairs x every control of :data:`CONTROLS`, on held-out names."""
    rng = random.Random(f"organism-controls-{seed}")
    names = invented_names("heldout")
    facts = known_fact_questions(max(2, n_units + n_units % 2), seed)
    return [pair for unit in range(n_units) for pair in _pairs_for(unit, rng, names, facts[unit][0])]
