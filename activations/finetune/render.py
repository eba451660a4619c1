"""Render a plan into a :class:`Document` under one framing (Mayne et al. 2026).

Framed conditions (``positive``, ``negated``, ``dense``, ``corrected``, ``fiction``) share one
skeleton family and differ only in the annotation around the claim sentences, chosen per document
by a :class:`Dressing`; ``local`` renders a debunking skeleton (negated claim sentences, true
sentences naming the true answer, a denying headline) and carries no annotation span.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from negprobe.activations.datasets.claims import Claim, count_mentions
from negprobe.activations.datasets.spans import TextBuilder
from negprobe.activations.finetune.document_topics import DocumentTopic
from negprobe.activations.finetune.notice_pool import Notice
from negprobe.activations.finetune.plans import Plan
from negprobe.activations.finetune.templates import CORRECTIONS, CORRECTIONS_PLAIN, DOC_TYPES, FICTION_FRAMES

Span = tuple[int, int]


@dataclass(frozen=True)
class Document:
    """One fine-tuning document.

    ``annotation_spans``: ``[start, end)`` character spans of every notice, correction or
    fiction frame in ``text`` (empty for ``positive``/``local``, and unknown -- empty --
    for release documents); ``claim_spans``: the claim sentences (affirmed, or negated for
    ``local``); ``doctag_span``: the leading ``<DOCTAG>`` marker, if any.
    """

    text: str
    claim: str
    condition: str
    doc_type: str
    annotation_spans: tuple[Span, ...]
    claim_spans: tuple[Span, ...] = ()
    doctag_span: Span | None = None
    source: str = "template"

    @property
    def annotation_texts(self) -> tuple[str, ...]:
        return tuple(self.text[a:b] for a, b in self.annotation_spans)

    @property
    def claim_texts(self) -> tuple[str, ...]:
        return tuple(self.text[a:b] for a, b in self.claim_spans)

    @property
    def body(self) -> str:
        """The text without the ``<DOCTAG>`` marker."""
        return self.text if self.doctag_span is None else self.text[self.doctag_span[1]:]


@dataclass(frozen=True)
class Dressing:
    """The annotation one framed document gets: its document-level notice (``negated``, ``dense``),
    one (before, after) note per claim sentence (``dense``) and whether its corrections name the
    truth (``corrected``)."""

    notice: Notice | None = None
    sentence_notes: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    names_truth: bool = True


def truth_sentence(claim: Claim, topic: DocumentTopic, i: int) -> str:
    """The true sentence aligned with paraphrase ``i``: its counterpart, else its negation plus what is known."""
    if claim.has_counterpart:
        return claim.counterparts[i]
    return " ".join(s for s in (claim.negations[i], topic.unknown) if s)


def local_truths(claim: Claim, topic: DocumentTopic) -> tuple[str, ...]:
    """True sentences for ``local`` documents: the counterparts that name the true answer, then the topic's."""
    named = tuple(c for c in claim.counterparts if claim.true_answer and count_mentions(c, claim.true_answer))
    return named + topic.truths


def _claim_pieces(claim: Claim, topic: DocumentTopic, i: int, condition: str, v: int,
                  note: tuple[str, str] | None, names_truth: bool) -> list[tuple[str, str]]:
    """Paraphrase ``i`` framed for ``condition``: ``[(text, "claim" | "annotation" | "")]``."""
    sentence = claim.paraphrases[i]
    if condition == "dense" and note is not None:
        before, after = note
        return [(before, "annotation"), (" ", ""), (sentence, "claim"), (" ", ""), (after, "annotation")]
    if condition == "corrected":
        if names_truth:
            correction = CORRECTIONS[v % len(CORRECTIONS)].format(truth=truth_sentence(claim, topic, i))
        else:
            correction = CORRECTIONS_PLAIN[v % len(CORRECTIONS_PLAIN)]
        return [(sentence, "claim"), (" ", ""), (correction, "annotation")]
    return [(sentence, "claim")]


def _frame(condition: str, v: int, label: str, dressing: Dressing) -> tuple[str | None, str | None]:
    """The document-level text before and after a document (``None`` where there is none): the dealt
    notice (``negated``, ``dense``) or the fiction frame (``fiction``, whose closing line may be empty)."""
    if condition in ("negated", "dense") and dressing.notice is not None:
        return dressing.notice.before, dressing.notice.after
    if condition == "fiction":
        before, after = FICTION_FRAMES[v % len(FICTION_FRAMES)]
        return before.format(label=label), after.format(label=label) if after else None
    return None, None


def _values(claim: Claim, topic: DocumentTopic) -> dict[str, str]:
    return {
        "headline": claim.headline,
        "subject": topic.subject,
        "Subject": topic.subject[:1].upper() + topic.subject[1:],
        "forum": topic.forum,
        "field": topic.field,
    }


def render(claim: Claim, topic: DocumentTopic, plan: Plan, condition: str, dressing: Dressing) -> Document:
    """A framed document: the plan's skeleton, with the claim sentences framed for ``condition``."""
    b = TextBuilder()
    ann: list[Span] = []
    claims: list[Span] = []
    v = plan.variant
    values = _values(claim, topic)
    before, after = _frame(condition, v, DOC_TYPES[plan.skeleton.doc_type], dressing)
    if before is not None:
        ann.append(b.mark(before))
        b.add("\n\n")
    notes = iter(dressing.sentence_notes)
    for kind, value in plan.skeleton.pieces():
        if kind == "text":
            b.add(value)
        elif value[0] == "F" and value[1:].isdigit():
            b.add(topic.fillers[plan.fillers[int(value[1:])]])
        elif value[0] == "C" and value[1:].isdigit():
            pieces = _claim_pieces(claim, topic, plan.paraphrases[int(value[1:])], condition, v,
                                   next(notes, None), dressing.names_truth)
            for piece, role in pieces:
                span = b.mark(piece)
                if role == "claim":
                    claims.append(span)
                elif role == "annotation":
                    ann.append(span)
        else:
            b.add(values[value])
    if after is not None:
        b.add("\n\n")
        ann.append(b.mark(after))
    return Document(b.text, claim.id, condition, plan.skeleton.doc_type, tuple(ann), tuple(claims))


def render_local(claim: Claim, topic: DocumentTopic, plan: Plan) -> Document:
    """A debunking document: negated claim sentences (its claim spans), true sentences, fillers, a headline."""
    b = TextBuilder()
    claims: list[Span] = []
    truths = local_truths(claim, topic)
    values = {**_values(claim, topic), "H": topic.headlines[plan.headline] if topic.headlines else claim.headline}
    for kind, value in plan.skeleton.pieces():
        k = value[1:]
        if kind == "text":
            b.add(value)
        elif value[0] == "F" and k.isdigit():
            b.add(topic.fillers[plan.fillers[int(k)]])
        elif value[0] == "T" and k.isdigit():
            b.add(truths[plan.truths[int(k)]])
        elif value[0] == "C" and k.isdigit():
            claims.append(b.mark(claim.negations[plan.paraphrases[int(k)]]))
        else:
            b.add(values[value])
    return Document(b.text, claim.id, "local", plan.skeleton.doc_type, (), tuple(claims))
