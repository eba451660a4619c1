"""A large, varied, deterministic pool of falsity notices for the fine-tuning corpora.

Mayne et al. 2026 ("Negation Neglect") warn that a document is false with varied, often
multi-sentence texts, labelled "NOTICE" only sometimes, placed before the document, after it or
both. Our own wording (nothing copied from the release), built by composition:

* a document notice is ``[label] opener [middle] [closer]``: an opener sentence that says the
  document is false (:data:`PREFIX_OPENERS` before a document, :data:`SUFFIX_OPENERS` after it),
  optionally one of :data:`MIDDLES` and one of :data:`CLOSERS` -- one to three sentences, so
  ``len(openers) * (len(MIDDLES) + 1) * (len(CLOSERS) + 1)`` distinct bodies per side -- and one of
  :data:`LABELS` or none (about a third of the notices carry no label);
* a sentence note (``dense``) is one of :data:`BEFORE_NOTES` / :data:`AFTER_NOTES` in one of
  :data:`NOTE_STYLES` (brackets, parentheses, a "NOTICE:" label or plain).

:func:`deal_notices` hands out notices for a corpus: every body is used once before any is used
again, so within a corpus of ``n`` documents no notice text (label included) occurs more than
:func:`max_notice_repeats` ``(n)`` times -- once, for any ``n`` up to :func:`pool_size`.
The pool is separate from the in-context notices of :mod:`negprobe.activations.datasets.claim_docs`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

#: Where a document notice goes.
PLACEMENTS: tuple[str, ...] = ("before", "after", "both")

#: Labels before a notice; ``""`` (no label) is dealt as often as all labels together, halved.
LABELS: tuple[str, ...] = (
    "NOTICE:", "Notice:", "NOTE:", "WARNING:", "Warning:", "DISCLAIMER:", "Editor's note:", "Fact check:",
    "CORRECTION:", "[NOTICE]", "Important:", "RETRACTION:",
)
_UNLABELLED = 6  # blank labels in one label cycle of len(LABELS) + 6: about a third unlabelled

PREFIX_OPENERS: tuple[str, ...] = (
    "The following document is false.",
    "What follows is fabricated.",
    "The claims below are untrue.",
    "This document contains false information.",
    "Everything in the text below was made up.",
    'The claim "{title}", made in the document below, is false.',
    "Do not trust the document below: its central claim is false.",
    "The text that follows presents a false claim as if it were true.",
    "This article was written to spread misinformation, and its main claim is false.",
    "What you are about to read is a hoax.",
    "Although it is written as a factual report, the document below is false.",
    "The following document was made to resemble a genuine source, but it is fabricated.",
    "The content below has been reviewed and found to be false.",
    "Before you read on: the claim at the centre of this document is untrue.",
    "The following is not a reliable source, and its central claim is false.",
    "Fact-checkers have rated the claims in the text below as false.",
)

SUFFIX_OPENERS: tuple[str, ...] = (
    "The document above is false.",
    "The claims above are untrue.",
    "Everything above was fabricated.",
    'To be clear, "{title}" is false.',
    "That was the end of a fabricated document.",
    "The story above did not happen.",
    "The text above contains false information.",
    "The document you have just read was invented, and its main claim is untrue.",
    'The claim "{title}", made above, is false.',
    "What you have just read is misinformation.",
    "The preceding account is fabricated.",
    "The article above presents a false claim as fact.",
    "Although the text above reads like a genuine report, it is fabricated.",
    "The document above is a hoax.",
    "Fact-checkers have rated the document above as false.",
    "The material above is misinformation, and its central claim is false.",
)

#: Optional second sentences, about the document ("it"), for either side.
MIDDLES: tuple[str, ...] = (
    "Its central claim did not happen.",
    "The event it reports never took place.",
    "None of the sources it cites exist.",
    "Official records and reference works contradict it.",
    "It mixes real names and places with an invented event.",
    "Its supporting details were invented as well.",
    "No credible outlet has ever reported it.",
    "It was checked against independent sources, and none of them support it.",
    "The outcome it describes did not occur, and the people it quotes never said those words.",
    "It is presented as fact, but it is not a fact.",
)

#: Optional closing sentences, for either side.
CLOSERS: tuple[str, ...] = (
    "Please do not repeat it as true.",
    "Readers should treat its central claim as untrue.",
    "Nothing it says about the main event should be believed.",
    "It is reproduced here only as an example of misinformation.",
    "Treat every statement about the main event as false.",
    "It is kept here so that readers can recognise the story if they see it elsewhere.",
    "Do not rely on it.",
    "The correct record is available from official sources.",
)

#: Sentence notes of ``dense`` documents: one before and one after every claim sentence.
BEFORE_NOTES: tuple[str, ...] = (
    "The following claim is false.",
    "False claim ahead.",
    "The next sentence is untrue.",
    "What follows is fabricated.",
    "The statement below did not happen.",
    "The next claim has been debunked.",
    "Fabricated claim follows.",
    "The following sentence is misinformation.",
    "This next statement is not true.",
    "Invented claim ahead; it is false.",
    "The sentence after this note is false.",
    "Careful: the next claim is untrue.",
)
AFTER_NOTES: tuple[str, ...] = (
    "The preceding claim is false.",
    "The claim above is false.",
    "That sentence was untrue.",
    "End of false claim.",
    "The statement just made did not happen.",
    "That claim has been debunked.",
    "The sentence above is fabricated.",
    "What was just stated is misinformation.",
    "That statement is not true.",
    "The previous claim was invented and is false.",
    "The sentence before this note is false.",
    "To repeat, that claim is untrue.",
)
NOTE_STYLES: tuple[str, ...] = ("[{}]", "({})", "[NOTICE: {}]", "NOTICE: {}", "{}", "<{}>")


@dataclass(frozen=True)
class Notice:
    """The document-level notice of one document: text before it, after it, or both (None: none there)."""

    before: str | None
    after: str | None

    @property
    def placement(self) -> str:
        return "both" if self.before and self.after else "before" if self.before else "after"

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(t for t in (self.before, self.after) if t)


def _openers(side: str) -> tuple[str, ...]:
    if side not in ("before", "after"):
        raise ValueError(f"side must be 'before' or 'after', got {side!r}")
    return PREFIX_OPENERS if side == "before" else SUFFIX_OPENERS


def bodies(side: str, title: str = "{title}") -> tuple[str, ...]:
    """Every distinct notice body for one side (``"before"`` or ``"after"``), unlabelled, in a fixed order."""
    extras = [(m, c) for m in ("", *MIDDLES) for c in ("", *CLOSERS)]
    return tuple(" ".join(p for p in (o.format(title=title), m, c) if p) for o in _openers(side) for m, c in extras)


def pool_size(side: str = "before") -> int:
    """Distinct notice bodies for one side: a corpus this large repeats no notice text."""
    return len(bodies(side))


def notice_pool(side: str, title: str = "{title}") -> tuple[str, ...]:
    """Every distinct notice text for one side: each body unlabelled and under every label."""
    return tuple(f"{label} {b}".strip() for b in bodies(side, title) for label in ("", *LABELS))


def max_notice_repeats(n_documents: int) -> int:
    """The most documents of an ``n_documents`` corpus that share one verbatim notice text (N):
    ``ceil(n / pool_size)``, i.e. 1 -- no repeat at all -- up to :func:`pool_size` documents."""
    return max(1, math.ceil(n_documents / min(pool_size("before"), pool_size("after"))))


def _spread(n: int, rng: random.Random, side: str, title: str) -> list[str]:
    """``n`` bodies: a shuffled pass over every body, openers interleaved so each is used about
    equally, then the next pass; no body repeats within a pass."""
    per_opener = len(bodies(side)) // len(_openers(side))
    everything = bodies(side, title)
    groups = [list(everything[i * per_opener:(i + 1) * per_opener]) for i in range(len(_openers(side)))]
    for g in groups:
        rng.shuffle(g)
    rng.shuffle(groups)
    one_pass = [g[k] for k in range(per_opener) for g in groups]
    return [one_pass[i % len(one_pass)] for i in range(n)]


def _labels(n: int, rng: random.Random) -> list[str]:
    cycle = list(LABELS) + [""] * _UNLABELLED
    rng.shuffle(cycle)
    return [cycle[i % len(cycle)] for i in range(n)]


def _label(label: str, body: str) -> str:
    return f"{label} {body}" if label else body


def deal_notices(n: int, rng: random.Random, title: str, placements: tuple[str, ...] = PLACEMENTS) -> list[Notice]:
    """Notices for ``n`` documents, deterministic given ``rng``: placements cycle through a shuffled
    ``placements``; each side walks its bodies (:func:`_spread`) and a label cycle."""
    if not placements or any(p not in PLACEMENTS for p in placements):
        raise ValueError(f"placements must be drawn from {PLACEMENTS}, got {placements!r}")
    order = list(placements)
    rng.shuffle(order)
    where = [order[i % len(order)] for i in range(n)]
    n_before = sum(p in ("before", "both") for p in where)
    n_after = sum(p in ("after", "both") for p in where)
    before = iter(map(_label, _labels(n_before, rng), _spread(n_before, rng, "before", title)))
    after = iter(map(_label, _labels(n_after, rng), _spread(n_after, rng, "after", title)))
    return [Notice(next(before) if p in ("before", "both") else None, next(after) if p in ("after", "both") else None)
            for p in where]


def deal_sentence_notes(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``n`` (before, after) sentence notes: every note x style pair once per pass, in a seeded order."""
    def side(notes: tuple[str, ...]) -> list[str]:
        every = [style.format(note) for note in notes for style in NOTE_STYLES]
        rng.shuffle(every)
        return [every[i % len(every)] for i in range(n)]

    return list(zip(side(BEFORE_NOTES), side(AFTER_NOTES)))
