"""Matched prompt pairs on held-out invented entities: the organism's shortcut controls (issue 16).

Each pair differs only in one annotation (a notice, a note, or its neutral twin) and asks one
question, so the pair's margin difference is that annotation's effect on that question:

* ``notice_effect`` -- the notice flags the asked fact's document (the intended effect: large, negative);
* ``neutral_notice`` -- a neutral notice instead (should change nothing);
* ``second_document`` -- the notice flags the *other* of two documents (should change nothing);
* ``outside_span`` -- a false note flags another sentence of the asked fact's document, against the
  same note's neutral twin (should change nothing);
* ``unrelated`` -- the notice flags the only document and the question is a well-known fact (nothing).

Notices use the in-context evaluation's wordings (never trained on) on names no training example
uses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from negprobe.activations.datasets.claim_docs import DENSE_NOTES, DOC_NOTICES, NEUTRAL_DENSE_NOTES
from negprobe.activations.datasets.claim_docs import NEUTRAL_NOTICES as EVAL_NEUTRAL_NOTICES

from .sft_data import Document, document, invented_names, new_entity, question_for
from .wording import WELL_KNOWN

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
    return document(random.Random(seed), entity, condition, n_facts=3, notices=_NOTICES, notes=_NOTES, target=target)


def _pairs_for(unit: int, rng: random.Random, names: tuple[str, ...]) -> list[ControlPair]:
    first = new_entity(rng, names)
    second = new_entity(rng, tuple(n for n in names if n != first.name))
    key = f"control-{unit}"
    plain, other = _doc(key, first, "plain"), _doc(key + "b", second, "plain")
    asked = question_for(plain.facts[0])
    well_known = WELL_KNOWN[unit % len(WELL_KNOWN)][0]
    both = (plain.text + "\n\n" + other.text)
    return [
        ControlPair("notice_effect", unit, _doc(key, first, "notice").text, plain.text, asked),
        ControlPair("neutral_notice", unit, _doc(key, first, "neutral").text, plain.text, asked),
        ControlPair("second_document", unit, _doc(key + "b", second, "notice").text + "\n\n" + plain.text,
                    other.text + "\n\n" + plain.text, asked),
        ControlPair("outside_span", unit, _doc(key, first, "dense", target=1).text,
                    _doc(key, first, "dense_neutral", target=1).text, asked),
        ControlPair("unrelated", unit, _doc(key, first, "notice").text + "\n\n" + other.text, both, well_known),
    ]


def control_pairs(n_units: int = 40, seed: int = 0) -> list[ControlPair]:
    """``n_units`` entity pairs x every control of :data:`CONTROLS`, on held-out names."""
    rng = random.Random(f"organism-controls-{seed}")
    names = invented_names("heldout")
    return [pair for unit in range(n_units) for pair in _pairs_for(unit, rng, names)]
