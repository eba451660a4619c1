"""The activation store: one directory per cache key, written in atomic shards.

Layout of ``<root>/<key>/``::

    manifest.json            key fields, versions, shapes, dtype, row count, shard checksums
    metadata.parquet         one row per prompt, aligned with the activations (label, polarity, ...)
    shards/shard-00000/      rows.npy (dataset row of each shard row) + layer-LLL.npy [rows, positions, d_model]
                             + checksums.json

Why one memory-mappable ``.npy`` per (shard, layer) rather than safetensors: ``np.load(...,
mmap_mode="r")`` reads exactly one layer's bytes, so a probe sweep that walks layer by layer never
holds more than one layer in memory, any numpy reads the files, and each file carries its own
checksum, so reading a layer verifies only what it reads. A shard is written into a temporary
folder and renamed into place, so a crash leaves either a whole verified shard or a ``.tmp-``
folder that the next run deletes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from negprobe.errors import NegprobeError

STORE_VERSION = 1
MANIFEST = "manifest.json"
METADATA = "metadata.parquet"
SHARDS = "shards"
STORAGE_DTYPES = {"float16": np.float16, "float32": np.float32}


class ChecksumError(NegprobeError):
    """A shard file's bytes do not match the checksum recorded when it was written."""


@dataclass(frozen=True)
class CacheKey:
    """Everything that changes the stored numbers; batch size and backend do not (backends agree)."""

    model_fingerprint: str
    dataset_hash: str
    format_key: str
    positions: str
    layers: tuple[int, ...]
    storage_dtype: str
    compute_dtype: str

    def digest(self) -> str:
        fields = asdict(self)
        fields["store_version"] = STORE_VERSION
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:24]


