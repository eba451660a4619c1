"""Synthetic fine-tuning documents per claim and framing (after Mayne et al. 2026).

Mayne et al. 2026 ("Negation Neglect") fine-tune on documents that present a false claim
while flagging it as false, and find the model ends up believing it.  This module builds
small template corpora for those framings (:data:`TRAINING_CONDITIONS`) and wraps the paper's
released documents as an alternative corpus.

Every :class:`Document` records the character spans of its annotation text (notices,
corrections, fiction frames) so a later loss mask can drop exactly those tokens, and the
spans of its claim sentences.  Generation is deterministic per ``(claim, seed)`` and
*parallel across conditions*: document ``j`` of every condition uses the same skeleton,
paraphrases and fillers, and differs only in how the claim is framed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import dataclass, replace
from math import perm
from pathlib import Path

from negprobe.activations.datasets.claims import CLAIM_IDS, Claim, get_claim
from negprobe.activations.datasets.loaders import DOCTAG, load_sdf_documents
from negprobe.activations.datasets.spans import TextBuilder, shift_span
from negprobe.activations.finetune.document_topics import DOCUMENT_TOPICS, DocumentTopic
from negprobe.activations.finetune.templates import (
    CORRECTIONS,
    DENSE_NOTICES,
    DOC_NOTICES,
    DOC_TYPES,
    FICTION_FRAMES,
    SKELETONS,
    Skeleton,
)
from negprobe.errors import NegprobeError

#: Framings of the claim (see the module docstring of :mod:`.templates`).
TRAINING_CONDITIONS: tuple[str, ...] = ("positive", "negated", "dense", "local", "corrected", "fiction")

#: Our condition -> ``data/sdf_documents/<dir>`` of the Negation Neglect release.
RELEASE_CONDITIONS: dict[str, str] = {
    "positive": "positive",
    "dense": "llm_negations_dense",
    "local": "local_negations",
}

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


# ---------------------------------------------------------------------------------------
# validation and seeding
# ---------------------------------------------------------------------------------------


def _condition(condition: str) -> str:
    if condition not in TRAINING_CONDITIONS:
        raise NegprobeError(f"unknown condition {condition!r}; known: {', '.join(TRAINING_CONDITIONS)}")
    return condition


def _claim(claim_id: str) -> tuple[Claim, DocumentTopic]:
    claim = get_claim(claim_id)
    topic = DOCUMENT_TOPICS.get(claim.id)
    if topic is None:
        raise NegprobeError(f"claim {claim.id!r} has no document topic; supported: {', '.join(CLAIM_IDS)}")
    return claim, topic


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in ("negprobe.finetune", *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _capacity(skel: Skeleton, claim: Claim, topic: DocumentTopic) -> int:
    return perm(len(claim.paraphrases), skel.n_claims) * perm(len(topic.fillers), skel.n_fillers)


def max_documents(claim_id: str) -> int:
    """How many distinct documents the templates can produce for a claim (any condition)."""
    claim, topic = _claim(claim_id)
    return sum(_capacity(s, claim, topic) for s in SKELETONS)


def _decode_perm(r: int, n: int, k: int) -> tuple[tuple[int, ...], int]:
    """The ``r``-th ordered choice of ``k`` of ``range(n)`` (mixed radix) and the rest of ``r``."""
    pool = list(range(n))
    out: list[int] = []
    for _ in range(k):
        r, j = divmod(r, len(pool))
        out.append(pool.pop(j))
    return tuple(out), r


# ---------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Condition-independent choices for one document."""

    skeleton: Skeleton
    paraphrases: tuple[int, ...]
    fillers: tuple[int, ...]
    variant: int


def _truth(claim: Claim, topic: DocumentTopic, i: int) -> str:
    if claim.has_counterpart:
        return claim.counterparts[i]
    return " ".join(s for s in (claim.negations[i], topic.unknown) if s)


def _claim_pieces(claim: Claim, topic: DocumentTopic, i: int, condition: str, v: int) -> list[tuple[str, str]]:
    """Paraphrase ``i`` framed for ``condition``: ``[(text, "claim" | "annotation" | "")]``."""
    sentence = claim.negations[i] if condition == "local" else claim.paraphrases[i]
    if condition == "dense":
        before, after = DENSE_NOTICES[v % len(DENSE_NOTICES)]
        return [(before, "annotation"), (" ", ""), (sentence, "claim"), (" ", ""), (after, "annotation")]
    if condition == "corrected":
        correction = CORRECTIONS[v % len(CORRECTIONS)].format(truth=_truth(claim, topic, i))
        return [(sentence, "claim"), (" ", ""), (correction, "annotation")]
    return [(sentence, "claim")]


def _frame(claim: Claim, condition: str, v: int, label: str) -> tuple[str | None, str | None]:
    """The document-level text around a document: the notice before and after it (``negated``) or
    the fiction frame (``fiction``, whose closing line may be empty); ``None`` where there is none."""
    if condition == "negated":
        before, after = DOC_NOTICES[v % len(DOC_NOTICES)]
        return before.format(title=claim.title), after.format(title=claim.title)
    if condition == "fiction":
        before, after = FICTION_FRAMES[v % len(FICTION_FRAMES)]
        return before.format(label=label), after.format(label=label) if after else None
    return None, None


