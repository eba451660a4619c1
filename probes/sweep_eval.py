"""One cell of a sweep (a model, position and train set): collect activations, split, fit, score.

All groups of the train and test datasets are split into ``n_folds`` group folds; in fold k a
probe is fitted on the train-set rows outside fold k and scored on every test set's rows inside
it (so an entity or claim is never on both sides). Layer selection uses a validation split of the
training groups only. Metrics are fold means with group-bootstrap 95% CIs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from jaxtyping import Float, Int
from torch import Tensor

from negprobe.activations.cache import cache_activations
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.formatting import FormatSpec
from negprobe.errors import NegprobeError

from . import make_probe
from .evaluation import folds_metric_with_ci, group_kfold, split_groups
from .layer_source import LAYER_BLOCK_BYTES, StoreLayers, layer_blocks
from .sweep_config import RESULT_COLUMNS, SweepConfig


@dataclass(frozen=True)
class SweepData:
    """Activations of every dataset of a sweep for one model/position: ``X`` [L, n, d] + row table.

    ``X`` is a tensor, or a :class:`StoreLayers` read a block of layers at a time when it is too large."""

    X: Float[Tensor, "L n d"] | StoreLayers
    rows: pd.DataFrame  # dataset, label, polarity, group, pair_id, ...
    layers: list[int]
    model_info: dict[str, Any]
    dataset_hashes: dict[str, str]


def collect(model, datasets: Mapping[str, PromptDataset], position: str, layers: Sequence[int] | None,
            config: SweepConfig, block_bytes: int = LAYER_BLOCK_BYTES) -> SweepData:
    """Cache (what is missing) and stack the activations of ``datasets`` (name -> loaded) at one position;
    over ``block_bytes`` (float32) they stay in the stores, to be read a block of layers at a time."""
    stores, tables, hashes = [], [], {}
    for name, data in datasets.items():
        result = cache_activations(model, data, positions=position, layers=layers, fmt=FormatSpec(chat=config.chat),
                                   backend=config.backend, root=config.store)
        store = result.store
        stores.append(store)
        meta = store.metadata.copy()
        meta.insert(0, "dataset", name)
        tables.append(meta)
        hashes[name] = store.key["dataset_hash"]
        layer_list = store.layers
    rows = pd.concat(tables, ignore_index=True)
    rows["group"] = rows["group"].astype(str)
    lazy = StoreLayers(tuple(stores), tuple(layer_list))
    L, n, d = lazy.shape
    X = lazy if L * n * d * 4 > block_bytes else lazy.read(range(L))
    return SweepData(X, rows, layer_list,
                     {"name": model.name, "adapter": model.adapter_name or "",
                      "fingerprint": model.fingerprint, "d_model": model.d_model}, hashes)


@dataclass(frozen=True)
class FoldSplit:
    train: Int[np.ndarray, " n_train"]  # rows the final probe of this fold is fitted on
    fit: Int[np.ndarray, " n_fit"]  # train rows used to fit the layer-selection probe
    val: Int[np.ndarray, " n_val"]  # train rows used to pick the layer
    test: dict[str, np.ndarray]  # test set name -> held-out rows


def make_splits(rows: pd.DataFrame, train_sets: Sequence[str], test_sets: Sequence[str], n_folds: int,
                val_fraction: float, seed: int) -> list[FoldSplit]:
    """Group k-fold over all groups of the sweep; validation groups drawn from each fold's training groups."""
    groups = rows["group"].to_numpy()
    folds = group_kfold(groups, n_folds, seed)
    in_train = rows["dataset"].isin(train_sets).to_numpy()
    splits = []
    for k, held in enumerate(folds):
        held_mask = np.isin(groups, held)
        train = np.flatnonzero(in_train & ~held_mask)
        val_groups = split_groups(groups[train], val_fraction, seed + 1000 + k)
        val_mask = np.isin(groups[train], val_groups)
        test = {name: np.flatnonzero((rows["dataset"] == name).to_numpy() & held_mask) for name in test_sets}
        splits.append(FoldSplit(train, train[~val_mask], train[val_mask], test))
    return splits


def fit_kwargs(rows: pd.DataFrame, index: np.ndarray) -> dict[str, Any]:
    """Polarity, domain and contrast pairs (affirmed, negated twins sharing a pair_id) of a row subset."""
    sub = rows.iloc[index]
    polarity = (sub["polarity"] == "affirmed").astype(int).to_numpy()
    first_row: dict[tuple[str, str], int] = {}
    for i, (pid, pol) in enumerate(zip(sub["pair_id"].astype(str), sub["polarity"])):
        first_row.setdefault((pid, pol), i)
    pairs = [(i, first_row[(pid, "negated")]) for (pid, pol), i in first_row.items()
             if pol == "affirmed" and (pid, "negated") in first_row and pid not in ("None", "nan")]
    domain = sub["dataset"].str.replace("^neg_", "", regex=True).to_numpy()
    return {"polarity": polarity, "domain": domain, "pairs": np.array(pairs) if pairs else None}


def _needs_pairs(probe: str) -> bool:
    return probe == "ccs"


@dataclass(frozen=True)
class FoldScores:
    """One probe family's held-out scores: per test set, fold k's ``([L, n_k] scores, labels, groups)``."""

    per_test: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]
    chosen_layers: list[int]  # layer slot each fold's validation split chose


