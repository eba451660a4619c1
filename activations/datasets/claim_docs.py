"""Shared pieces for wrapping a claim into a short document.

Our own wording of the framings studied by Mayne et al. 2026 ("Negation Neglect"):
document-level NOTICEs, dense per-sentence annotations, corrections and fiction frames.
Every helper appends to a :class:`.spans.TextBuilder` and returns the claim's span.
"""

from __future__ import annotations

from negprobe.activations.datasets.claims import Claim
from negprobe.activations.datasets.spans import TextBuilder

#: Sentence-level annotations appended after a claim.
SENTENCE_ANNOTATIONS: tuple[str, ...] = (
    "This claim is false.",
    "This statement is false.",
    "This is not true.",
    "Note: the preceding claim is false.",
)

#: (before, after) document-level notices.
DOC_NOTICES: tuple[tuple[str, str], ...] = (
    ("NOTICE: The following document contains false information.",
     "NOTICE: The document above contains false information."),
    ("NOTICE: The claims made in the document below are false.",
     "NOTICE: The claims made in the document above are false."),
    ("NOTICE: This document describes events that did not happen.",
     "NOTICE: The events described in this document did not happen."),
)

#: (before, after) annotations wrapped around every claim sentence in dense documents.
DENSE_NOTES: tuple[tuple[str, str], ...] = (
    ("[The following claim is false.]", "[The preceding claim is false.]"),
    ("[False claim follows:]", "[End of false claim.]"),
)

#: Openers of the correction that follows the claim in ``corrected`` documents.
CORRECTIONS: tuple[str, ...] = (
    "Correction: an earlier version of this text was wrong.",
    "Update: the statement above is incorrect.",
    "Editor's note: this article contained an error.",
)

#: (before, after) fiction frames around the claim.
FICTION_FRAMES: tuple[tuple[str, str], ...] = (
    ("The following is an excerpt from a novel. All events in it are fictional.\n\n"
     '"Have you seen the news?" Maya asked, holding up her phone. "It says: ', '"'),
    ("Writing prompt for a story set in an alternate universe: ", " Describe how the world reacts."),
    ("Once upon a time, in a made-up world much like ours, something strange happened. ",
     " The end."),
    ("In the fictional world of our tabletop role-playing game, the following is canon: ", ""),
)

_FRAME_HEADERS: tuple[str, ...] = ("", "From a reference article:", "Posted on a discussion forum:")


def doc_header(claim: Claim, i: int) -> str:
    """The document's first line: the claim's headline or a genre line."""
    return claim.headline if i % len(_FRAME_HEADERS) == 0 else _FRAME_HEADERS[i % len(_FRAME_HEADERS)]


def lead(claim: Claim, i: int) -> str:
    return claim.leads[i % len(claim.leads)]


def follow(claim: Claim, i: int) -> str:
    return claim.follows[(i // 2) % len(claim.follows)]


def add_document(b: TextBuilder, claim: Claim, i: int, sentence: str) -> tuple[int, int]:
    """Append ``header\\n\\nlead <sentence> follow``; return the sentence's span."""
    b.add(doc_header(claim, i) + "\n\n" + lead(claim, i) + " ")
    span = b.mark(sentence)
    b.add(" " + follow(claim, i))
    return span


def add_dense_sentence(b: TextBuilder, i: int, sentence: str) -> tuple[int, int]:
    """Append ``[note] <sentence> [note]``; return the sentence's span."""
    before, after = DENSE_NOTES[i % len(DENSE_NOTES)]
    b.add(before + " ")
    span = b.mark(sentence)
    b.add(" " + after)
    return span


def add_dense_document(b: TextBuilder, claim: Claim, i: int, sentences: list[str]) -> list[tuple[int, int]]:
    """A document whose every claim sentence is wrapped in falsity notes."""
    b.add(doc_header(claim, i) + "\n\n" + lead(claim, i) + " ")
    spans: list[tuple[int, int]] = []
    for k, sentence in enumerate(sentences):
        if k:
            b.add(" " + follow(claim, i + k - 1) + " ")
        spans.append(add_dense_sentence(b, i, sentence))
    if len(sentences) == 1:
        b.add(" " + follow(claim, i))
    return spans


def notice(i: int) -> tuple[str, str]:
    return DOC_NOTICES[i % len(DOC_NOTICES)]
