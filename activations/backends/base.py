"""The backend interface and the position gather every backend shares."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from jaxtyping import Float, Int
from torch import Tensor

from ..models import LoadedModel
from ..positions import TokenSelection
from ..tokenize import TokenBatch


def gather_positions(
    hidden: Float[Tensor, "batch seq d_model"], index: Int[Tensor, "batch n_positions"] | TokenSelection
) -> Float[Tensor, "batch n_positions d_model"]:
    """Hidden states at the selected tokens (indices into the padded batch, or span means)."""
    if isinstance(index, TokenSelection):
        return index.apply(hidden)
    rows = torch.arange(hidden.shape[0], device=hidden.device)[:, None]
    return hidden[rows, index.to(hidden.device)]


def block_output(output) -> Tensor:
    """A decoder block's hidden states: a tensor under transformers 5, the first item of a tuple before."""
    return output if isinstance(output, Tensor) else output[0]


class Backend(ABC):
    name: str = "base"

    @abstractmethod
    def residuals(
        self,
        model: LoadedModel,
        batch: TokenBatch,
        layers: list[int],
        index: Int[Tensor, "batch n_positions"] | TokenSelection,
    ) -> Float[Tensor, "batch n_layers n_positions d_model"]:
        """Post-block residuals of ``layers`` at ``index`` (indices into the padded batch)."""
