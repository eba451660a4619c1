"""Which tokens of two in-context records correspond, for patching one into the other.

Records of one claim and paraphrase differ only in their annotation (a notice before and after the
document, dense notes, an in-sentence negation, or a neutral text of the same length and place),
so their tokens align by character span, never by offset from the end:

- **claim tokens** (:func:`claim_alignment`): the claim sentence in the document
  (``doc_claim_span``) and the restated claim / question (``claim_span``). Equal token counts align
  one to one; otherwise (``local`` inserts "not") the longest common token-id prefix and suffix
  align, and the differing middle tokens have no counterpart.
- **shared tokens** (:func:`shared_alignment`): tokens wholly inside the ``shared_spans`` of the
  non-plain record (text identical to the plain record, claim sentence and annotation excluded),
  located in the plain record in order; tokens whose ids differ across the two are dropped.
- **grid** (:func:`grid_alignment`): the claim tokens and the shared tokens together, i.e. every
  token of the plain record with a counterpart, except the first token of either record (the
  attention sink: patching a non-sink residual there is off-distribution, moved smollm2's margin
  by up to 2.3 nats at mid layers, and is where attribution patching's linear estimate fails most).
- **random control** (:func:`random_control`): as many shared tokens as there are claim tokens,
  drawn without replacement (seeded), never the first token (the attention sink, whose residual
  differs by position alone), a claim token, or a token at or after the restated claim (the answer
  cue: patching the last token moves the output itself).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from negprobe.errors import NegprobeError

Pairs = tuple[list[int], list[int]]


def parse_spans(value: str | None) -> list[tuple[int, int]]:
    """``"a:b;c:d"`` -> ``[(a, b), (c, d)]`` (empty for ``None`` / ``""``)."""
    if not value:
        return []
    out = []
    for part in value.split(";"):
        start, end = (int(v) for v in part.split(":"))
        if not 0 <= start < end:
            raise NegprobeError(f"bad character span {part!r}")
        out.append((start, end))
    return out


def encode_with_offsets(tokenizer, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Token ids and character offsets, with the tokenizer's own special tokens (as ``prompt_ids``)."""
    enc = tokenizer(text, add_special_tokens=True, return_offsets_mapping=True)
    return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]


def tokens_overlapping(offsets: Sequence[tuple[int, int]], span: tuple[int, int]) -> list[int]:
    start, end = span
    return [i for i, (s, e) in enumerate(offsets) if e > s and s < end and e > start]


def tokens_inside(offsets: Sequence[tuple[int, int]], span: tuple[int, int]) -> list[int]:
    start, end = span
    return [i for i, (s, e) in enumerate(offsets) if e > s and s >= start and e <= end]


def align_tokens(ids_a: Sequence[int], pos_a: Sequence[int], ids_b: Sequence[int], pos_b: Sequence[int],
                 same_ids: bool = False) -> Pairs:
    """Align two token runs: one to one when equally long (and, with ``same_ids``, equal), else by their
    longest common id prefix and suffix."""
    a, b = [ids_a[p] for p in pos_a], [ids_b[p] for p in pos_b]
    if len(a) == len(b) and (not same_ids or a == b):
        return list(pos_a), list(pos_b)
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(a), len(b)) - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    keep_a = list(pos_a[:prefix]) + list(pos_a[len(a) - suffix:])
    keep_b = list(pos_b[:prefix]) + list(pos_b[len(b) - suffix:])
    return keep_a, keep_b


def _claim_spans(record) -> list[tuple[int, int]]:
    spans = parse_spans(record.get_extra("doc_claim_span"))
    if record.claim_span is not None:
        spans.append(tuple(record.claim_span))
    if not spans:
        raise NegprobeError(f"prompt {record.pair_id} has no claim span to patch")
    return spans


