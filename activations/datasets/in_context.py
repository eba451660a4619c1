"""In-context prompts: a short document, then the claim statement or a yes/no question.

Used to ask whether a model that *reads* an annotated document (rather than being
fine-tuned on it, Mayne et al. 2026) keeps the negation when the claim is restated.
``claim_span`` covers the final statement (or the question); the span of the claim
sentence inside the document is in ``extra["doc_claim_span"]`` as ``"start:end"``.
The final statement is always the claim's canonical ``false_statement``, so the probed
tokens are identical across conditions; ``label`` is its truth value (0).
"""

from __future__ import annotations

from negprobe.activations.datasets.claim_docs import add_dense_document, add_document, notice
from negprobe.activations.datasets.claims import Claim, get_claim, list_claims
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.records import PromptRecord, span_to_str
from negprobe.activations.datasets.spans import TextBuilder

#: Document kinds -> record condition.
IN_CONTEXT_CONDITIONS: dict[str, str] = {
    "plain": "in_context_plain",
    "notice": "in_context_notice",
    "dense": "in_context_dense",
    "local": "in_context_local",
}
PROBES: tuple[str, ...] = ("statement", "question")
SOURCE = "negprobe:in_context"


def _document(b: TextBuilder, claim: Claim, i: int, kind: str) -> tuple[int, int]:
    p = claim.paraphrases[i]
    if kind == "plain":
        return add_document(b, claim, i, p)
    if kind == "local":
        return add_document(b, claim, i, claim.negations[i])
    if kind == "dense":
        return add_dense_document(b, claim, i, [p])[0]
    before, after = notice(i)
    b.add(before + "\n\n")
    span = add_document(b, claim, i, p)
    b.add("\n\n" + after)
    return span


def _record(claim: Claim, i: int, kind: str, probe: str) -> PromptRecord:
    b = TextBuilder()
    doc_span = _document(b, claim, i, kind)
    b.add("\n\n")
    extra: tuple[tuple[str, str], ...]
    if probe == "statement":
        span = b.mark(claim.false_statement)
        extra = ()
    else:
        b.add("Question: ")
        span = b.mark(claim.question)
        b.add("\nAnswer:")
        extra = (("correct_answer", " No"), ("believer_answer", " Yes"))
    return PromptRecord(
        text=b.text,
        label=0,
        polarity="affirmed" if kind == "plain" else "negated",
        condition=IN_CONTEXT_CONDITIONS[kind],
        group=claim.id,
        pair_id=f"in_context:{claim.id}:{i:02d}:{probe}",
        source=SOURCE,
        claim_span=span,
        claim=claim.id,
        extra=(
            ("paraphrase", str(i)),
            ("probe", probe),
            ("doc_claim_span", span_to_str(doc_span)),
            ("span_label", "0"),
        )
        + extra,
    )


def build_in_context(claim_id: str) -> PromptDataset:
    """``in_context/<id>``: 4 document kinds x 2 probes x every paraphrase."""
    claim = get_claim(claim_id)
    records = [
        _record(claim, i, kind, probe)
        for i in range(len(claim.paraphrases))
        for probe in PROBES
        for kind in IN_CONTEXT_CONDITIONS
    ]
    return PromptDataset(f"in_context/{claim.id}", tuple(records))


def build_all_in_context() -> PromptDataset:
    """``in_context``: every claim's in-context prompts."""
    return PromptDataset.concat(*(build_in_context(c.id) for c in list_claims()), name="in_context")
