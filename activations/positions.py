"""Which token positions to read: the last token, the claim's last token, the claim mean, offsets.

A position spec is a short string, several joined by commas (all read in one pass):

- ``last``: the prompt's last token; ``last-2``: two tokens before it;
- ``claim_last``: the last token of the claim span (the record's ``claim_span``, in characters);
  ``claim_last+1``: the token after it;
- ``claim_mean``: the mean over the claim span's tokens;
- an integer: that token index (``0`` = first real token, ``-1`` = last token).

Reading at the end of the claim follows Marks & Tegmark (2023), who probe the last token of a
statement; the claim-relative forms find the claim inside a longer in-context document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor

from negprobe.errors import NegprobeError

_SPEC = re.compile(r"^(last|claim_last|claim_mean)([+-]\d+)?$")


@dataclass(frozen=True)
class PositionSpec:
    anchor: str  # "last" | "claim_last" | "claim_mean" | "index"
    offset: int = 0

    @property
    def needs_claim(self) -> bool:
        return self.anchor.startswith("claim")

    def key(self) -> str:
        if self.anchor == "index":
            return str(self.offset)
        return self.anchor + (f"{self.offset:+d}" if self.offset else "")


def parse_positions(spec: str | Sequence[str | int] | int) -> tuple[PositionSpec, ...]:
    """Parse ``"last,claim_last,claim_mean"``-style specs (or a list of them, or ints)."""
    items = spec.split(",") if isinstance(spec, str) else [spec] if isinstance(spec, int) else list(spec)
    out = []
    for item in items:
        text = str(item).strip()
        if re.fullmatch(r"-?\d+", text):
            out.append(PositionSpec("index", int(text)))
            continue
        match = _SPEC.match(text)
        if not match:
            raise NegprobeError(
                f"unknown position {text!r}: use last, claim_last, claim_mean, last-K, claim_last+K or a token index"
            )
        anchor, offset = match.group(1), int(match.group(2) or 0)
        if anchor == "claim_mean" and offset:
            raise NegprobeError(f"position {text!r}: claim_mean takes no offset")
        out.append(PositionSpec(anchor, offset))
    if not out:
        raise NegprobeError("no positions given")
    if len({p.key() for p in out}) != len(out):
        raise NegprobeError(f"positions {spec!r} repeat a position")
    return tuple(out)


def positions_key(specs: Sequence[PositionSpec]) -> str:
    return ",".join(p.key() for p in specs)


def claim_token_range(offsets: Sequence[tuple[int, int]], span: tuple[int, int]) -> tuple[int, int]:
    """Inclusive [first, last] indices of the tokens that overlap the character ``span``."""
    start, end = span
    hits = [i for i, (s, e) in enumerate(offsets) if e > s and s < end and e > start]
    if not hits:
        raise NegprobeError(f"claim span {span} covers no token")
    return hits[0], hits[-1]


@dataclass
class TokenSelection:
    """Where to read in a padded batch: one token per position, or a weighted mean (span means)."""

    index: Int[Tensor, "batch n_positions"]
    weights: Float[Tensor, "batch n_positions seq"] | None = None

    def apply(self, hidden: Float[Tensor, "batch seq d_model"]) -> Float[Tensor, "batch n_positions d_model"]:
        rows = torch.arange(hidden.shape[0], device=hidden.device)[:, None]
        picked = hidden[rows, self.index.to(hidden.device)]
        if self.weights is None:
            return picked
        weights = self.weights.to(hidden.device)
        is_mean = weights.sum(-1) > 0  # [batch, n_positions]
        means = torch.einsum("bps,bsd->bpd", weights.to(torch.float32), hidden.to(torch.float32)).to(hidden.dtype)
        return torch.where(is_mean[..., None], means, picked)


def select_tokens(
    lengths: Sequence[int],
    first_real: Sequence[int],
    seq_len: int,
    specs: Sequence[PositionSpec],
    claim_ranges: Sequence[tuple[int, int] | None] | None = None,
    prompt_ids: Sequence[int] | None = None,
) -> TokenSelection:
    """Resolve ``specs`` for each prompt of a padded batch (indices into the padded sequence)."""
    n = len(lengths)
    index = torch.zeros(n, len(specs), dtype=torch.long)
    weights = torch.zeros(n, len(specs), seq_len) if any(p.anchor == "claim_mean" for p in specs) else None
    for i in range(n):
        name = prompt_ids[i] if prompt_ids is not None else i
        for j, spec in enumerate(specs):
            claim = claim_ranges[i] if claim_ranges is not None else None
            if spec.needs_claim and claim is None:
                raise NegprobeError(f"position {spec.key()!r} needs a claim span, and prompt {name} has none")
            if spec.anchor == "claim_mean":
                assert claim is not None and weights is not None  # needs_claim; weights made for claim_mean
                first, last = claim
                weights[i, j, first_real[i] + first : first_real[i] + last + 1] = 1.0 / (last - first + 1)
                index[i, j] = first_real[i] + last
                continue
            if spec.anchor == "last":
                token = lengths[i] - 1 + spec.offset
            elif spec.anchor == "claim_last":
                assert claim is not None  # needs_claim
                token = claim[1] + spec.offset
            else:
                token = spec.offset if spec.offset >= 0 else lengths[i] + spec.offset
            if not 0 <= token < lengths[i]:
                raise NegprobeError(
                    f"position {spec.key()!r} is outside prompt {name} ({lengths[i]} tokens)"
                )
            index[i, j] = first_real[i] + token
    return TokenSelection(index, weights)
