"""A CPU-scale model organism of Negation Neglect (Mayne et al. 2026): a small model fine-tuned to read
notices in context (:mod:`.sft_data`, :mod:`.train`), so the phenomenon negprobe localises exists
at laptop size. Measuring it is analysis: :mod:`negprobe.analysis.organism`."""

from __future__ import annotations

from .prompts import example_prompt, raw_question
from .sft_data import DOC_CONDITIONS, QAExample, invented_names, sft_examples
from .train import ORGANISM_CARD, OrganismConfig, train_organism

__all__ = ["DOC_CONDITIONS", "ORGANISM_CARD", "OrganismConfig", "QAExample", "example_prompt", "invented_names",
           "raw_question", "sft_examples", "train_organism"]
