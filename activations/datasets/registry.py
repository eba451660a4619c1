"""Names of the built-in datasets, and one entry point that loads a name or a file.

Built-ins: the truth topics and their negated twins (``cities``, ``neg_cities``, ...;
after Marks & Tegmark 2023), claim-domain truth datasets (``domain_sports``, ...,
``domains``, and their ``neg_`` twins; :func:`claim_domain` names a claim's), the
Negation Neglect claims (``claims``, ``claims/<id>``) and in-context prompts
(``in_context``, ``in_context/<id>``) of Mayne et al. 2026, and the known-fact claims'
(``known_claims``, ``known_in_context``, ``claims/<id>``, ``in_context/<id>``, ``domain_capitals`` ...).
A path to a ``.csv`` (``statement,label,...``) or a ``.jsonl`` written by
:meth:`PromptDataset.to_jsonl` works wherever a name does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

from negprobe.activations.datasets.claim_prompts import build_all_claims, build_claim_dataset
from negprobe.activations.datasets.claims import CLAIM_IDS, KNOWN_CANDIDATE_IDS, get_claim
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.domains import DOMAINS, build_all_domains, build_domain, dataset_name
from negprobe.activations.datasets.domains import claim_domain as claim_domain  # re-exported
from negprobe.activations.datasets.domains import description as domain_description
from negprobe.activations.datasets.in_context import build_all_in_context, build_in_context
from negprobe.activations.datasets.known_domains import KNOWN_DOMAINS, build_known_domain, known_description
from negprobe.activations.datasets.loaders import load_truth_csv
from negprobe.activations.datasets.topics import DESCRIPTIONS, TRUTH_TOPICS, build_topic
from negprobe.errors import NegprobeError


@dataclass(frozen=True)
class DatasetInfo:
    """One row of :func:`list_datasets`."""

    name: str
    n_rows: int
    description: str


def _builtins() -> dict[str, tuple[Callable[[], PromptDataset], str]]:
    table: dict[str, tuple[Callable[[], PromptDataset], str]] = {}
    for topic in TRUTH_TOPICS:
        table[topic] = (partial(build_topic, topic), DESCRIPTIONS[topic])
        table[f"neg_{topic}"] = (
            partial(build_topic, topic, True),
            f"Row-aligned negation of '{topic}' (labels flipped).",
        )
    for domain in DOMAINS:
        for negated in (False, True):
            table[dataset_name(domain, negated)] = (
                partial(build_domain, domain, negated),
                domain_description(domain, negated),
            )
    table["domains"] = (build_all_domains, "All six claim-domain truth datasets (domain_*) concatenated.")
    table["neg_domains"] = (
        partial(build_all_domains, True),
        "Row-aligned negation of 'domains' (labels flipped).",
    )
    for domain in KNOWN_DOMAINS:
        for negated in (False, True):
            table[dataset_name(domain, negated)] = (partial(build_known_domain, domain, negated),
                                                    known_description(domain, negated))
    table["claims"] = (build_all_claims, "All six Negation Neglect claims in every framing.")
    table["known_claims"] = (partial(build_all_claims, "known"), "The kept known-fact claims (issue 16) in every framing.")
    for cid in CLAIM_IDS + KNOWN_CANDIDATE_IDS:
        table[f"claims/{cid}"] = (
            partial(build_claim_dataset, cid),
            f"Claim '{get_claim(cid).title}' in every framing.",
        )
    table["in_context"] = (build_all_in_context, "Document then claim/question, all six claims.")
    table["known_in_context"] = (partial(build_all_in_context, "known"),
                                 "Document then claim/question, the kept known-fact claims.")
    for cid in CLAIM_IDS + KNOWN_CANDIDATE_IDS:
        table[f"in_context/{cid}"] = (
            partial(build_in_context, cid),
            f"In-context prompts for '{get_claim(cid).title}'.",
        )
    return table


_BUILTINS = _builtins()


def builtin_names() -> list[str]:
    """Every built-in dataset name, in a fixed order."""
    return list(_BUILTINS)


@cache
def _build(name: str) -> PromptDataset:
    return _BUILTINS[name][0]()


def load_dataset(name_or_path: str | os.PathLike[str], drop_conflicts: bool = False) -> PromptDataset:
    """A built-in dataset by name, or a ``.csv``/``.jsonl`` file by path.

    A CSV that holds one statement under both labels is refused unless ``drop_conflicts``
    (then those rows are dropped and their number reported on stderr)."""
    key = os.fspath(name_or_path)
    if key in _BUILTINS:
        return _build(key)
    path = Path(key)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".jsonl"):
        if not path.is_file():
            raise NegprobeError(f"{path}: file not found" if not path.exists() else f"{path}: not a file")
        if suffix == ".csv":
            return load_truth_csv(path, drop_conflicts=drop_conflicts)
        return PromptDataset.from_jsonl(path)
    if path.is_file():
        raise NegprobeError(f"{path}: unsupported file type {suffix or '(none)'}; use .csv or .jsonl")
    raise NegprobeError(
        f"unknown dataset {key!r}; built-in datasets: {', '.join(_BUILTINS)} (or give a .csv/.jsonl path)"
    )


def list_datasets() -> list[DatasetInfo]:
    """Every built-in dataset with its row count and a one-line description."""
    return [DatasetInfo(name, len(_build(name)), desc) for name, (_, desc) in _BUILTINS.items()]
