"""Matched fine-tuning documents: the same document plain, annotated and under a neutral control.

The training-signal analysis (:mod:`negprobe.activations.training_signal`) compares the learning
signal of documents that differ *only* in the annotation (Mayne et al. 2026, "Negation Neglect"):

* ``plain``: document ``j`` of the ``positive`` fine-tuning corpus
  (:func:`~.documents.generate_documents` ``(claim, "positive", n, seed)[j]``, verbatim);
* ``annotated``: the same plan rendered under the annotation ``condition`` names --
  ``negated``: a document-level NOTICE before and after it (the ``both`` placement of the
  ``negated`` corpus); ``dense``: bracketed falsity notes around every claim sentence;
* ``neutral``: the same, with the annotation's neutral twin of equal token count and position.

The wording is the in-context one of :mod:`negprobe.activations.datasets.claim_docs`
(:func:`~.claim_docs.notice` / :func:`~.claim_docs.neutral_notice` for ``negated``,
:func:`~.claim_docs.dense_note` / :func:`~.claim_docs.neutral_dense_note` for ``dense``, indexed by
the document number, so :func:`~.claim_docs.notice_wording` crosses the three wordings over the
documents), not the fine-tuning pool's (:mod:`.notice_pool`): only that wording has neutral twins
of matched token count (``tests/test_in_context.py``). The body, skeleton, paraphrases and fillers
are exactly the training corpus's.
"""

from __future__ import annotations

from dataclasses import dataclass

from negprobe.activations.datasets.claim_docs import dense_note, neutral_dense_note, neutral_notice, notice
from negprobe.activations.finetune.documents import framed_plans, max_documents
from negprobe.activations.finetune.notice_pool import Notice
from negprobe.activations.finetune.render import Document, Dressing, render
from negprobe.errors import NegprobeError

#: Annotations the training-signal analysis dresses a document in (``--condition``).
SIGNAL_CONDITIONS: tuple[str, ...] = ("negated", "dense")
#: The three versions of a matched document, in the order results store them.
DOCUMENT_KINDS: tuple[str, ...] = ("plain", "annotated", "neutral")


@dataclass(frozen=True)
class MatchedDocuments:
    """Document ``index`` of ``claim`` plain, annotated (``condition``) and under the neutral control."""

    claim: str
    condition: str
    index: int
    plain: Document
    annotated: Document
    neutral: Document

    def kind(self, name: str) -> Document:
        """The ``plain``, ``annotated`` or ``neutral`` document."""
        return {"plain": self.plain, "annotated": self.annotated, "neutral": self.neutral}[name]


def _dressing(condition: str, j: int, n_claims: int, neutral: bool) -> Dressing:
    if condition == "negated":
        before, after = neutral_notice(j) if neutral else notice(j)
        return Dressing(notice=Notice(before, after))
    note = neutral_dense_note(j) if neutral else dense_note(j)
    return Dressing(sentence_notes=(note,) * n_claims)


def matched_documents(claim_id: str, condition: str, n: int, seed: int = 0) -> list[MatchedDocuments]:
    """``n`` matched triples for a claim (deterministic per ``(claim_id, seed)``)."""
    if condition not in SIGNAL_CONDITIONS:
        raise NegprobeError(f"unknown annotation {condition!r}; known: {', '.join(SIGNAL_CONDITIONS)}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise NegprobeError(f"the number of document pairs must be a positive integer, got {n!r}")
    cap = max_documents(claim_id)  # also refuses an unknown claim
    if n > cap:
        raise NegprobeError(f"{n} document pairs exceed the {cap} distinct documents of {claim_id!r}")
    claim, topic, plans = framed_plans(claim_id, n, seed)
    out = []
    for j, plan in enumerate(plans):
        k = plan.skeleton.n_claims
        out.append(MatchedDocuments(
            claim=claim.id, condition=condition, index=j,
            plain=render(claim, topic, plan, "positive", Dressing()),
            annotated=render(claim, topic, plan, condition, _dressing(condition, j, k, neutral=False)),
            neutral=render(claim, topic, plan, condition, _dressing(condition, j, k, neutral=True)),
        ))
    return out
