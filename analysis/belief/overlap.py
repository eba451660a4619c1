"""Word n-grams a belief prompt shares with the training documents of its claim.

A cloze prompt that repeats a training sentence measures recall of that sentence, not belief
(Mayne et al. 2026 evaluate with questions written apart from the documents). The corpus is
built through :func:`negprobe.activations.finetune.documents.generate_documents` for every
training condition, so whatever those documents become, the check follows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from negprobe.activations.finetune.documents import TRAINING_CONDITIONS, generate_documents, max_documents

_WORD = re.compile(r"[a-z0-9]+")

#: Documents per condition and seed drawn for the n-gram set (every template, paraphrase and
#: filler is reached well before this many: the corpora recombine a small pool of sentences).
CORPUS_DOCS = 300


def word_ngrams(text: str, n: int = 5) -> set[tuple[str, ...]]:
    """Lower-cased word n-grams of ``text`` (letters and digits; punctuation separates words)."""
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def training_ngrams(claim_id: str, n: int = 5, seeds: Iterable[int] = (0, 1),
                    conditions: Iterable[str] = TRAINING_CONDITIONS) -> set[tuple[str, ...]]:
    """Every word n-gram of the claim's synthetic training documents, over ``conditions`` and ``seeds``."""
    count = min(CORPUS_DOCS, max_documents(claim_id))
    grams: set[tuple[str, ...]] = set()
    for condition in conditions:
        for seed in seeds:
            for doc in generate_documents(claim_id, condition, n=count, seed=seed):
                grams |= word_ngrams(doc.text, n)
    return grams


def shared_ngrams(text: str, grams: set[tuple[str, ...]], n: int = 5) -> list[str]:
    """The n-grams of ``text`` that are in ``grams``, as strings (empty when the text is novel)."""
    return sorted(" ".join(g) for g in word_ngrams(text, n) & grams)
