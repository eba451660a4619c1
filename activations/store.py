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
import time
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
    """Collects the rows of one shard batch by batch, then writes them to a temp folder and renames it."""

    def __init__(self, final: Path, dtype: np.dtype):
        self.final = final
        self.dtype = dtype
        self._rows: list[np.ndarray] = []
        self._acts: list[np.ndarray] = []  # each [n_layers, batch, n_positions, d_model]

    @property
    def n_rows(self) -> int:
        return sum(len(rows) for rows in self._rows)

    def add(self, rows: Sequence[int], acts: Float[Tensor, "batch n_layers n_positions d_model"]) -> None:
        self._rows.append(np.asarray(rows, dtype=np.int64))
        self._acts.append(acts.transpose(0, 1).to(torch.float32).numpy().astype(self.dtype))

    def commit(self) -> dict[str, str]:
        """Write the rows added so far as one shard; returns its checksums."""
        if not self._rows:
            raise RuntimeError(f"{self.final.name}: no rows to commit")
        rows, acts = np.concatenate(self._rows), np.concatenate(self._acts, axis=1)
        tmp = self.final.with_name(f".tmp-{os.getpid()}-{self.final.name}")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        checksums = {}
        try:
            np.save(tmp / "rows.npy", rows)
            checksums["rows.npy"] = file_checksum(tmp / "rows.npy")
            for layer_slot in range(acts.shape[0]):
                name = f"layer-{layer_slot:03d}.npy"
                np.save(tmp / name, acts[layer_slot])
                checksums[name] = file_checksum(tmp / name)
            (tmp / "checksums.json").write_text(json.dumps(checksums, indent=1))
            os.replace(tmp, self.final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return checksums


class ShardStream:
    """Shards committed as rows arrive: at :meth:`commit`, or once the open shard has run
    ``max(flush_seconds, flush_fraction x the time since the stream started)``."""

    def __init__(self, shards_dir: Path, checksums: dict[str, dict[str, str]], dtype: np.dtype,
                 flush_seconds: float, flush_fraction: float):
        self.shards_dir, self.checksums, self.dtype = shards_dir, checksums, dtype
        self.flush_seconds, self.flush_fraction = flush_seconds, flush_fraction
        self.next_index = 1 + max((int(name.split("-")[1]) for name in checksums), default=-1)
        self.writer: ShardWriter | None = None
        self.started = self.opened = time.perf_counter()

    def add(self, rows: Sequence[int], acts: Float[Tensor, "batch n_layers n_positions d_model"]) -> None:
        if self.writer is None:
            self.writer = ShardWriter(self.shards_dir / f"shard-{self.next_index:05d}", self.dtype)
        self.writer.add(rows, acts)
        now = time.perf_counter()
        if now - self.opened >= max(self.flush_seconds, self.flush_fraction * (now - self.started)):
            self.commit()

    def commit(self) -> None:
        """Commit the open shard (if it holds rows) and record its checksums."""
        if self.writer is not None and self.writer.n_rows:
            self.checksums[self.writer.final.name] = self.writer.commit()
            self.next_index += 1
        self.writer = None
        self.opened = time.perf_counter()


def shard_problem(shard: Path) -> str | None:
    """What is wrong with a committed shard, naming the file (``layer-012.npy failed its checksum``), or None."""
    try:
        checksums = json.loads((shard / "checksums.json").read_text())
        if not isinstance(checksums, dict) or "rows.npy" not in checksums:
            return "checksums.json lists no rows.npy"
    except FileNotFoundError:
        return "checksums.json is missing"
    except (OSError, ValueError) as exc:
        return f"checksums.json is unreadable ({type(exc).__name__})"
    for name, digest in checksums.items():
        try:
            if file_checksum(shard / name) != digest:
                return f"{name} failed its checksum"
        except FileNotFoundError:
            return f"{name} is missing"
        except OSError as exc:
            return f"{name} is unreadable ({exc.strerror or exc})"
    return None


def verify_shard(shard: Path) -> bool:
    """True when every file of a committed shard matches its recorded checksum."""
    return shard_problem(shard) is None


def clean_partial(shards_dir: Path) -> list[str]:
    """Remove ``.tmp-`` folders left by an interrupted run; return their names."""
    removed = []
    if shards_dir.is_dir():
        for child in shards_dir.iterdir():
            if child.name.startswith(".tmp-"):
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child.name)
    return removed


