"""Tokenize prompts into padded batches and map token positions into them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from jaxtyping import Int
from torch import Tensor

from negprobe.errors import NegprobeError


@dataclass
class TokenBatch:
    """A padded batch. ``lengths`` counts real tokens; padding sits on ``padding_side``."""

    input_ids: Int[Tensor, "batch seq"]
    attention_mask: Int[Tensor, "batch seq"]
    padding_side: str

    @property
    def lengths(self) -> Int[Tensor, " batch"]:
        return self.attention_mask.sum(-1)

    @property
    def position_ids(self) -> Int[Tensor, "batch seq"]:
        """Positions counted over real tokens only, so left padding does not shift RoPE/learned positions."""
        return (self.attention_mask.cumsum(-1) - 1).clamp(min=0)

    def to(self, device: torch.device | str) -> TokenBatch:
        return TokenBatch(self.input_ids.to(device), self.attention_mask.to(device), self.padding_side)

    def first_real_index(self) -> Int[Tensor, " batch"]:
        if self.padding_side == "left":
            return self.input_ids.shape[1] - self.lengths
        return torch.zeros_like(self.lengths)


def encode(tokenizer, texts: Sequence[str], prepend_bos: bool | None = None) -> list[list[int]]:
    """Token ids of each text, with the tokenizer's own BOS convention unless ``prepend_bos`` overrides it.

    ``prepend_bos=False`` drops a BOS the *tokenizer* added, never one the text itself starts with (a chat
    template's own first token: SmolLM2's BOS is ``<|im_start|>``, which its template writes and its
    tokenizer never adds)."""
    if not texts:
        raise NegprobeError("no prompts to tokenize")
    encoded = [tokenizer(text, add_special_tokens=True)["input_ids"] for text in texts]
    bos = tokenizer.bos_token_id
    if prepend_bos is True and bos is not None:
        encoded = [ids if ids[:1] == [bos] else [bos, *ids] for ids in encoded]
    elif prepend_bos is False and bos is not None:
        encoded = [ids[1:] if ids[:1] == [bos] and ids[1:] == tokenizer(text, add_special_tokens=False)["input_ids"]
                   else ids for ids, text in zip(encoded, texts)]
    return encoded


def tokenize(
    tokenizer,
    texts: Sequence[str],
    padding_side: str = "right",
    prepend_bos: bool | None = None,
    max_length: int | None = None,
) -> TokenBatch:
    """:func:`encode` the texts and pad them into one batch."""
    return pad_token_lists(encode(tokenizer, texts, prepend_bos), tokenizer.pad_token_id or 0, padding_side, max_length)


def pad_token_lists(
    encoded: Sequence[Sequence[int]], pad_id: int, padding_side: str = "right", max_length: int | None = None
) -> TokenBatch:
    if padding_side not in ("left", "right"):
        raise NegprobeError(f"padding_side must be 'left' or 'right', not {padding_side!r}")
    for i, ids in enumerate(encoded):
        if not ids:
            raise NegprobeError(f"prompt {i} is empty after tokenization")
        if max_length is not None and len(ids) > max_length:
            raise NegprobeError(f"prompt {i} has {len(ids)} tokens, more than the model's context of {max_length}")
    width = max(len(ids) for ids in encoded)
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, ids in enumerate(encoded):
        span = slice(0, len(ids)) if padding_side == "right" else slice(width - len(ids), width)
        input_ids[row, span] = torch.tensor(ids, dtype=torch.long)
        mask[row, span] = 1
    return TokenBatch(input_ids, mask, padding_side)


def token_index(
    batch: TokenBatch, positions: Sequence[int], prompt_ids: Sequence[int] | None = None
) -> Int[Tensor, "batch n_positions"]:
    """Padded-sequence indices of token ``positions`` for every prompt.

    A position ``p >= 0`` is the p-th real token; ``p < 0`` counts from the end (-1 = last token).
    """
    lengths = batch.lengths
    pos = torch.tensor(list(positions), dtype=torch.long)
    relative = torch.where(pos[None, :] >= 0, pos[None, :], lengths[:, None] + pos[None, :])
    bad = (relative < 0) | (relative >= lengths[:, None])
    if bad.any():
        row, col = (int(v) for v in bad.nonzero()[0])
        name = prompt_ids[row] if prompt_ids is not None else row
        raise NegprobeError(
            f"token position {positions[col]} is outside prompt {name} ({int(lengths[row])} tokens)"
        )
    return relative + batch.first_real_index()[:, None]
