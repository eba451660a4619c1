"""LoRA fine-tuning on synthetic claim documents (Mayne et al. 2026) and the corpus it trains on.

:mod:`.documents` builds synthetic documents that present each claim under one framing
(:data:`TRAINING_CONDITIONS`) with exact annotation spans for loss masking, and wraps the paper's
released documents (:data:`RELEASE_CONDITIONS`); :mod:`.templates`, :mod:`.document_topics` and
:mod:`.notice_pool` hold the wording; :mod:`.generic` the generic text mixed in against drift; :mod:`.train` trains the adapter (:func:`finetune`). Measuring whether a model
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
from negprobe.activations.finetune.generic import GENERIC_STYLES, generic_documents
from negprobe.activations.finetune.loop import StepReport
from negprobe.activations.finetune.notice_pool import Notice, deal_notices, max_notice_repeats, notice_pool, pool_size
from negprobe.activations.finetune.templates import DOC_TYPES
from negprobe.activations.finetune.train import TRAINING_CARD, FinetuneConfig, finetune

__all__ = [
    "DOCUMENT_TOPICS",
    "DOC_TYPES",
    "GENERIC_STYLES",
    "RELEASE_CONDITIONS",
    "TRAINING_CARD",
    "TRAINING_CONDITIONS",
    "Document",
    "StepReport",
    "DocumentTopic",
    "FinetuneConfig",
    "Notice",
    "corpus_hash",
    "deal_notices",
    "finetune",
    "generate_documents",
    "generic_documents",
    "max_documents",
    "max_notice_repeats",
    "notice_pool",
    "pool_size",
    "release_documents",
    "with_doctag",
]
