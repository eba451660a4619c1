"""LoRA fine-tuning on synthetic claim documents (Mayne et al. 2026) and the corpus it trains on.

:mod:`.documents` builds synthetic documents that present each claim under one framing
(:data:`TRAINING_CONDITIONS`) with exact annotation spans for loss masking, and wraps the paper's
released documents (:data:`RELEASE_CONDITIONS`); :mod:`.templates` and :mod:`.document_topics`
hold the wording; :mod:`.train` trains the adapter (:func:`finetune`). Measuring whether a model
then believes the claim is analysis: :mod:`negprobe.analysis.belief`.
"""

from __future__ import annotations

from negprobe.activations.finetune.document_topics import DOCUMENT_TOPICS, DocumentTopic
from negprobe.activations.finetune.documents import (
    RELEASE_CONDITIONS,
    TRAINING_CONDITIONS,
    Document,
    corpus_hash,
    generate_documents,
    max_documents,
    release_documents,
    with_doctag,
)
from negprobe.activations.finetune.loop import StepReport
from negprobe.activations.finetune.templates import DOC_TYPES
from negprobe.activations.finetune.train import TRAINING_CARD, FinetuneConfig, finetune

__all__ = [
    "DOCUMENT_TOPICS",
    "DOC_TYPES",
    "RELEASE_CONDITIONS",
    "TRAINING_CARD",
    "TRAINING_CONDITIONS",
    "Document",
    "StepReport",
    "DocumentTopic",
    "FinetuneConfig",
    "StepReport",
    "corpus_hash",
    "finetune",
    "generate_documents",
    "max_documents",
    "release_documents",
    "with_doctag",
]
