"""Probe sweeps: cache what is missing, fit every probe family on every layer, evaluate leakage-safely.

One sweep = models x adapters x positions x train sets x probes (see :mod:`.sweep_eval` for how
one cell is split, fitted and scored). :func:`run_sweep` writes the results table and the saved
probes and returns a :class:`SweepResult`; figures and ``summary.md`` are drawn from that result
by ``negprobe.analysis.sweep_report.write_sweep_report``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jaxtyping import Float

from negprobe.activations.atomic import atomic_path, atomic_write_text
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.registry import load_dataset
from negprobe.activations.progress import progress_bar

from . import make_probe
from .artifact import file_slug, save_probe
from .layer_source import concat_layer_fits, layer_blocks
from .sweep_config import RESULT_COLUMNS, SweepConfig
from .sweep_eval import FoldSplit, SweepData, collect, evaluate, fit_kwargs, make_splits

__all__ = ["RESULT_COLUMNS", "FoldSplit", "PCAProjection", "SweepConfig", "SweepData", "SweepResult", "collect",
           "dataset_labels", "evaluate", "load_datasets", "fit_kwargs", "make_splits", "pca_projection", "run_sweep",
           "save_sweep_probes"]


@dataclass(frozen=True)
class PCAProjection:
    """Every row of one sweep cell on the first two principal components of its training rows,
    at the layer the validation splits chose most often."""

    model: str
    adapter: str
    position: str
    train: str  # the train sets, '+'-joined as in the results table
    layer: int
    coords: Float[np.ndarray, "n 2"]
    rows: pd.DataFrame  # dataset, text, label, polarity of each row

    @property
    def title(self) -> str:
        return f"{self.model} layer {self.layer}: PCA of train rows"


@dataclass(frozen=True)
class SweepResult:
    """What a sweep computed and where it wrote it; everything its report needs, without refitting."""

    config: SweepConfig
    results: pd.DataFrame  # RESULT_COLUMNS, one row per (model, adapter, position, layer, probe, train, test, metric)
    out_dir: Path
    table_paths: tuple[Path, ...]  # results.csv, results.parquet, config.json
    probe_paths: tuple[Path, ...]  # saved probes (path stems of .safetensors + .json)
    pca: tuple[PCAProjection, ...]  # one per (model, adapter, position, train set), in sweep order
    seconds: float

    @property
    def selected_layers(self) -> pd.DataFrame:
        """Each (model, adapter, position, train, probe)'s validation-chosen layer."""
        keys = ["model", "adapter", "position", "train", "probe"]
        chosen = self.results.loc[self.results["metric"] == "accuracy@selected_layer"]
        return chosen.drop_duplicates(keys)[keys + ["layer"]].reset_index(drop=True)


