"""Matched contrasts of the ``in_context`` dataset: decodability of an annotation against the same document without it.

Each contrast pairs rows of two conditions that share claim and paraphrase, so the texts differ in
the annotation alone (the notice against no notice, against a truth-neutral notice of matched
length and position, dense notes against neutral notes, in-sentence negation against the plain
sentence). Two read positions, each the last token of a span with identical tokens across the
conditions of a contrast except where the annotation itself sits in it:

- ``document claim``: the claim sentence inside the document (records with extra ``probe=document``);
- ``restated claim``: the claim restated after the document (``probe=statement``).

:func:`matched_contrasts` returns a :class:`~negprobe.analysis.annotation.DecodabilityCurve` per
:class:`ContrastKey`, each with its layer-0 and bag-of-tokens baselines. Decodability shows the
annotation's presence in the representation, not that the model uses it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import torch
from jaxtyping import Float

from negprobe.errors import NegprobeError

from .annotation import DecodabilityCurve, annotation_decodability
from .surface_baseline import SpanRecord, bag_of_tokens

#: Short kind -> ``in_context`` record condition.
IN_CONTEXT = {
    "plain": "in_context_plain", "notice": "in_context_notice", "neutral": "in_context_neutral",
    "dense": "in_context_dense", "dense_neutral": "in_context_dense_neutral", "local": "in_context_local",
}
#: (annotated, comparison) kinds, in report order; the neutral-vs-plain rows are controls (any notice at all).
CONTRASTS: tuple[tuple[str, str], ...] = (
    ("notice", "plain"), ("notice", "neutral"), ("neutral", "plain"),
    ("dense", "plain"), ("dense", "dense_neutral"), ("dense_neutral", "plain"),
    ("local", "plain"),
)
#: Record extra ``probe`` -> read position name.
READS = {"document": "document claim", "statement": "restated claim"}
#: Annotation kind -> the annotation family (figure panel, findings line) it belongs to.
FAMILY = {"notice": "notice", "neutral": "notice", "dense": "dense", "dense_neutral": "dense", "local": "local"}
#: Per family, the contrasts that isolate the annotation, best first (the findings line reads the first present).
PRIMARY = {"notice": (("notice", "neutral"), ("notice", "plain")),
           "dense": (("dense", "dense_neutral"), ("dense", "plain")),
           "local": (("local", "plain"),)}


@dataclass(frozen=True)
class ContrastKey:
    """One matched contrast at one read position."""

    annotation: str  # a key of IN_CONTEXT (the rows labelled 1)
    comparison: str  # a key of IN_CONTEXT (the rows labelled 0)
    read: str  # a value of READS

    @property
    def family(self) -> str:
        return FAMILY[self.annotation]

    @property
    def is_control(self) -> bool:
        """A neutral annotation against plain: is any notice at all decodable?"""
        return self.annotation in ("neutral", "dense_neutral")

    @property
    def label(self) -> str:
        return f"{self.annotation} vs {self.comparison}"


class StoreLike(Protocol):
    """What :func:`matched_contrasts` reads of an activation store."""

    @property
    def metadata(self) -> pd.DataFrame: ...

    @property
    def layers(self) -> list[int]: ...

    def stack(self, layers=None, position: int | str = 0) -> Float[torch.Tensor, "n_layers n_rows d_model"]: ...


def _paraphrases(meta: pd.DataFrame) -> np.ndarray:
    """Each row's paraphrase index (record extra ``paraphrase``; the pair id where absent)."""
    if "extra" in meta:
        found = [json.loads(e).get("paraphrase") if isinstance(e, str) else None for e in meta["extra"]]
        if all(p is not None for p in found):
            return np.asarray(found, dtype=str)
    return meta["pair_id"].astype(str).to_numpy()