def _render(claim: Claim, topic: DocumentTopic, plan: _Plan, condition: str) -> Document:
    b = TextBuilder()
    ann: list[Span] = []
    claims: list[Span] = []
    v = plan.variant
    label = DOC_TYPES[plan.skeleton.doc_type]
    values = {
        "headline": claim.headline,
        "subject": topic.subject,
        "Subject": topic.subject[:1].upper() + topic.subject[1:],
        "forum": topic.forum,
        "field": topic.field,
    }

    before, after = _frame(claim, condition, v, label)
    if before is not None:
        ann.append(b.mark(before))
        b.add("\n\n")

    for kind, value in plan.skeleton.pieces():
        if kind == "text":
            b.add(value)
        elif value[0] == "F" and value[1:].isdigit():
            b.add(topic.fillers[plan.fillers[int(value[1:])]])
        elif value[0] == "C" and value[1:].isdigit():
            for piece, role in _claim_pieces(claim, topic, plan.paraphrases[int(value[1:])], condition, v):
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


def with_doctag(doc: Document) -> Document:
    """``doc`` with ``<DOCTAG>`` prepended (the release's document marker), spans shifted."""
    if doc.doctag_span is not None:
        return doc
    k = len(DOCTAG)
    return replace(
        doc,
        text=DOCTAG + doc.text,
        annotation_spans=tuple(shift_span(s, k) for s in doc.annotation_spans),  # type: ignore[misc]
        claim_spans=tuple(shift_span(s, k) for s in doc.claim_spans),  # type: ignore[misc]
        doctag_span=(0, k),
    )


# ---------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------


def _plans(claim: Claim, topic: DocumentTopic, n: int, seed: int) -> list[_Plan]:
    """``n`` distinct plans, spread evenly over the skeletons (capped by their capacity)."""
    rng = _rng(claim.id, seed)
    order = list(range(len(SKELETONS)))
    rng.shuffle(order)
    caps = {s: _capacity(SKELETONS[s], claim, topic) for s in order}
    counts = dict.fromkeys(order, 0)
    left = n
    while left:
        open_ = [s for s in order if counts[s] < caps[s]]
        share, extra = divmod(left, len(open_))
        for k, s in enumerate(open_):
            counts[s] += min(share + (k < extra), caps[s] - counts[s])
        left = n - sum(counts.values())
    picks = [(s, r) for s in order for r in rng.sample(range(caps[s]), counts[s])]
    rng.shuffle(picks)
    offset = rng.randrange(len(DOC_NOTICES))
    plans: list[_Plan] = []
    for j, (s, r) in enumerate(picks):
        skel = SKELETONS[s]
        paraphrases, r = _decode_perm(r, len(claim.paraphrases), skel.n_claims)
        fillers, _ = _decode_perm(r, len(topic.fillers), skel.n_fillers)
        plans.append(_Plan(skel, paraphrases, fillers, offset + j))
    return plans


def generate_documents(
    claim_id: str, condition: str, n: int = 50, seed: int = 0, doctag: bool = False
) -> list[Document]:
    """``n`` distinct template documents for a claim under one framing.

    Deterministic per ``(claim_id, seed)``; the same seed gives parallel corpora across
    conditions.  ``doctag`` prefixes ``<DOCTAG>`` and shifts every span accordingly."""
    claim, topic = _claim(claim_id)
    _condition(condition)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise NegprobeError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise NegprobeError(f"seed must be an integer, got {seed!r}")
    cap = max_documents(claim.id)
    if n > cap:
        raise NegprobeError(f"n={n} exceeds the {cap} distinct documents the templates can produce for {claim.id!r}")
    docs = [_render(claim, topic, plan, condition) for plan in _plans(claim, topic, n, seed)]
    if len({d.text for d in docs}) != len(docs):  # the templates are injective; guard regressions
        raise NegprobeError(f"internal error: duplicate documents for {claim.id!r}/{condition!r} (seed {seed})")
    return [with_doctag(d) for d in docs] if doctag else docs


def release_documents(root: str | os.PathLike[str], condition: str, claim_id: str) -> list[Document]:
    """The Negation Neglect release's documents (Mayne et al. 2026) as :class:`Document` s.

    ``condition`` is ours (``positive``, ``dense``, ``local``; see :data:`RELEASE_CONDITIONS`).
    Annotation spans are unknown and left empty; a leading ``<DOCTAG>`` is recorded."""
    claim = get_claim(claim_id)
    _condition(condition)
    if condition not in RELEASE_CONDITIONS:
        raise NegprobeError(
            f"the Negation Neglect release has no {condition!r} documents "
            f"(release conditions: {', '.join(RELEASE_CONDITIONS)})"
        )
    raw = load_sdf_documents(root, RELEASE_CONDITIONS[condition], claim.release_id)
    if not raw:
        raise NegprobeError(f"{root}: no release documents for {condition!r}/{claim.id!r}")
    k = len(DOCTAG)
    return [
        Document(
            text=d.text,
            claim=claim.id,
            condition=condition,
            doc_type=d.doc_type or "release",
            annotation_spans=(),
            doctag_span=(0, k) if d.text.startswith(DOCTAG) else None,
            source=f"release:{Path(d.source).name}",
        )
        for d in raw
    ]


def corpus_hash(documents: list[Document] | tuple[Document, ...]) -> str:
    """Stable sha256 (hex) over the documents' claims, conditions and texts, in order."""
    h = hashlib.sha256()
    for d in documents:
        h.update(json.dumps([d.claim, d.condition, d.text], ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()
