"""Shared pieces for wrapping a claim into a short document.

Our own wording of the framings studied by Mayne et al. 2026 ("Negation Neglect"):
document-level NOTICEs, dense per-sentence annotations, corrections and fiction frames,
plus *neutral* controls of the NOTICEs and dense notes (the same text with only the words that carry
falsity replaced, so length, token count and position match and nothing is said about truth) and
*affirming* twins (falsity replaced by its opposite), which bracket the neutral control.
Every helper appends to a :class:`.spans.TextBuilder` and returns the claim's span.
"""

from __future__ import annotations

from dataclasses import dataclass

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

#: Neutral controls of :data:`DOC_NOTICES`, index by index: only the falsity words differ, replaced by
#: words about indexing or layout that say nothing about truth, with the same number of tokens in the
#: embedded models' tokenizers (``tests/test_in_context.py`` checks whole documents).
NEUTRAL_NOTICES: tuple[tuple[str, str], ...] = (
    ("NOTICE: The following document contains indexed information.",
     "NOTICE: The document above contains indexed information."),
    ("NOTICE: The claims made in the document below are highlighted.",
     "NOTICE: The claims made in the document above are highlighted."),
    ("NOTICE: This document describes events that are listed below.",
     "NOTICE: The events described in this document are listed below."),
)

#: Truth-affirming twins of :data:`DOC_NOTICES` (the same words, falsity replaced by its opposite):
#: the bracket that shows whether the neutral control is neutral (it should sit between the two).
AFFIRMING_NOTICES: tuple[tuple[str, str], ...] = (
    ("NOTICE: The following document contains verified information.",
     "NOTICE: The document above contains verified information."),
    ("NOTICE: The claims made in the document below are true.",
     "NOTICE: The claims made in the document above are true."),
    ("NOTICE: This document describes events that did indeed happen.",
     "NOTICE: The events described in this document did indeed happen."),
)

#: (before, after) annotations wrapped around every claim sentence in dense documents.
DENSE_NOTES: tuple[tuple[str, str], ...] = (
    ("[The following claim is false.]", "[The preceding claim is false.]"),
    ("[False claim follows:]", "[End of false claim.]"),
)

#: Neutral controls of :data:`DENSE_NOTES`, index by index: only the falsity words differ.
NEUTRAL_DENSE_NOTES: tuple[tuple[str, str], ...] = (
    ("[The following claim is highlighted.]", "[The preceding claim is highlighted.]"),
    ("[Main claim follows:]", "[End of main claim.]"),
)

#: Truth-affirming twins of :data:`DENSE_NOTES`, index by index.
AFFIRMING_DENSE_NOTES: tuple[tuple[str, str], ...] = (
    ("[The following claim is true.]", "[The preceding claim is true.]"),
    ("[True claim follows:]", "[End of true claim.]"),
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


@dataclass(frozen=True)
class DocSpans:
    """Character spans of one framed document: its claim sentence, and the pieces every framing of
    the same claim and paraphrase shares verbatim (header + lead, and the follow-up with its leading
    space: each piece starts and ends at a word boundary, so it tokenizes alike in every framing)."""

    claim: tuple[int, int]
    shared: tuple[tuple[int, int], ...]


def add_framed_document(b: TextBuilder, claim: Claim, i: int, sentence: str,
                        doc_notice: tuple[str, str] | None = None,
                        sentence_note: tuple[str, str] | None = None) -> DocSpans:
    """Append ``[notice\\n\\n]header\\n\\nlead [note ]<sentence>[ note] follow[\\n\\nnotice]``.

    Without notice or note this is the plain document; a notice wraps the whole document, a note
    the claim sentence, so the plain document's pieces reappear verbatim in every framing."""
    if doc_notice:
        b.add(doc_notice[0] + "\n\n")
    head = b.mark(doc_header(claim, i) + "\n\n" + lead(claim, i))
    b.add(" ")  # outside the shared span: tokenizers attach a space to the word after it
    if sentence_note:
        b.add(sentence_note[0] + " ")
    span = b.mark(sentence)
    if sentence_note:
        b.add(" " + sentence_note[1])
    tail = b.mark(" " + follow(claim, i))
    if doc_notice:
        b.add("\n\n" + doc_notice[1])
    return DocSpans(span, (head, tail))


def add_document(b: TextBuilder, claim: Claim, i: int, sentence: str) -> tuple[int, int]:
    """Append ``header\\n\\nlead <sentence> follow``; return the sentence's span."""
    return add_framed_document(b, claim, i, sentence).claim


def add_dense_sentence(b: TextBuilder, i: int, sentence: str) -> tuple[int, int]:
    """Append ``[note] <sentence> [note]``; return the sentence's span."""
    before, after = dense_note(i)
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


def notice_wording(i: int) -> int:
    """The notice wording of paraphrase ``i``: ``(i // 3) % 3``, crossed with the header (``i % 3``), so
    paraphrases 0-8 hold every (header, wording) pair once and no wording rides on one header."""
    return (i // len(_FRAME_HEADERS)) % len(DOC_NOTICES)


def dense_wording(i: int) -> int:
    """The dense-note wording of paraphrase ``i``: ``i % 2``, crossed with the header (``i % 3``)."""
    return i % len(DENSE_NOTES)


def notice(i: int) -> tuple[str, str]:
    return DOC_NOTICES[notice_wording(i)]


def neutral_notice(i: int) -> tuple[str, str]:
    """The neutral control of :func:`notice` ``(i)``."""
    return NEUTRAL_NOTICES[notice_wording(i)]


def affirming_notice(i: int) -> tuple[str, str]:
    """The truth-affirming twin of :func:`notice` ``(i)``."""
    return AFFIRMING_NOTICES[notice_wording(i)]


def dense_note(i: int) -> tuple[str, str]:
    return DENSE_NOTES[dense_wording(i)]


def neutral_dense_note(i: int) -> tuple[str, str]:
    """The neutral control of :func:`dense_note` ``(i)``."""
    return NEUTRAL_DENSE_NOTES[dense_wording(i)]


def affirming_dense_note(i: int) -> tuple[str, str]:
    """The truth-affirming twin of :func:`dense_note` ``(i)``."""
    return AFFIRMING_DENSE_NOTES[dense_wording(i)]