def pca_projection(data: SweepData, train_sets: Sequence[str], table: pd.DataFrame, position: str) -> PCAProjection:
    """PCs fitted on the training rows at the most often validation-chosen layer (middle layer if none)."""
    selected = table.loc[table["metric"] == "accuracy@selected_layer"]
    layer = int(selected["layer"].mode().iloc[0]) if len(selected) else data.layers[len(data.layers) // 2]
    X_layer = data.X[data.layers.index(layer)].numpy().astype(np.float64)
    fit_rows = np.flatnonzero(data.rows["dataset"].isin(train_sets).to_numpy())
    mean = X_layer[fit_rows].mean(0)
    _, _, vt = np.linalg.svd(X_layer[fit_rows] - mean, full_matrices=False)
    coords = (X_layer - mean) @ vt[:2].T
    rows = data.rows.loc[:, ["dataset", "text", "label", "polarity"]].reset_index(drop=True)
    return PCAProjection(data.model_info["name"], data.model_info["adapter"], position, "+".join(train_sets), layer,
                         coords, rows)


def _hash_of(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def save_sweep_probes(data: SweepData, train_sets: Sequence[str], table: pd.DataFrame, config: SweepConfig,
                      position: str, out_dir: Path) -> list[Path]:
    """Fit each evaluated probe family once on all training rows and save it with its card."""
    rows, info = data.rows, data.model_info
    y = rows["label"].to_numpy(dtype=float)
    train_name = "+".join(train_sets)
    all_train = np.flatnonzero(rows["dataset"].isin(train_sets).to_numpy())
    kw = fit_kwargs(rows, all_train)
    paths = []
    for probe_name in dict.fromkeys(table["probe"]):  # families that were not skipped, in sweep order
        chosen = table.loc[(table["probe"] == probe_name) & table["metric"].str.contains("selected")]
        final = concat_layer_fits([make_probe(probe_name, config.seed).fit(block[:, all_train], y[all_train], **kw)
                                   for _, block in layer_blocks(data.X)])
        paths.append(save_probe(final, out_dir / "probes" / file_slug(info["name"], info["adapter"], position,
                                                                      train_name, probe_name), {
            "probe": probe_name, "model": info["name"], "adapter": info["adapter"],
            "model_fingerprint": info["fingerprint"], "d_model": info["d_model"],
            "layers": data.layers, "selected_layer": int(chosen["layer"].iloc[0]), "position": position,
            "train": list(train_sets), "train_data_hash": _hash_of({n: data.dataset_hashes[n] for n in train_sets}),
            "seed": config.seed,
            "metrics": {f"{t}:{m}": v for t, m, v in zip(chosen["test"], chosen["metric"], chosen["value"])},
        }))
    return paths


def _write_tables(results: pd.DataFrame, config: SweepConfig, out_dir: Path) -> tuple[Path, ...]:
    paths = out_dir / "results.csv", out_dir / "results.parquet", out_dir / "config.json"
    with atomic_path(paths[0]) as tmp:
        results.to_csv(tmp, index=False)
    with atomic_path(paths[1]) as tmp:
        results.to_parquet(tmp, index=False)
    atomic_write_text(paths[2], json.dumps(asdict(config), indent=1))
    return paths


def load_datasets(names: Sequence[str], drop_conflicts: bool = False) -> dict[str, PromptDataset]:
    """Every dataset of a sweep, loaded once (a bad name or file fails here, before any model loads)."""
    return {name: load_dataset(name, drop_conflicts=drop_conflicts) for name in dict.fromkeys(names)}


def dataset_labels(names: Sequence[str]) -> dict[str, str]:
    """Each dataset's label: its stem (``/data/x/facts.csv`` -> ``facts``) where that stem is unique."""
    names = list(dict.fromkeys(names))
    stems = {name: Path(name).stem if Path(name).suffix.lower() in (".csv", ".jsonl") else name for name in names}
    counts = pd.Series(list(stems.values())).value_counts()
    return {name: stem if counts[stem] == 1 else name for name, stem in stems.items()}


def _relabel(data: SweepData, labels: dict[str, str]) -> SweepData:
    rows = data.rows.copy()
    rows["dataset"] = rows["dataset"].map(lambda n: labels.get(n, n))
    return replace(data, rows=rows, dataset_hashes={labels.get(n, n): h for n, h in data.dataset_hashes.items()})


def run_sweep(config: SweepConfig, progress: bool = True) -> SweepResult:
    """Run the whole grid; writes results.csv/.parquet, config.json and probe artifacts under ``config.out``.

    Datasets are labelled by their stem in the table and file names (see :func:`dataset_labels`)."""
    from negprobe.activations.backends.remote_model import open_model
    from negprobe.activations.config import check_output_path

    out_dir = check_output_path(config.out, "sweep out")
    if config.store is not None:
        check_output_path(config.store, "sweep store")
    datasets = load_datasets([n for t in config.train for n in t] + list(config.test), config.drop_conflicts)
    labels = dataset_labels(list(datasets))
    out_dir.mkdir(parents=True, exist_ok=True)
    tables, probe_paths, projections = [], [], []
    started = time.perf_counter()
    for model_name in config.models:
        for adapter in config.adapters:
            model = open_model(model_name, adapter, config.compute_dtype, config.device_map, config.remote)
            for position in config.positions:
                for train_sets in config.train:
                    tests = list(dict.fromkeys(list(train_sets) + list(config.test)))
                    data = _relabel(collect(model, {n: datasets[n] for n in tests}, position, config.layers, config),
                                    labels)
                    train_sets, tests = [labels[n] for n in train_sets], [labels[n] for n in tests]
                    title = (f"fitting {len(config.probes)} probe families x {len(data.layers)} layers x"
                             f" {config.n_folds} folds on {model.name}{' + ' + str(adapter) if adapter else ''}"
                             f" [{position}] train={'+'.join(train_sets)}")
                    with progress_bar(title, len(config.probes) * config.n_folds, progress) as advance:
                        table = evaluate(data, train_sets, tests, config.probes, config, position, advance)
                    tables.append(table)
                    probe_paths += save_sweep_probes(data, train_sets, table, config, position, out_dir)
                    projections.append(pca_projection(data, train_sets, table, position))
            del model
    results = pd.concat(tables, ignore_index=True)
    seconds = time.perf_counter() - started
    if progress:
        print(f"sweep finished in {seconds:.0f} s: {out_dir}")
    return SweepResult(copy.deepcopy(config), results, out_dir, _write_tables(results, config, out_dir),
                       tuple(probe_paths), tuple(projections), seconds)
