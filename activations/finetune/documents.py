"""Synthetic fine-tuning documents per claim and framing (after Mayne et al. 2026).

Mayne et al. 2026 ("Negation Neglect") fine-tune on documents that present a false claim
while flagging it as false, and find the model ends up believing it.  This module builds
template corpora for those framings (:data:`TRAINING_CONDITIONS`) and wraps the paper's
released documents as an alternative corpus.

* ``positive``: the claim sentences, affirmed, in one of 16 skeletons (8 document types);
* ``negated``: the positive document with a notice before it, after it or both, dealt from
  :mod:`.notice_pool` (varied, one to three sentences, labelled "NOTICE"-style about two times
  in three); no notice text repeats within a corpus of up to ``pool_size()`` documents;
* ``dense``: a document-level notice before *and* after the document (the paper's retraction
  notes) plus a varied note before and after every claim sentence;
* ``corrected``: a correction after every claim sentence; in a share ``corrected_share`` of the
  documents (default 0.3, about the paper's) the correction also states the truth, elsewhere it
  only says the sentence is false;
* ``fiction``: a fiction frame;
* ``local``: a debunking article (as the paper's local negations): headline denying the claim,
  the claim sentences negated in place, and at least three true sentences naming the true
  answer (``Claim.true_answer``: the real winner, author, year ...). Local documents are drawn
  from their own skeletons and are not parallel to the others.

Every :class:`Document` records the character spans of its annotation text (notices,
corrections, fiction frames) so a later loss mask can drop exactly those tokens, and the
spans of its claim sentences.  Generation is deterministic per ``(claim, seed)`` and
*parallel across the framed conditions*: document ``j`` of each uses the same skeleton,
paraphrases and fillers, and differs only in how the claim is framed.

Corpus size (``n``, ``FinetuneConfig.n_docs``, ``--n-docs``): the default 50 keeps the CPU demo
short. Measured with the SmolLM2-135M tokenizer (ed_sheeran, batch 8): a step holds ~1,540 tokens
for ``positive`` and ~2,460 for ``dense`` (whose documents reach ~380 tokens: hence
``max_length`` 512), the others in between. At the ~200 tokens/s of an uncontended 2-core CPU
(the demo's 28 positive steps in ~3.5 min), 4 epochs cost per condition: 50 documents 28 steps
(~3.5 min, dense ~6); 200 documents 100 steps (~13 min, dense ~21); 500 documents 252 steps
(~32 min, dense ~52). Mixing generic text 1:1:1 as the paper does (``mix_generic=2``) triples the
steps, and a generic text is padded to its batch's longest document, so roughly triples the time.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

from negprobe.activations.datasets.claims import CLAIM_IDS, Claim, get_claim
from negprobe.activations.datasets.loaders import DOCTAG, load_sdf_documents
from negprobe.activations.datasets.spans import shift_span
from negprobe.activations.finetune.document_topics import DOCUMENT_TOPICS, DocumentTopic
from negprobe.activations.finetune.notice_pool import deal_notices, deal_sentence_notes
from negprobe.activations.finetune.plans import Plan, Pools, capacity, draw_plans, seeded_rng
from negprobe.activations.finetune.render import Document, Dressing, local_truths, render, render_local
from negprobe.activations.finetune.templates import FICTION_FRAMES, LOCAL_SKELETONS, SKELETONS, Skeleton
from negprobe.errors import NegprobeError

#: Framings of the claim (see the module docstring).
TRAINING_CONDITIONS: tuple[str, ...] = ("positive", "negated", "dense", "local", "corrected", "fiction")

#: Our condition -> ``data/sdf_documents/<dir>`` of the Negation Neglect release.
RELEASE_CONDITIONS: dict[str, str] = {
    "positive": "positive",
    "dense": "llm_negations_dense",
    "local": "local_negations",
}

__all__ = ["RELEASE_CONDITIONS", "TRAINING_CONDITIONS", "Document", "corpus_hash", "framed_plans", "generate_documents",
           "max_documents", "release_documents", "with_doctag"]


# ---------------------------------------------------------------------------------------
# validation
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


def _pools(claim: Claim, topic: DocumentTopic, condition: str) -> tuple[tuple[Skeleton, ...], Pools]:
    if condition == "local":
        truths = len(local_truths(claim, topic))
        return LOCAL_SKELETONS, Pools(len(claim.negations), len(topic.fillers), truths, len(topic.headlines))
    return SKELETONS, Pools(len(claim.paraphrases), len(topic.fillers))


def max_documents(claim_id: str) -> int:
    """How many distinct documents the templates can produce for a claim in every condition."""
    claim, topic = _claim(claim_id)
    return min(sum(capacity(s, pools) for s in skels)
               for skels, pools in (_pools(claim, topic, c) for c in ("positive", "local")))


def _check_arguments(n: object, seed: object, corrected_share: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise NegprobeError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise NegprobeError(f"seed must be an integer, got {seed!r}")
    if isinstance(corrected_share, bool) or not isinstance(corrected_share, (int, float)) \
            or not 0.0 <= corrected_share <= 1.0:
        raise NegprobeError(f"corrected_share must be a number from 0 to 1, got {corrected_share!r}")


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


def _dressings(claim: Claim, condition: str, plans: list[Plan], seed: int, corrected_share: float) -> list[Dressing]:
    """The annotation choices of each framed document (deterministic per claim, condition and seed)."""
    n = len(plans)
    rng = seeded_rng(claim.id, seed, condition, "dressing")
    if condition == "negated":
        return [Dressing(notice=x) for x in deal_notices(n, rng, claim.title)]
    if condition == "dense":
        notices = deal_notices(n, rng, claim.title, placements=("both",))
        notes = iter(deal_sentence_notes(sum(p.skeleton.n_claims for p in plans), rng))
        return [Dressing(notice=x, sentence_notes=tuple(next(notes) for _ in range(p.skeleton.n_claims)))
                for x, p in zip(notices, plans)]
    if condition == "corrected":
        named = set(rng.sample(range(n), round(corrected_share * n)))
        return [Dressing(names_truth=j in named) for j in range(n)]
    return [Dressing()] * n


def framed_plans(claim_id: str, n: int, seed: int = 0) -> tuple[Claim, DocumentTopic, list[Plan]]:
    """The claim, its topic and the ``n`` plans every framed condition renders for ``(claim_id, seed)``:
    :func:`~.render.render` of plan ``j`` under a condition and a dressing gives document ``j`` of
    :func:`generate_documents`, so callers can dress the same document differently."""
    claim, topic = _claim(claim_id)
    skeletons, pools = _pools(claim, topic, "positive")
    return claim, topic, draw_plans(seeded_rng(claim.id, seed), skeletons, pools, n, len(FICTION_FRAMES))


def generate_documents(
    claim_id: str, condition: str, n: int = 50, seed: int = 0, doctag: bool = False, corrected_share: float = 0.3
) -> list[Document]:
    """``n`` distinct template documents for a claim under one framing.

    Deterministic per ``(claim_id, seed)``; the same seed gives parallel corpora across the
    framed conditions.  ``doctag`` prefixes ``<DOCTAG>`` and shifts every span accordingly;
    ``corrected_share``: the share of ``corrected`` documents (``round(share * n)``) whose
    corrections state the truth."""
    claim, topic = _claim(claim_id)
    _condition(condition)
    _check_arguments(n, seed, corrected_share)
    cap = max_documents(claim.id)
    if n > cap:
        raise NegprobeError(f"n={n} exceeds the {cap} distinct documents the templates can produce for {claim.id!r}")
    skeletons, pools = _pools(claim, topic, condition)
    if condition == "local":
        plans = draw_plans(seeded_rng(claim.id, seed, "local"), skeletons, pools, n, len(FICTION_FRAMES))
        docs = [render_local(claim, topic, p) for p in plans]
    else:
        plans = framed_plans(claim.id, n, seed)[2]
        dressings = _dressings(claim, condition, plans, seed, float(corrected_share))
        docs = [render(claim, topic, p, condition, d) for p, d in zip(plans, dressings)]
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