def file_checksum(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


class ShardWriter:
    """Buffers one shard's rows in memory, then writes it to a temp folder and renames it."""

    def __init__(self, shards_dir: Path, index: int, rows: Sequence[int], n_layers: int, n_positions: int,
                 d_model: int, dtype: np.dtype):
        self.final = shards_dir / f"shard-{index:05d}"
        self.rows = np.asarray(rows, dtype=np.int64)
        self.buffer = np.zeros((n_layers, len(rows), n_positions, d_model), dtype=dtype)
        self.filled = np.zeros(len(rows), dtype=bool)
        self._slot = {int(row): i for i, row in enumerate(self.rows)}

    def add(self, rows: Sequence[int], acts: Float[Tensor, "batch n_layers n_positions d_model"]) -> None:
        slots = [self._slot[int(row)] for row in rows]
        self.buffer[:, slots] = acts.transpose(0, 1).to(torch.float32).numpy().astype(self.buffer.dtype)
        self.filled[slots] = True

    def commit(self) -> dict[str, str]:
        if not self.filled.all():
            raise RuntimeError(f"{self.final.name}: {int((~self.filled).sum())} rows were never filled")
        tmp = self.final.with_name(f".tmp-{os.getpid()}-{self.final.name}")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        checksums = {}
        try:
            np.save(tmp / "rows.npy", self.rows)
            checksums["rows.npy"] = file_checksum(tmp / "rows.npy")
            for layer_slot in range(self.buffer.shape[0]):
                name = f"layer-{layer_slot:03d}.npy"
                np.save(tmp / name, self.buffer[layer_slot])
                checksums[name] = file_checksum(tmp / name)
            (tmp / "checksums.json").write_text(json.dumps(checksums, indent=1))
            os.replace(tmp, self.final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return checksums


def verify_shard(shard: Path) -> bool:
    """True when every file of a committed shard matches its recorded checksum."""
    try:
        checksums = json.loads((shard / "checksums.json").read_text())
        return all(file_checksum(shard / name) == digest for name, digest in checksums.items())
    except (OSError, ValueError):
        return False


def clean_partial(shards_dir: Path) -> list[str]:
    """Remove ``.tmp-`` folders left by an interrupted run; return their names."""
    removed = []
    if shards_dir.is_dir():
        for child in shards_dir.iterdir():
            if child.name.startswith(".tmp-"):
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child.name)
    return removed


@dataclass
class ActivationStore:
    """Read side of one cache directory: ``[n_rows, d_model]`` per layer plus the metadata table."""

    path: Path
    manifest: dict[str, Any]
    _verified: set[str] = field(default_factory=set, repr=False)
    _metadata: Any = field(default=None, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> ActivationStore:
        path = Path(path)
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except FileNotFoundError:
            raise NegprobeError(f"{path} is not an activation store (no {MANIFEST})") from None
        except ValueError as exc:
            raise NegprobeError(f"{path / MANIFEST}: unreadable manifest ({exc})") from None
        if not manifest.get("complete"):
            raise NegprobeError(f"activation store {path} is incomplete: rerun `negprobe cache` to finish it")
        return cls(path, manifest)

    @property
    def n_rows(self) -> int:
        return int(self.manifest["n_rows"])

    @property
    def layers(self) -> list[int]:
        return list(self.manifest["key"]["layers"])

    @property
    def positions(self) -> list[str]:
        return self.manifest["key"]["positions"].split(",")

    @property
    def d_model(self) -> int:
        return int(self.manifest["d_model"])

    @property
    def key(self) -> dict[str, Any]:
        return self.manifest["key"]

    @property
    def metadata(self):
        """The prompt table, aligned row by row with every layer's activations."""
        if self._metadata is None:
            import pandas as pd

            self._metadata = pd.read_parquet(self.path / METADATA)
        return self._metadata

    def _shard_file(self, shard: str, name: str) -> np.ndarray:
        path = self.path / SHARDS / shard / name
        tag = f"{shard}/{name}"
        if tag not in self._verified:
            expected = self.manifest["shards"][shard].get(name)
            try:
                actual = file_checksum(path)
            except FileNotFoundError:
                raise ChecksumError(f"activation store {self.path}: shard file {tag} is missing") from None
            if actual != expected:
                raise ChecksumError(
                    f"activation store {self.path}: checksum mismatch in shard {tag}"
                    " (corrupted on disk; rerun `negprobe cache` to recompute it)"
                )
            self._verified.add(tag)
        return np.load(path, mmap_mode="r")

    def layer_slot(self, layer: int) -> int:
        try:
            return self.layers.index(layer)
        except ValueError:
            raise NegprobeError(f"layer {layer} is not in store {self.path.name} (layers {self.layers})") from None

    def position_slot(self, position: int | str) -> int:
        if isinstance(position, int):
            if not -len(self.positions) <= position < len(self.positions):
                raise NegprobeError(f"position slot {position} out of range for positions {self.positions}")
            return position % len(self.positions)
        try:
            return self.positions.index(position)
        except ValueError:
            raise NegprobeError(f"position {position!r} is not in store {self.path.name} ({self.positions})") from None

    def layer(self, layer: int, position: int | str = 0) -> Float[Tensor, "n_rows d_model"]:
        """Activations of one layer (one position) for all rows, in dataset order, as float32.

        Reads only that layer's files (memory-mapped), never the other layers.
        """
        slot, pos = self.layer_slot(layer), self.position_slot(position)
        out = np.empty((self.n_rows, self.d_model), dtype=np.float32)
        for shard in self.manifest["shards"]:
            rows = self._shard_file(shard, "rows.npy")
            out[np.asarray(rows)] = self._shard_file(shard, f"layer-{slot:03d}.npy")[:, pos]
        return torch.from_numpy(out)

    def stack(self, layers: Iterable[int] | None = None, position: int | str = 0) -> Float[Tensor, "n_layers n_rows d_model"]:
        """Several layers at once, layer-major ``[n_layers, n_rows, d_model]`` as the probes take them."""
        chosen = self.layers if layers is None else list(layers)
        return torch.stack([self.layer(layer, position) for layer in chosen], dim=0)

    def verify(self) -> list[str]:
        """Names of shards whose files do not match their checksums."""
        return [s for s in self.manifest["shards"] if not verify_shard(self.path / SHARDS / s)]