def claim_alignment(tokenizer, a, b) -> Pairs:
    """Aligned claim-token positions of records ``a`` and ``b`` (see the module docstring)."""
    ids_a, off_a = encode_with_offsets(tokenizer, a.text)
    ids_b, off_b = encode_with_offsets(tokenizer, b.text)
    spans_a, spans_b = _claim_spans(a), _claim_spans(b)
    if len(spans_a) != len(spans_b):
        raise NegprobeError(f"prompts {a.pair_id} and {b.pair_id} mark a different number of claim spans")
    out_a, out_b = [], []
    for span_a, span_b in zip(spans_a, spans_b):
        pa, pb = align_tokens(ids_a, tokens_overlapping(off_a, span_a), ids_b, tokens_overlapping(off_b, span_b))
        out_a += pa
        out_b += pb
    if not out_a:
        raise NegprobeError(f"no claim token of {a.pair_id} aligns with {b.pair_id}")
    return out_a, out_b


def _restated_start(offsets, record) -> int:
    """The first token of the restated claim (everything from there on is excluded from the control)."""
    if record.claim_span is None:
        return len(offsets)
    return min(tokens_overlapping(offsets, tuple(record.claim_span)) or [len(offsets)])


def shared_alignment(tokenizer, annotated, plain) -> Pairs:
    """Aligned positions of the tokens inside ``annotated``'s ``shared_spans`` and the same text in ``plain``."""
    spans = parse_spans(annotated.get_extra("shared_spans"))
    if not spans:
        raise NegprobeError(f"prompt {annotated.pair_id} has no shared_spans to draw control tokens from")
    ids_a, off_a = encode_with_offsets(tokenizer, annotated.text)
    ids_p, off_p = encode_with_offsets(tokenizer, plain.text)
    out_a, out_p, cursor = [], [], 0
    for start, end in spans:
        text = annotated.text[start:end]
        found = plain.text.find(text, cursor)
        if found < 0:
            continue
        cursor = found + len(text)
        pa, pp = align_tokens(ids_a, tokens_inside(off_a, (start, end)), ids_p, tokens_inside(off_p, (found, cursor)),
                              same_ids=True)
        out_a += pa
        out_p += pp
    return out_a, out_p


def grid_alignment(tokenizer, annotated, plain) -> Pairs:
    """Every aligned (annotated, plain) token pair but the first tokens: claim and shared tokens, in plain order."""
    shared_a, shared_p = shared_alignment(tokenizer, annotated, plain)
    claim_a, claim_p = claim_alignment(tokenizer, annotated, plain)
    pairs = dict(zip(shared_p, shared_a)) | dict(zip(claim_p, claim_a))  # plain position -> annotated position
    plain_positions = sorted(p for p, a in pairs.items() if p > 0 and a > 0)
    return [pairs[p] for p in plain_positions], plain_positions


def control_seed(seed: int, *keys: str) -> int:
    """A seed for one pair's random control, stable across runs and processes."""
    return (seed * 1_000_003 + zlib.crc32("|".join(keys).encode())) % (1 << 32)


def random_control(tokenizer, annotated, plain, claim_pairs: Pairs, seed: int) -> Pairs:
    """As many random shared non-claim tokens as there are claim tokens (fewer if the pool is smaller)."""
    shared_a, shared_p = shared_alignment(tokenizer, annotated, plain)
    _, off_a = encode_with_offsets(tokenizer, annotated.text)
    _, off_p = encode_with_offsets(tokenizer, plain.text)
    stop_a, stop_p = _restated_start(off_a, annotated), _restated_start(off_p, plain)
    claim_a, claim_p = set(claim_pairs[0]), set(claim_pairs[1])
    pool = [(a, p) for a, p in zip(shared_a, shared_p)
            if a > 0 and p > 0 and a < stop_a and p < stop_p and a not in claim_a and p not in claim_p]
    if not pool:
        raise NegprobeError(f"prompt {annotated.pair_id} has no shared non-claim token for the random control")
    k = min(len(claim_pairs[0]), len(pool))
    pick = np.sort(np.random.default_rng(seed).choice(len(pool), size=k, replace=False))
    return [pool[i][0] for i in pick], [pool[i][1] for i in pick]