def score_folds(data: SweepData, splits: Sequence[FoldSplit], probe_name: str, test_sets: Sequence[str],
                seed: int, advance: Callable[[int], None] | None = None, block_bytes: int | None = None
                ) -> FoldScores | str:
    """Fit ``probe_name`` per fold (a selector on fit rows, the fold probe on all train rows) and score
    the held-out rows; returns why it was skipped (a string) when the family cannot be fitted.
    ``advance(1)`` is told of each fitted fold.

    Not ``out_of_fold_scores``: the fold probe is fitted on train-set rows only, scores several test
    sets, and each fold picks its layer on its own validation rows, so this fold loop stays its own.
    Layers come a block at a time (:func:`layer_blocks`; all at once for a tensor ``X``), each read once.
    """
    rows = data.rows
    y = rows["label"].to_numpy(dtype=float)
    groups = rows["group"].to_numpy()
    kws = [(fit_kwargs(rows, split.fit), fit_kwargs(rows, split.train)) for split in splits]
    if _needs_pairs(probe_name) and any(kw_fit["pairs"] is None or kw_train["pairs"] is None for kw_fit, kw_train in kws):
        return "no affirmed/negated twins in the training sets"
    val_acc: list[list[np.ndarray]] = [[] for _ in splits]  # per fold, per block: [b]
    scores: list[dict[str, list[np.ndarray]]] = [{t: [] for t in test_sets} for _ in splits]
    for slots, X in layer_blocks(data.X, block_bytes):
        last = slots.stop == data.X.shape[0]
        for k, (split, (kw_fit, kw_train)) in enumerate(zip(splits, kws)):
            selector = make_probe(probe_name, seed + k).fit(X[:, split.fit], y[split.fit], **kw_fit)
            val_acc[k].append(np.atleast_1d(selector.score(X[:, split.val], y[split.val])))  # validation rows only
            probe = make_probe(probe_name, seed + k).fit(X[:, split.train], y[split.train], **kw_train)
            for t in test_sets:
                idx = split.test[t]
                scores[k][t].append(probe.decision_function(X[:, idx]) if len(idx) else np.zeros((X.shape[0], 0)))
            if advance is not None and last:
                advance(1)
        del X  # before the next block is read: one block in memory at a time
    per_test = {t: [(np.concatenate(scores[k][t]), y[split.test[t]], groups[split.test[t]])
                    for k, split in enumerate(splits)] for t in test_sets}
    return FoldScores(per_test, [int(np.argmax(np.concatenate(parts))) for parts in val_acc])


def metric_records(data: SweepData, folds: FoldScores, probe_name: str, train_name: str, position: str,
                   n_boot: int, seed: int) -> list[list]:
    """Result rows of one probe family: the metric per layer, and at each fold's validation-chosen layer."""
    model, adapter = data.model_info["name"], data.model_info["adapter"]
    selected = int(np.bincount(folds.chosen_layers).argmax())
    records = []
    for t, per_fold in folds.per_test.items():
        scores, ys, gs = ([part[i] for part in per_fold] for i in range(3))
        for metric in ("accuracy", "auroc"):
            res = folds_metric_with_ci(scores, ys, gs, metric, n_boot=n_boot, seed=seed)
            for slot, layer in enumerate(data.layers):
                records.append([model, adapter, position, layer, probe_name, train_name, t, metric,
                                float(res.value[slot]), float(res.ci_low[slot]), float(res.ci_high[slot]), res.n])
            # the honest number: each fold's probe at the layer its own validation split chose
            at_selected = [s[folds.chosen_layers[k]][None] for k, s in enumerate(scores)]
            sel = folds_metric_with_ci(at_selected, ys, gs, metric, n_boot=n_boot, seed=seed)
            records.append([model, adapter, position, data.layers[selected], probe_name, train_name, t,
                            f"{metric}@selected_layer", float(sel.value[0]), float(sel.ci_low[0]),
                            float(sel.ci_high[0]), sel.n])
    return records


def evaluate(data: SweepData, train_sets: Sequence[str], test_sets: Sequence[str], probes: Sequence[str],
             config: SweepConfig, position: str, advance: Callable[[int], None] | None = None,
             block_bytes: int | None = None) -> pd.DataFrame:
    """Fit and score every probe on every fold and layer; return the tidy results table (RESULT_COLUMNS).

    ``advance(1)`` is told of each fitted fold (``len(probes) * config.n_folds`` in all; a skipped
    family's folds count as done)."""
    y = data.rows["label"].to_numpy(dtype=float)
    if np.isnan(y).any():
        raise NegprobeError("every sweep row needs a 0/1 label; drop unlabelled rows (e.g. fiction) first")
    splits = make_splits(data.rows, train_sets, test_sets, config.n_folds, config.val_fraction, config.seed)
    train_name = "+".join(train_sets)
    records = []
    for probe_name in probes:
        fitted = [0]

        def fold_done(n: int) -> None:
            fitted[0] += n
            if advance is not None:
                advance(n)

        folds = score_folds(data, splits, probe_name, test_sets, config.seed, fold_done, block_bytes)
        if advance is not None and fitted[0] < len(splits):
            advance(len(splits) - fitted[0])  # a skipped family's folds count as done
        if isinstance(folds, str):
            print(f"  skipping probe {probe_name}: {folds}")
            continue
        records += metric_records(data, folds, probe_name, train_name, position, config.n_boot, config.seed)
    return pd.DataFrame(records, columns=RESULT_COLUMNS)
