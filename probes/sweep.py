"""Probe sweeps: cache what is missing, fit every probe family on every layer, evaluate leakage-safely.

One sweep = models x adapters x positions x train sets x probes. For each model, all groups of
the train and test datasets are split into ``n_folds`` group folds; in fold k a probe is fitted on
the train-set rows outside fold k and scored on every test set's rows inside it (so an entity or
claim is never on both sides). Layer selection uses a validation split of the training groups
only. Metrics are fold means with group-bootstrap 95% CIs.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from negprobe.errors import NegprobeError

from . import PROBES, make_probe
from .artifact import file_slug, save_probe
from .evaluation import folds_metric_with_ci, group_kfold, split_groups

RESULT_COLUMNS = ["model", "adapter", "position", "layer", "probe", "train", "test", "metric", "value", "ci_low",
                  "ci_high", "n"]


@dataclass
class SweepConfig:
    """A sweep grid. ``train`` is a list of training sets, each a list of dataset names combined."""

    models: list[str] = field(default_factory=lambda: ["smollm2-135m"])
    adapters: list[str | None] = field(default_factory=lambda: [None])
    train: list[list[str]] = field(default_factory=lambda: [["cities", "neg_cities"]])
    test: list[str] = field(default_factory=list)
    probes: list[str] = field(default_factory=lambda: list(PROBES))
    positions: list[str] = field(default_factory=lambda: ["last"])
    layers: list[int] | None = None
    n_folds: int = 5
    val_fraction: float = 0.2
    seed: int = 0
    n_boot: int = 200
    chat: bool = False
    compute_dtype: str = "float32"
    backend: str = "hf"
    store: str | None = None
    out: str = "negprobe-out/sweep"

    def __post_init__(self):
        self.train = [[t] if isinstance(t, str) else list(t) for t in self.train]
        self.train = [[n for part in t for n in part.split(",")] for t in self.train]
        self.test = [n for part in self.test for n in part.split(",")]
        for name in self.probes:
            if name not in PROBES:
                raise NegprobeError(f"unknown probe {name!r}: use one of {', '.join(PROBES)}")
        if self.n_folds < 2:
            raise NegprobeError(f"n_folds must be at least 2, got {self.n_folds}")

    @classmethod
    def from_file(cls, path: str | Path) -> "SweepConfig":
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise NegprobeError(f"{path}: {exc.strerror}") from None
        try:
            if path.suffix == ".toml":
                import tomllib

                data = tomllib.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
        except Exception as exc:  # parse errors of either format
            raise NegprobeError(f"{path}: cannot parse sweep config ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise NegprobeError(f"{path}: a sweep config must be a mapping of fields")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise NegprobeError(f"{path}: unknown field(s) {', '.join(unknown)}; fields are {', '.join(cls.__dataclass_fields__)}")
        return cls(**data)


@dataclass
class SweepData:
    """Activations of every dataset of a sweep for one model/position: ``X`` [L, n, d] + row table."""

    X: torch.Tensor
    rows: pd.DataFrame  # dataset, label, polarity, group, pair_id, ...
    layers: list[int]
    model_info: dict[str, Any]
    dataset_hashes: dict[str, str]


def collect(model, dataset_names: Sequence[str], position: str, layers, config: SweepConfig) -> SweepData:
    """Cache (what is missing) and stack the activations of ``dataset_names`` at one position."""
    from negprobe.activations.cache import cache_activations
    from negprobe.activations.datasets.formatting import FormatSpec
    from negprobe.activations.datasets.registry import load_dataset

    blocks, tables, hashes = [], [], {}
    for name in dataset_names:
        data = load_dataset(name)
        result = cache_activations(model, data, positions=position, layers=layers, fmt=FormatSpec(chat=config.chat),
                                   backend=config.backend, root=config.store)
        store = result.store
        blocks.append(store.stack(position=0))  # [L, n, d]
        meta = store.metadata.copy()
        meta.insert(0, "dataset", name)
        tables.append(meta)
        hashes[name] = store.key["dataset_hash"]
        layer_list = store.layers
    rows = pd.concat(tables, ignore_index=True)
    rows["group"] = rows["group"].astype(str)
    return SweepData(torch.cat(blocks, 1), rows, layer_list,
                     {"name": model.name, "adapter": str(model.adapter) if model.adapter else "",
                      "fingerprint": model.fingerprint, "d_model": model.d_model}, hashes)


@dataclass
class FoldSplit:
    train: np.ndarray  # rows the final probe of this fold is fitted on
    fit: np.ndarray  # train rows used to fit the layer-selection probe
    val: np.ndarray  # train rows used to pick the layer
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


def evaluate(data: SweepData, train_sets: Sequence[str], test_sets: Sequence[str], probes: Sequence[str],
             config: SweepConfig, position: str, out_dir: Path | None = None) -> pd.DataFrame:
    """Fit and score every probe on every fold and layer; return the tidy results table."""
    rows, X = data.rows, data.X
    y = rows["label"].to_numpy(dtype=float)
    labelled = ~np.isnan(y)
    if not labelled.all():
        raise NegprobeError("every sweep row needs a 0/1 label; drop unlabelled rows (e.g. fiction) first")
    splits = make_splits(rows, train_sets, test_sets, config.n_folds, config.val_fraction, config.seed)
    train_name = "+".join(train_sets)
    records = []
    for probe_name in probes:
        fold_scores = {t: [] for t in test_sets}
        chosen_layers = []
        skipped = None
        for k, split in enumerate(splits):
            kw_fit = fit_kwargs(rows, split.fit)
            kw_train = fit_kwargs(rows, split.train)
            if _needs_pairs(probe_name) and (kw_fit["pairs"] is None or kw_train["pairs"] is None):
                skipped = "no affirmed/negated twins in the training sets"
                break
            selector = make_probe(probe_name, config.seed + k).fit(X[:, split.fit], y[split.fit], **kw_fit)
            val_acc = selector.score(X[:, split.val], y[split.val])  # [L]: validation rows only
            chosen_layers.append(int(np.argmax(val_acc)))
            probe = make_probe(probe_name, config.seed + k).fit(X[:, split.train], y[split.train], **kw_train)
            for t in test_sets:
                idx = split.test[t]
                fold_scores[t].append((probe.decision_function(X[:, idx]) if len(idx) else np.zeros((X.shape[0], 0)),
                                       y[idx], rows["group"].to_numpy()[idx]))
        if skipped:
            print(f"  skipping probe {probe_name}: {skipped}")
            continue
        selected = int(np.bincount(chosen_layers).argmax())
        for t in test_sets:
            scores = [s for s, _, _ in fold_scores[t]]
            ys = [yy for _, yy, _ in fold_scores[t]]
            gs = [g for _, _, g in fold_scores[t]]
            for metric in ("accuracy", "auroc"):
                res = folds_metric_with_ci(scores, ys, gs, metric, n_boot=config.n_boot, seed=config.seed)
                for slot, layer in enumerate(data.layers):
                    records.append([data.model_info["name"], data.model_info["adapter"], position, layer, probe_name,
                                    train_name, t, metric, float(res.value[slot]), float(res.ci_low[slot]),
                                    float(res.ci_high[slot]), res.n])
                # the honest number: each fold's probe at the layer its own validation split chose
                at_selected = [s[chosen_layers[k]][None] for k, s in enumerate(scores)]
                sel = folds_metric_with_ci(at_selected, ys, gs, metric, n_boot=config.n_boot, seed=config.seed)
                records.append([data.model_info["name"], data.model_info["adapter"], position,
                                data.layers[selected], probe_name, train_name, t, f"{metric}@selected_layer",
                                float(sel.value[0]), float(sel.ci_low[0]), float(sel.ci_high[0]), sel.n])
        if out_dir is not None:  # final probe on all training rows, saved with its card
            all_train = np.flatnonzero(rows["dataset"].isin(train_sets).to_numpy())
            kw = fit_kwargs(rows, all_train)
            final = make_probe(probe_name, config.seed).fit(X[:, all_train], y[all_train], **kw)
            save_probe(final, out_dir / "probes" / file_slug(data.model_info["name"], data.model_info["adapter"], position,
                                                                  train_name, probe_name), {
                "probe": probe_name, "model": data.model_info["name"], "adapter": data.model_info["adapter"],
                "model_fingerprint": data.model_info["fingerprint"], "d_model": data.model_info["d_model"],
                "layers": data.layers, "selected_layer": data.layers[selected], "position": position,
                "train": list(train_sets), "train_data_hash": _hash_of({n: data.dataset_hashes[n] for n in train_sets}),
                "seed": config.seed,
                "metrics": {r[6] + ":" + r[7]: r[8] for r in records if r[4] == probe_name and "selected" in r[7]},
            })
    return pd.DataFrame(records, columns=RESULT_COLUMNS)


def _hash_of(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def run_sweep(config: SweepConfig, progress: bool = True) -> pd.DataFrame:
    """Run the whole grid; writes results.csv/.parquet, plots and probe artifacts under ``config.out``."""
    from negprobe.activations.models import load_model

    from negprobe.analysis.plots import write_sweep_plots

    out_dir = Path(config.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = []
    started = time.perf_counter()
    pca_inputs = None
    for model_name in config.models:
        for adapter in config.adapters:
            model = load_model(model_name, adapter=adapter, dtype=config.compute_dtype)
            for position in config.positions:
                for train_sets in config.train:
                    tests = list(dict.fromkeys(list(train_sets) + list(config.test)))
                    data = collect(model, tests, position, config.layers, config)
                    print(f"fitting {len(config.probes)} probe families x {len(data.layers)} layers x"
                          f" {config.n_folds} folds on {model.name}{' + ' + str(adapter) if adapter else ''}"
                          f" [{position}] train={'+'.join(train_sets)}")
                    table = evaluate(data, train_sets, tests, config.probes, config, position, out_dir)
                    tables.append(table)
                    if pca_inputs is None:
                        pca_inputs = (data, train_sets, table)
            del model
    results = pd.concat(tables, ignore_index=True)
    results.to_csv(out_dir / "results.csv", index=False)
    results.to_parquet(out_dir / "results.parquet", index=False)
    (out_dir / "config.json").write_text(json.dumps(asdict(config), indent=1))
    write_sweep_plots(results, out_dir, pca_inputs)
    from negprobe.analysis.summary import sweep_summary

    sweep_summary(results, out_dir)
    print(f"sweep finished in {time.perf_counter() - started:.0f} s: {out_dir}")
    return results
