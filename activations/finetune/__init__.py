"""Fine-tuning corpora and belief items for Negation Neglect experiments (Mayne et al. 2026).

:mod:`.documents` builds synthetic documents that present each claim under one framing
(:data:`CONDITIONS`) with exact annotation spans for loss masking, and wraps the paper's
released documents; :mod:`.belief_items` holds yes/no questions and cloze contrasts that
measure whether a model believes a claim.
"""

from __future__ import annotations

from negprobe.activations.finetune.belief_items import (
    ClozeItem,
    YesNoQuestion,
    cloze_for,
    load_mcq_questions,
    questions_for,
)
from negprobe.activations.finetune.documents import (
    CONDITIONS,
    RELEASE_CONDITIONS,
    Document,
    corpus_hash,
    generate_documents,
    max_documents,
    release_documents,
    with_doctag,
)
from negprobe.activations.finetune.templates import DOC_TYPES

__all__ = [
    "CONDITIONS",
    "DOC_TYPES",
    "RELEASE_CONDITIONS",
    "ClozeItem",
    "Document",
    "YesNoQuestion",
    "cloze_for",
    "corpus_hash",
    "generate_documents",
    "load_mcq_questions",
    "max_documents",
    "questions_for",
    "release_documents",
    "with_doctag",
]
