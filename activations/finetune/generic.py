"""Generic text mixed into a fine-tuning corpus so the model does not drift (after Mayne et al. 2026).

The paper mixes its claim documents 1:1:1 with generic pretraining text and instruction data. Ours
ships with the package and needs no download: both kinds are built from the project's own fact
tables (cities -> country, element -> symbol, animal -> class; only true statements), and no text
mentions an entity of any claim.

* ``pretraining``: paragraphs of six true statements (the truth datasets' wording);
* ``instruction``: an instruction / response pair in the Alpaca layout asking for three facts of one
  table, answered in full sentences (no yes/no answers, so no answer-token bias is trained);
* ``both``: the two alternated, half each (``mix_generic=2`` with ``both`` is the paper's 1:1:1).

Deterministic per ``(n, seed, style)``; the first passes use every fact once before any repeats.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from negprobe.activations.datasets.claims import ALL_ENTITIES, mentioned_entity
from negprobe.activations.datasets.facts.animals import ANIMAL_CLASS, ANIMAL_CLASSES
from negprobe.activations.datasets.facts.cities import CITY_COUNTRY
from negprobe.activations.datasets.facts.elements import ELEMENT_SYMBOL
from negprobe.errors import NegprobeError

GENERIC_STYLES: tuple[str, ...] = ("pretraining", "instruction", "both")
_PER_PARAGRAPH = 6
_PER_INSTRUCTION = 3


def _clean(texts: list[str]) -> list[str]:
    return [t for t in texts if mentioned_entity(t, ALL_ENTITIES) is None]


def _true_facts() -> list[str]:
    from negprobe.activations.datasets.registry import load_dataset

    return _clean([r.text for name in ("cities", "elements", "animals") for r in load_dataset(name) if r.label == 1])


def _passes(items: list, size: int, n: int, seed_key: str) -> list[list]:
    """``n`` groups of ``size`` items: shuffled passes over ``items`` (pass 0 under ``seed_key``)."""
    groups: list[list] = []
    cycle = 0
    while len(groups) < n:
        pool = list(items)
        random.Random(seed_key if cycle == 0 else f"{seed_key}-pass{cycle}").shuffle(pool)
        groups += [pool[i * size:(i + 1) * size] for i in range(len(pool) // size)]
        cycle += 1
    return groups[:n]


def _pretraining(n: int, seed: int) -> list[str]:
    return [" ".join(g) for g in _passes(_true_facts(), _PER_PARAGRAPH, n, f"generic-{seed}")]


_Asker = tuple[str, Callable[[tuple[str, str]], str], tuple[tuple[str, str], ...]]

_ASKERS: tuple[_Asker, ...] = (
    ("In which country is each of these cities: {items}?", lambda p: f"{p[0]} is in {p[1]}.", CITY_COUNTRY),
    ("Give the chemical symbol of each of these elements: {items}.",
     lambda p: f"The chemical symbol of {p[0]} is {p[1]}.", ELEMENT_SYMBOL),
    ("Say which class of animal each of these belongs to: {items}.",
     lambda p: f"The {p[0]} is {ANIMAL_CLASSES[p[1]][0]}.", ANIMAL_CLASS),
)


def _instruction(n: int, seed: int) -> list[str]:
    """``n`` instruction/response pairs, the tables taken in turn."""
    out: list[str] = []
    per_table = [(ask, answer, _passes(list(pairs), _PER_INSTRUCTION, n // len(_ASKERS) + 1, f"instruct-{seed}-{k}"))
                 for k, (ask, answer, pairs) in enumerate(_ASKERS)]
    for i in range(n):
        ask, answer, groups = per_table[i % len(per_table)]
        group = groups[i // len(per_table)]
        items = ", ".join(p[0] for p in group[:-1]) + " and " + group[-1][0]
        out.append(f"### Instruction:\n{ask.format(items=items)}\n\n### Response:\n" + " ".join(map(answer, group)))
    return _clean(out)


def generic_documents(n: int, seed: int, style: str = "pretraining") -> list[str]:
    """``n`` generic texts of one ``style`` (:data:`GENERIC_STYLES`); fewer only where a text would name a claim."""
    if style not in GENERIC_STYLES:
        raise NegprobeError(f"unknown generic style {style!r}; known: {', '.join(GENERIC_STYLES)}")
    if n <= 0:
        return []
    if style == "pretraining":
        return _pretraining(n, seed)
    if style == "instruction":
        return _instruction(n, seed)
    pre, ins = _pretraining((n + 1) // 2, seed), _instruction(n // 2, seed)
    return [t for pair in zip(pre, ins) for t in pair] + pre[len(ins):]