_MANIFEST_FIELDS = {"n_rows": int, "d_model": int, "key": dict, "shards": dict}


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of the store at ``path`` (None when it has none); unreadable or malformed -> NegprobeError."""
    file = path / MANIFEST
    try:
        manifest = json.loads(file.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise NegprobeError(f"{file}: unreadable manifest ({type(exc).__name__}: {exc})") from None
    if not isinstance(manifest, dict):
        raise NegprobeError(f"{file}: unreadable manifest (not a JSON object)")
    if not manifest.get("complete"):
        return manifest
    for name, kind in _MANIFEST_FIELDS.items():
        if not isinstance(manifest.get(name), kind):
            raise NegprobeError(f"{file}: unreadable manifest (field {name!r} is missing or not a {kind.__name__})")
    key = manifest["key"]
    if not isinstance(key.get("layers"), list) or not isinstance(key.get("positions"), str):
        raise NegprobeError(f"{file}: unreadable manifest (field 'key' lacks its layers or positions)")
    if not all(isinstance(files, dict) for files in manifest["shards"].values()):
        raise NegprobeError(f"{file}: unreadable manifest (field 'shards' is not a table of checksums)")
    return manifest


def read_metadata(file: Path, n_rows: int | None = None):
    """The prompt table in ``file`` (a parquet file); missing, unreadable or misaligned -> NegprobeError."""
    import pandas as pd

    try:
        frame = pd.read_parquet(file)
    except FileNotFoundError:
        raise NegprobeError(f"{file}: the store's prompt table is missing (rerun `negprobe cache`)") from None
    except (OSError, ValueError) as exc:
        raise NegprobeError(f"{file}: unreadable prompt table ({type(exc).__name__}; rerun `negprobe cache`)") from None
    if n_rows is not None and len(frame) != n_rows:
        raise NegprobeError(f"{file}: {len(frame)} rows, but the store holds {n_rows} (rerun `negprobe cache`)")
    return frame


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
        manifest = read_manifest(path)
        if manifest is None:
            raise NegprobeError(f"{path} is not an activation store (no {MANIFEST})")
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
            self._metadata = read_metadata(self.path / METADATA, self.n_rows)
        return self._metadata

    def _shard_file(self, shard: str, name: str) -> np.ndarray:
        path = self.path / SHARDS / shard / name
        if str(path) not in self._verified:
            expected = self.manifest["shards"][shard].get(name)
            try:
                actual = file_checksum(path)
            except FileNotFoundError:
                raise ChecksumError(f"activation store {self.path}: shard file {path} is missing") from None
            except OSError as exc:
                raise ChecksumError(f"activation store {self.path}: cannot read {path} ({exc.strerror or exc})") from None
            if actual != expected:
                raise ChecksumError(
                    f"activation store {self.path}: {path} failed its checksum"
                    " (corrupted on disk; rerun `negprobe cache` to recompute it)"
                )
            self._verified.add(str(path))
        try:
            return np.load(path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise ChecksumError(f"activation store {self.path}: cannot read {path} ({exc})") from None

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

    def layer(self, layer: int, position: int | str = 0, out: np.ndarray | None = None) -> Float[Tensor, "n_rows d_model"]:
        """Activations of one layer (one position) for all rows, in dataset order, as float32.

        Reads only that layer's files (memory-mapped, shard by shard), never the other layers; ``out``
        (float32 ``[n_rows, d_model]``) receives them in place when given.
        """
        slot, pos = self.layer_slot(layer), self.position_slot(position)
        if out is None:
            out = np.empty((self.n_rows, self.d_model), dtype=np.float32)
        elif out.shape != (self.n_rows, self.d_model) or out.dtype != np.float32:
            raise ValueError(f"out must be float32 {(self.n_rows, self.d_model)}, got {out.dtype} {out.shape}")
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
