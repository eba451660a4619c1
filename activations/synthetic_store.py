"""Synthetic activation stores of any shape, written chunk by chunk: large-shape benchmarks and tests.

Rows alternate true/false (label), affirmed/negated (polarity) in pairs that share a group; each
layer's activations are unit Gaussian noise plus ``signal * (layer_slot + 1) / n_layers`` times a fixed
unit direction, signed by the label, so a probe's accuracy rises with depth. Only ``chunk_rows`` rows
are ever in memory: each chunk is generated from its own seed and committed as one shard.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .atomic import atomic_path, atomic_write_text
from .store import MANIFEST, METADATA, SHARDS, STORAGE_DTYPES, STORE_VERSION, CacheKey, ShardWriter


def synthetic_rows(n_rows: int) -> pd.DataFrame:
    """The prompt table: label, polarity, group and pair_id per row (twins share a pair and a group)."""
    index = np.arange(n_rows)
    return pd.DataFrame({
        "text": [f"synthetic row {i}" for i in index],
        "label": (index % 2 == 0).astype(float),
        "polarity": np.where(index % 4 < 2, "affirmed", "negated"),
        "group": [f"g{i // 4}" for i in index],
        "pair_id": [f"p{i // 4}:{i % 2}" for i in index],
    })


def synthetic_chunk(start: int, stop: int, n_layers: int, d_model: int, signal: float, seed: int) -> np.ndarray:
    """Activations ``[rows, n_layers, 1, d_model]`` (float32) of rows ``start:stop``."""
    direction = np.random.default_rng(seed).normal(size=d_model).astype(np.float32)
    direction /= np.linalg.norm(direction)
    rng = np.random.default_rng([seed, start])
    acts = rng.standard_normal((stop - start, n_layers, 1, d_model), dtype=np.float32)
    sign = np.where(np.arange(start, stop) % 2 == 0, 1.0, -1.0).astype(np.float32)
    strength = signal * (np.arange(n_layers, dtype=np.float32) + 1) / n_layers
    acts += sign[:, None, None, None] * strength[None, :, None, None] * direction
    return acts


def write_synthetic_store(path: str | Path, n_rows: int, d_model: int, n_layers: int, chunk_rows: int = 2048,
                          dtype: str = "float16", signal: float = 3.0, seed: int = 0) -> Path:
    """Write a complete store at ``path`` (shards of ``chunk_rows`` rows in ``dtype``) and return it."""
    path = Path(path)
    layers = list(range(n_layers))
    checksums: dict[str, dict[str, str]] = {}
    (path / SHARDS).mkdir(parents=True, exist_ok=True)
    for index, start in enumerate(range(0, n_rows, chunk_rows)):
        stop = min(n_rows, start + chunk_rows)
        writer = ShardWriter(path / SHARDS / f"shard-{index:05d}", np.dtype(STORAGE_DTYPES[dtype]))
        writer.add(range(start, stop), torch.from_numpy(synthetic_chunk(start, stop, n_layers, d_model, signal, seed)))
        checksums[f"shard-{index:05d}"] = writer.commit()
    with atomic_path(path / METADATA) as tmp:
        synthetic_rows(n_rows).to_parquet(tmp, index=False)
    key = CacheKey(f"synthetic-{seed}", f"synthetic-{n_rows}", "plain", "last", tuple(layers), dtype, "float32")
    manifest = {
        "complete": True, "store_version": STORE_VERSION, "key": {**key.__dict__, "layers": layers},
        "model": {"name": "synthetic", "adapter": None, "fingerprint": key.model_fingerprint, "n_layers": n_layers},
        "dataset": {"name": "synthetic", "hash": key.dataset_hash}, "n_rows": n_rows, "d_model": d_model,
        "shape_per_layer": [n_rows, 1, d_model], "dtype": dtype, "shards": checksums,
    }
    atomic_write_text(path / MANIFEST, json.dumps(manifest, indent=1))
    return path
