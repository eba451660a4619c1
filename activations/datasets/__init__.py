"""Prompt datasets for probing truth and negation (issue 3).

One record type (:class:`PromptRecord`), one collection (:class:`PromptDataset`),
built-in truth topics after Marks & Tegmark 2023 / Buerger et al. 2024, the six
Negation Neglect claims of Mayne et al. 2026 in every framing, loaders for external
CSVs and the paper's release, prompt formatting that keeps claim spans aligned, and a
registry (:func:`load_dataset`, :func:`list_datasets`).
"""

from __future__ import annotations

from negprobe.activations.datasets.claims import CLAIM_IDS, Claim, get_claim, list_claims
from negprobe.activations.datasets.dataset import PromptDataset, concat
from negprobe.activations.datasets.formatting import FormatSpec, FormattedPrompt, format_dataset, format_prompt
from negprobe.activations.datasets.loaders import (
    ReleaseClaim,
    ReleaseQuestion,
    SdfDocument,
    check_negation_pairs,
    load_release_claim,
    load_sdf_documents,
    load_truth_csv,
)
from negprobe.activations.datasets.records import CONDITIONS, POLARITIES, PromptRecord
from negprobe.activations.datasets.registry import DatasetInfo, builtin_names, list_datasets, load_dataset
from negprobe.activations.datasets.topics import TRUTH_TOPICS

__all__ = [
    "CLAIM_IDS",
    "CONDITIONS",
    "POLARITIES",
    "TRUTH_TOPICS",
    "Claim",
    "DatasetInfo",
    "FormatSpec",
    "FormattedPrompt",
    "PromptDataset",
    "PromptRecord",
    "ReleaseClaim",
    "ReleaseQuestion",
    "SdfDocument",
    "builtin_names",
    "check_negation_pairs",
    "concat",
    "format_dataset",
    "format_prompt",
    "get_claim",
    "list_claims",
    "list_datasets",
    "load_dataset",
    "load_release_claim",
    "load_sdf_documents",
    "load_truth_csv",
]