def matched_rows(meta: pd.DataFrame, annotation: str, comparison: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of a contrast matched on (claim, paraphrase): ``(row index, label, group)``.

    Only (claim, paraphrase) keys present in both conditions are kept; the group is the claim, or
    the paraphrase when there is a single claim. Empty arrays when either condition is absent.
    """
    condition = meta["condition"].astype(str).to_numpy()
    keys = np.array([f"{c}\x00{p}" for c, p in zip(meta["claim"].astype(str), _paraphrases(meta))], dtype=str)
    rows = {}
    for kind, label in ((annotation, 1), (comparison, 0)):
        idx = np.flatnonzero(condition == IN_CONTEXT[kind])
        if len(np.unique(keys[idx])) != len(idx):
            raise NegprobeError(f"condition {IN_CONTEXT[kind]} has more than one row per claim and paraphrase")
        rows[label] = dict(zip(keys[idx], idx))
    shared = sorted(set(rows[0]) & set(rows[1]))
    idx = np.array([rows[label][k] for k in shared for label in (1, 0)], dtype=int)
    labels = np.tile([1, 0], len(shared))
    claims = meta["claim"].astype(str).to_numpy()[idx] if len(idx) else np.array([], dtype=str)
    groups = claims if len(np.unique(claims)) > 1 else np.array([k.split("\x00")[1] for k in shared for _ in (1, 0)])
    return idx, labels, groups


def _aligned_records(meta: pd.DataFrame, records: Sequence[SpanRecord]) -> None:
    if len(records) != len(meta):
        raise NegprobeError(f"{len(records)} records for a store of {len(meta)} rows")
    for column in ("condition", "pair_id"):
        got = [getattr(r, column, None) for r in records]
        if column in meta and all(g is not None for g in got) and list(meta[column].astype(str)) != list(map(str, got)):
            raise NegprobeError(f"the records' {column}s are not in the store's row order")


def matched_contrasts(  # long: loops over read positions and contrasts, one decodability curve each
    stores_by_probe: Mapping[str, StoreLike], tokenizer, records_by_probe: Mapping[str, Sequence[SpanRecord]] | None,
    layers: list[int] | None = None, seed: int = 0, n_boot: int = 200, probe: str = "logistic",
    position: str = "claim_last",
) -> dict[ContrastKey, DecodabilityCurve]:
    """Decodability with surface baselines of every matched contrast present in the stores.

    ``stores_by_probe`` maps the record extra ``probe`` (``"document"``, ``"statement"``) to the store
    of those in_context rows, cached at ``position``; ``records_by_probe`` gives the same rows'
    records in store order (for the bag-of-tokens baseline; ``tokenizer=None`` skips that
    baseline). ``layers`` default to each store's own.
    """
    unknown = sorted(set(stores_by_probe) - set(READS))
    if unknown:
        raise NegprobeError(f"read positions must be among {', '.join(READS)}, got {', '.join(unknown)}")
    out: dict[ContrastKey, DecodabilityCurve] = {}
    for read_probe, store in stores_by_probe.items():
        meta = store.metadata
        X = store.stack(layers, position=position)
        tokens = None
        if tokenizer is not None:
            records = (records_by_probe or {}).get(read_probe)
            if records is None:
                raise NegprobeError(f"a bag-of-tokens baseline needs the {read_probe!r} records")
            _aligned_records(meta, records)
            tokens = bag_of_tokens(tokenizer, records)
        for annotation, comparison in CONTRASTS:
            idx, labels, groups = matched_rows(meta, annotation, comparison)
            if not len(idx):
                continue
            rows = X[:, torch.from_numpy(idx)] if isinstance(X, torch.Tensor) else X[:, idx]
            unit = "claim" if meta["claim"].astype(str).iloc[idx].nunique() > 1 else "paraphrase"
            out[ContrastKey(annotation, comparison, READS[read_probe])] = annotation_decodability(
                rows, labels, groups, layers=list(layers if layers is not None else store.layers), probe=probe,
                seed=seed, n_boot=n_boot, tokens=None if tokens is None else tokens[idx], unit=unit)
    return out
