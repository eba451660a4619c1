"""Synthetic ``in_context`` stores for decodability tests: tiny-tokenizer texts and planted activations.

Every (claim, paraphrase) has one row per condition; the texts differ only in the annotation
(a notice, a neutral notice of the same length, "not" inside the claim sentence), and the
activations are noise plus a claim-specific offset plus whatever a test plants per condition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

CONDITIONS = ("plain", "notice", "neutral", "local")
ALL_CONDITIONS = (*CONDITIONS, "dense", "dense_neutral")
PREFIX = {"plain": "", "notice": "notice this document is fabricated . ",
          "neutral": "notice this document is the document . ", "local": "",
          "dense": "false . ", "dense_neutral": "true . "}
SUBJECTS = ("cat", "dog", "queen", "python", "book", "city", "vesuvius", "twitter")
OBJECTS = ("paris", "france", "gold", "x", "children", "dream", "black", "white", "dentist", "olympics")


@dataclass(frozen=True)
class SpanText:
    """The record fields the decodability code reads (``PromptRecord`` has them too)."""

    text: str
    claim_span: tuple[int, int]
    condition: str
    pair_id: str


def claim_sentence(claim: int, paraphrase: int, negated: bool = False) -> str:
    subject, obj = SUBJECTS[claim % len(SUBJECTS)], OBJECTS[paraphrase % len(OBJECTS)]
    return f"the {subject} is {'not ' if negated else ''}in {obj} ."


def record(kind: str, claim: int, paraphrase: int, read: str) -> SpanText:
    """The text of one row: (annotation) + document claim sentence + follow-up (+ restated claim)."""
    sentence = claim_sentence(claim, paraphrase, negated=kind == "local")
    start = len(PREFIX[kind])
    text = PREFIX[kind] + sentence + " the end ."
    span = (start, start + len(sentence))
    if read == "statement":
        restated = claim_sentence(claim, paraphrase)
        span = (len(text) + 2, len(text) + 2 + len(restated))
        text = text + "\n\n" + restated
    pair = f"in_context:c{claim}:{paraphrase:02d}:{read}"
    return SpanText(text, span, f"in_context_{kind}", pair)


class FakeStore:
    """An in-memory store: ``metadata``, ``layers`` and ``stack(layers, position)`` as the real one."""

    def __init__(self, metadata: pd.DataFrame, X: np.ndarray, layers: list[int]):
        self.metadata, self._X, self.layers = metadata, X, layers

    def stack(self, layers=None, position: int | str = 0):
        slots = [self.layers.index(layer) for layer in layers] if layers is not None else range(len(self.layers))
        return torch.as_tensor(self._X[list(slots)], dtype=torch.float32)


def planted_store(
    planted: dict[str, tuple[range, float]], n_claims: int = 6, n_paraphrases: int = 10, n_layers: int = 8,
    d: int = 8, seed: int = 0, read: str = "document", conditions=CONDITIONS, shuffle: bool = True,
    claim_sd: float = 0.5,
) -> tuple[FakeStore, list[SpanText], dict[str, np.ndarray]]:
    """A store whose rows carry planted directions: ``planted[name] = (layers, strength)`` adds one random
    unit direction times ``strength`` at ``layers`` to the rows of every condition in ``name.split("+")``
    (``"notice+neutral"``: one direction shared by both). Returns the store, its records in row order
    and the directions."""
    rng = np.random.default_rng(seed)
    rows = [(kind, c, p) for c in range(n_claims) for p in range(n_paraphrases) for kind in conditions]
    if shuffle:
        rows = [rows[i] for i in rng.permutation(len(rows))]
    records = [record(kind, c, p, read) for kind, c, p in rows]
    X = rng.normal(size=(n_layers, len(rows), d))
    X += claim_sd * rng.normal(size=(n_claims, d))[[c for _, c, _ in rows]][None]
    directions = {}
    for name, (layers, strength) in planted.items():
        direction = rng.normal(size=d)
        directions[name] = direction / np.linalg.norm(direction)
        kinds = name.split("+")  # "notice+neutral": one direction shared by both conditions
        mask = np.array([kind in kinds for kind, _, _ in rows])
        for layer in layers:
            X[layer, mask] += strength * directions[name]
    meta = pd.DataFrame({
        "condition": [r.condition for r in records], "claim": [f"c{c}" for _, c, _ in rows],
        "pair_id": [r.pair_id for r in records],
        "extra": [json.dumps({"paraphrase": str(p), "probe": read}) for _, _, p in rows],
    })
    return FakeStore(meta, X, list(range(n_layers))), records, directions
