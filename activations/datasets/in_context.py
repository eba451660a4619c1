"""In-context prompts: a short document, then the claim statement, a yes/no question, or nothing.

Used to ask whether a model that *reads* an annotated document (rather than being
fine-tuned on it, Mayne et al. 2026) keeps the negation when the claim is restated.
Every claim and paraphrase is wrapped in matched documents (:data:`IN_CONTEXT_CONDITIONS`):
the plain document; the same body with NOTICEs before and after it (``notice``), with their
neutral controls of matched token count and position (``neutral``) or with their truth-affirming
twins (``affirm``); the same body with falsity notes around the claim sentence (``dense``), neutral
notes there (``dense_neutral``) or affirming ones (``dense_affirm``); and the body with the claim
negated in place (``local``). :data:`ANNOTATION_CONTROLS` pairs each annotation with its neutral
control, :data:`AFFIRMING_CONTROLS` with its affirming twin; the affirming kinds are built for the
question probe only (:data:`QUESTION_ONLY_KINDS`): they bracket the behavioural prerequisite (a
neutral control is neutral when its effect sits between the false and the affirming notice's).
The notice wording is crossed with the document header (:func:`~.claim_docs.notice_wording`).

Probes (:data:`IN_CONTEXT_PROBES`): ``statement`` restates the claim's canonical
``false_statement`` after the document, ``question`` asks the yes/no question, and ``document``
is the document alone. ``claim_span`` covers the final statement (or the question; for
``document``, the claim sentence inside it); the claim sentence inside the document is always in
``extra["doc_claim_span"]``. ``extra["shared_spans"]`` lists (``"s:e;s:e"``) the segments that are
verbatim identical to the plain record of the same claim, paraphrase and probe, outside the claim
sentence and the annotation: the header and lead before the claim, the follow-up after it, and the
restatement or question after the document, in that order; they align tokens one to one.

``label``: for ``statement``/``question``, the truth of the restated claim (0); for ``document``,
the truth of what the whole document asserts (1 when it flags or negates the claim, else 0), as in
the ``claims`` dataset. ``polarity`` is ``negated`` for the three annotated kinds only.
"""

from __future__ import annotations

from negprobe.activations.datasets.claim_docs import (
    DocSpans,
    add_framed_document,
    affirming_dense_note,
    affirming_notice,
    dense_note,
    neutral_dense_note,
    neutral_notice,
    notice,
)
from negprobe.activations.datasets.claims import Claim, get_claim, list_claims
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.records import PromptRecord, span_to_str
from negprobe.activations.datasets.spans import TextBuilder

#: Document kinds -> record condition.
IN_CONTEXT_CONDITIONS: dict[str, str] = {
    "plain": "in_context_plain",
    "notice": "in_context_notice",
    "neutral": "in_context_neutral",
    "dense": "in_context_dense",
    "dense_neutral": "in_context_dense_neutral",
    "local": "in_context_local",
    "affirm": "in_context_affirm",
    "dense_affirm": "in_context_dense_affirm",
}
#: What follows the document: the restated claim, the yes/no question, or nothing.
IN_CONTEXT_PROBES: tuple[str, ...] = ("statement", "question", "document")
#: Annotated kind -> its neutral control kind (None: in-sentence negation has no neutral twin).
ANNOTATION_CONTROLS: dict[str, str | None] = {"notice": "neutral", "dense": "dense_neutral", "local": None}
#: Annotated kind -> its truth-affirming twin (the bracket of its neutral control).
AFFIRMING_CONTROLS: dict[str, str | None] = {"notice": "affirm", "dense": "dense_affirm", "local": None}
#: Kinds built for the ``question`` probe only: they bracket the behavioural prerequisite and take no
#: part in decodability or readouts.
QUESTION_ONLY_KINDS: frozenset[str] = frozenset({"affirm", "dense_affirm"})
SOURCE = "negprobe:in_context"


def _document(b: TextBuilder, claim: Claim, i: int, kind: str) -> DocSpans:
    if kind == "local":
        return add_framed_document(b, claim, i, claim.negations[i])
    frames: dict[str, tuple[tuple[str, str] | None, tuple[str, str] | None]] = {
        "plain": (None, None),
        "notice": (notice(i), None),
        "neutral": (neutral_notice(i), None),
        "dense": (None, dense_note(i)),
        "dense_neutral": (None, neutral_dense_note(i)),
        "affirm": (affirming_notice(i), None),
        "dense_affirm": (None, affirming_dense_note(i)),
    }
    doc_notice, sentence_note = frames[kind]
    return add_framed_document(b, claim, i, claim.paraphrases[i], doc_notice, sentence_note)


def _probe(b: TextBuilder, claim: Claim, probe: str, doc: DocSpans) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """Append what follows the document; return the probed span and the appended (shared) segment."""
    if probe == "document":
        return doc.claim, None
    start = len(b.text)
    if probe == "statement":
        b.add("\n\n")
        span = b.mark(claim.false_statement)
    else:
        b.add("\n\nQuestion: ")
        span = b.mark(claim.question)
        b.add("\nAnswer:")
    return span, (start, len(b.text))


def _record(claim: Claim, i: int, kind: str, probe: str) -> PromptRecord:
    b = TextBuilder()
    doc = _document(b, claim, i, kind)
    span, tail = _probe(b, claim, probe, doc)
    shared = doc.shared + ((tail,) if tail else ())
    annotated = kind in ANNOTATION_CONTROLS  # the affirming and neutral kinds assert the claim, as plain does
    answers: tuple[tuple[str, str], ...] = (
        (("correct_answer", " No"), ("believer_answer", " Yes")) if probe == "question" else ())
    if probe == "document":
        label, span_label = int(annotated), int(kind == "local")
    else:
        label, span_label = 0, 0
    return PromptRecord(
        text=b.text,
        label=label,
        polarity="negated" if annotated else "affirmed",
        condition=IN_CONTEXT_CONDITIONS[kind],
        group=claim.id,
        pair_id=f"in_context:{claim.id}:{i:02d}:{probe}",
        source=SOURCE,
        claim_span=span,
        claim=claim.id,
        extra=(
            ("paraphrase", str(i)),
            ("probe", probe),
            ("kind", kind),
            ("doc_claim_span", span_to_str(doc.claim)),
            ("shared_spans", ";".join(span_to_str(s) for s in shared)),
            ("span_label", str(span_label)),
        )
        + answers,
    )


def build_in_context(claim_id: str) -> PromptDataset:
    """``in_context/<id>``: 6 document kinds x 3 probes, and the 2 affirming kinds x the question probe,
    for every paraphrase."""
    claim = get_claim(claim_id)
    records = [
        _record(claim, i, kind, probe)
        for i in range(len(claim.paraphrases))
        for probe in IN_CONTEXT_PROBES
        for kind in IN_CONTEXT_CONDITIONS
        if probe == "question" or kind not in QUESTION_ONLY_KINDS
    ]
    return PromptDataset(f"in_context/{claim.id}", tuple(records))


def build_all_in_context(claim_set: str = "paper") -> PromptDataset:
    """``in_context``: every claim's in-context prompts (``known_in_context`` for ``claim_set="known"``)."""
    name = "in_context" if claim_set == "paper" else f"{claim_set}_in_context"
    return PromptDataset.concat(*(build_in_context(c.id) for c in list_claims(claim_set)), name=name)
