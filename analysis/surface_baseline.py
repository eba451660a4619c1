"""A surface baseline for decodability: the tokens of the read sentence, counted (bag of tokens).

If a probe on the residual stream separates annotated from comparison rows no better than a probe
on the counts of the read sentence's own token ids, the annotation is visible on the surface (for
local negation the word "not" sits inside the claim span) and the residual stream adds nothing
(Hewitt & Liang 2019, "Designing and interpreting probes with control tasks", for the logic of
comparing a probe with a weaker input). :func:`negprobe.analysis.annotation.annotation_decodability`
fits the same probe on these counts on the same folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from jaxtyping import Float

from negprobe.activations.positions import claim_token_range
from negprobe.errors import NegprobeError


class SpanRecord(Protocol):
    """What :func:`bag_of_tokens` reads of a record (a ``PromptRecord`` has both)."""

    @property
    def text(self) -> str: ...

    @property
    def claim_span(self) -> tuple[int, int] | None: ...


def span_token_ids(tokenizer, record: SpanRecord) -> list[int]:
    """Token ids of the tokens overlapping ``record.claim_span``, tokenized in the record's full text."""
    if record.claim_span is None:
        raise NegprobeError("a bag of tokens needs a claim span in every record")
    enc = tokenizer(record.text, add_special_tokens=True, return_offsets_mapping=True)
    first, last = claim_token_range(enc["offset_mapping"], record.claim_span)
    return [int(i) for i in enc["input_ids"][first : last + 1]]


def bag_of_tokens(tokenizer, records: Sequence[SpanRecord]) -> Float[np.ndarray, "n vocab_used"]:
    """Counts of each token id in each record's claim span, one column per id used by any row (ids ascending)."""
    if not records:
        raise NegprobeError("no records to count tokens of")
    ids = [span_token_ids(tokenizer, r) for r in records]
    vocab = np.unique(np.concatenate([np.asarray(row, dtype=np.int64) for row in ids]))
    counts = np.zeros((len(ids), len(vocab)))
    for row, token_ids in enumerate(ids):
        np.add.at(counts[row], np.searchsorted(vocab, token_ids), 1.0)
    return counts
