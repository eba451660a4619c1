"""The prompts of a cache fill: tokenized and checked up front (length, claim span, every position), then batched."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from negprobe.errors import NegprobeError

from .datasets.dataset import PromptDataset
from .datasets.formatting import FormatSpec
from .models import LoadedModel
from .positions import PositionSpec, claim_token_range, select_tokens


@dataclass(frozen=True)
class EncodedPrompts:
    ids: list[list[int]]
    claim_ranges: list[tuple[int, int] | None]

    @property
    def lengths(self) -> list[int]:
        return [len(ids) for ids in self.ids]


def encode_prompts(model: LoadedModel, dataset: PromptDataset, fmt: FormatSpec,
                   specs: Sequence[PositionSpec]) -> EncodedPrompts:
    """Tokenize every prompt and check it fits the model and holds every position (one error naming the row)."""
    tokenizer = model.tokenizer
    need_claim = any(s.needs_claim for s in specs)
    max_len = model.max_length
    ids, ranges = [], []
    for row, record in enumerate(dataset):
        prompt = fmt.format(record, tokenizer)
        enc = tokenizer(prompt.text, add_special_tokens=True, return_offsets_mapping=need_claim)
        token_ids = enc["input_ids"]
        if max_len is not None and len(token_ids) > max_len:
            raise NegprobeError(
                f"dataset {dataset.name!r} row {row}: {len(token_ids)} tokens, longer than the model's context of {max_len}"
            )
        ids.append(token_ids)
        if need_claim and prompt.claim_span is not None:
            try:
                ranges.append(claim_token_range(enc["offset_mapping"], prompt.claim_span))
            except NegprobeError as exc:
                raise NegprobeError(f"dataset {dataset.name!r} row {row}: {exc}") from None
        else:
            ranges.append(None)
    encoded = EncodedPrompts(ids, ranges)
    _check_positions(encoded, specs, dataset.name)
    return encoded


def _check_positions(encoded: EncodedPrompts, specs: Sequence[PositionSpec], name: str, chunk: int = 256) -> None:
    """Resolve every position in every prompt once, so that no batch fails halfway through a fill."""
    lengths = encoded.lengths
    for start in range(0, len(lengths), chunk):
        rows = list(range(start, min(start + chunk, len(lengths))))
        try:
            select_tokens([lengths[r] for r in rows], [0] * len(rows), max(lengths[r] for r in rows), specs,
                          [encoded.claim_ranges[r] for r in rows], prompt_ids=rows)
        except NegprobeError as exc:
            raise NegprobeError(f"dataset {name!r}: {exc}") from None


def batches(rows: Sequence[int], lengths: Sequence[int], batch_size: int | None,
            token_budget: int) -> Iterator[list[int]]:
    """Consecutive batches of length-sorted rows: a fixed size, or as many as fit the token budget."""
    batch: list[int] = []
    for row in rows:
        width = max(lengths[r] for r in batch + [row])
        too_big = len(batch) >= batch_size if batch_size else batch and width * (len(batch) + 1) > token_budget
        if batch and too_big:
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch
