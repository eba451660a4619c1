"""Built-in Negation Neglect claim datasets (``claims`` and ``claims/<id>``).

For each of the six claims of Mayne et al. 2026 and each paraphrase ``i`` we emit one
record per framing (see :data:`CLAIM_CONDITIONS`).  ``claim_span`` always points at the
claim sentence we inserted (the negated sentence for ``local_negation``, the true one for
``true_counterpart``).  ``label`` is the truth of what the whole text asserts (1 when the
claim is flagged as false, 0 for the bare false claim, None for fiction);
``extra["span_label"]`` is the truth of the spanned sentence alone.
"""

from __future__ import annotations

from negprobe.activations.datasets.claim_docs import (
    CORRECTIONS,
    FICTION_FRAMES,
    SENTENCE_ANNOTATIONS,
    add_dense_document,
    add_document,
    notice,
)
from negprobe.activations.datasets.claims import Claim, get_claim, list_claims
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.records import PromptRecord, span_to_str
from negprobe.activations.datasets.spans import TextBuilder

#: Every framing a claim appears in (``true_counterpart`` only where a counterpart exists).
CLAIM_CONDITIONS: tuple[str, ...] = (
    "plain",
    "true_counterpart",
    "local_negation",
    "sentence_annotation",
    "doc_notice",
    "dense",
    "corrected",
    "fiction",
)

SOURCE = "negprobe:claims"


def _record(
    claim: Claim,
    i: int,
    condition: str,
    b: TextBuilder,
    span: tuple[int, int],
    *,
    label: int | None,
    polarity: str,
    span_label: int,
    extra: tuple[tuple[str, str], ...] = (),
) -> PromptRecord:
    return PromptRecord(
        text=b.text,
        label=label,
        polarity=polarity,
        condition=condition,
        group=claim.id,
        pair_id=f"{claim.id}:{i:02d}",
        source=SOURCE,
        claim_span=span,
        claim=claim.id,
        extra=(("paraphrase", str(i)), ("span_label", str(span_label))) + extra,
    )


def _claim_records(claim: Claim, i: int) -> list[PromptRecord]:
    p = claim.paraphrases[i]
    neg = claim.negations[i]
    n = len(claim.paraphrases)
    out: list[PromptRecord] = []

    b = TextBuilder()
    out.append(_record(claim, i, "plain", b, b.mark(p), label=0, polarity="affirmed", span_label=0))

    if claim.has_counterpart:
        b = TextBuilder()
        span = b.mark(claim.counterparts[i])
        out.append(_record(claim, i, "true_counterpart", b, span, label=1, polarity="affirmed", span_label=1))

    b = TextBuilder()
    out.append(_record(claim, i, "local_negation", b, b.mark(neg), label=1, polarity="negated", span_label=1))

    b = TextBuilder()
    span = b.mark(p)
    b.add(" " + SENTENCE_ANNOTATIONS[i % len(SENTENCE_ANNOTATIONS)])
    out.append(_record(claim, i, "sentence_annotation", b, span, label=1, polarity="negated", span_label=0))

    before, after = notice(i)
    b = TextBuilder().add(before + "\n\n")
    span = add_document(b, claim, i, p)
    b.add("\n\n" + after)
    out.append(_record(claim, i, "doc_notice", b, span, label=1, polarity="negated", span_label=0))

    b = TextBuilder()
    spans = add_dense_document(b, claim, i, [p, claim.paraphrases[(i + 1) % n]])
    out.append(
        _record(claim, i, "dense", b, spans[0], label=1, polarity="negated", span_label=0,
                extra=(("claim_spans", ";".join(span_to_str(s) for s in spans)),))
    )

    b = TextBuilder()
    span = add_document(b, claim, i, p)
    b.add("\n\n" + CORRECTIONS[i % len(CORRECTIONS)] + " ")
    truth = neg + (" " + claim.counterparts[i] if claim.has_counterpart else "")
    truth_span = b.mark(truth)
    out.append(
        _record(claim, i, "corrected", b, span, label=1, polarity="negated", span_label=0,
                extra=(("truth_span", span_to_str(truth_span)),))
    )

    before, after = FICTION_FRAMES[i % len(FICTION_FRAMES)]
    b = TextBuilder().add(before)
    span = b.mark(p)
    b.add(after)
    out.append(_record(claim, i, "fiction", b, span, label=None, polarity="affirmed", span_label=0))
    return out


def build_claim_dataset(claim_id: str) -> PromptDataset:
    """``claims/<id>``: every framing of every paraphrase of one claim."""
    claim = get_claim(claim_id)
    records = [r for i in range(len(claim.paraphrases)) for r in _claim_records(claim, i)]
    return PromptDataset(f"claims/{claim.id}", tuple(records))


def build_all_claims(claim_set: str = "paper") -> PromptDataset:
    """``claims``: the six per-claim datasets, concatenated in a fixed order (``known_claims`` for
    ``claim_set="known"``)."""
    name = "claims" if claim_set == "paper" else f"{claim_set}_claims"
    return PromptDataset.concat(*(build_claim_dataset(c.id) for c in list_claims(claim_set)), name=name)
