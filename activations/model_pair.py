"""A base model and its fine-tuned version, for comparing and patching runs across the two.

With a PEFT adapter the pair is one module: the fine-tuned model is base + LoRA with the adapter
enabled, the base the same module inside PEFT's ``disable_adapter()`` (one copy of the weights,
as Hu et al. 2022's LoRA keeps the base frozen). Two separately loaded models (e.g. a base and a
hand-edited copy) form a pair too. :meth:`ModelPair.state` yields the :class:`LoadedModel` that
computes the asked side, so code written for one model (``trace_prompt``, ``run_from``) runs on
either side unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from negprobe.errors import NegprobeError

from .models import LoadedModel, load_model

Side = Literal["base", "tuned"]


@dataclass(frozen=True)
class ModelPair:
    """``base`` and ``tuned`` on one tokenizer; ``shared``: ``tuned`` is a PEFT model whose disabled adapter is ``base``."""

    base: LoadedModel
    tuned: LoadedModel
    shared: bool = False
    label: str = "tuned"  # names the fine-tuned side (an adapter, a seed) in results

    def __post_init__(self) -> None:
        if (self.base.n_layers, self.base.d_model) != (self.tuned.n_layers, self.tuned.d_model):
            raise NegprobeError(f"{self.tuned.describe()} does not have the shape of {self.base.describe()}")
        if self.base.tokenizer.get_vocab() != self.tuned.tokenizer.get_vocab():
            raise NegprobeError(f"{self.tuned.name} and {self.base.name} use different tokenizers")
        if self.shared and not hasattr(self.tuned.model, "disable_adapter"):
            raise NegprobeError(f"{self.tuned.describe()} is not a PEFT model: it cannot serve as its own base")

    @property
    def n_layers(self) -> int:
        return self.base.n_layers

    @contextmanager
    def state(self, side: Side) -> Iterator[LoadedModel]:
        """The model computing ``side`` ("base" or "tuned") for the duration of the block."""
        if side not in ("base", "tuned"):
            raise NegprobeError(f"unknown side {side!r}: use 'base' or 'tuned'")
        if side == "tuned" or not self.shared:
            yield self.tuned if side == "tuned" else self.base
            return
        peft_model: Any = self.tuned.model
        with peft_model.disable_adapter():
            yield self.tuned


def load_pair(base: str | Path, adapter: str | Path, dtype: str = "float32", label: str | None = None) -> ModelPair:
    """Base + PEFT adapter loaded once, unmerged: the tuned side has the adapter on, the base side off.

    An adapter of another base is refused by :func:`negprobe.activations.models.load_model`."""
    tuned = load_model(base, adapter=adapter, dtype=dtype, merge_adapter=False)
    return ModelPair(tuned, tuned, shared=True, label=label or str(adapter))
