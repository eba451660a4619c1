"""Cache activations of a dataset into the store: resumable, length-sorted, streaming to disk."""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock

from negprobe.errors import NegprobeError

from . import embedded
from .atomic import atomic_path, atomic_write_text
from .backends import Backend, get_backend
from .datasets.dataset import PromptDataset
from .datasets.formatting import FormatSpec
from .models import LoadedModel
from .positions import PositionSpec, claim_token_range, parse_positions, positions_key, select_tokens
from .store import (
    MANIFEST,
    METADATA,
    SHARDS,
    STORAGE_DTYPES,
    STORE_VERSION,
    ActivationStore,
    CacheKey,
    ShardWriter,
    clean_partial,
    verify_shard,
)
from .tokenize import pad_token_lists

SHARD_BYTES = 64 * 2**20  # target shard size: bounds the memory the caching loop holds


@dataclass
class CacheResult:
    store: ActivationStore
    forward_passes: int  # batches run through the model this call (0 on a cache hit)
    computed_rows: int
    reused_rows: int
    seconds: float
    tokens: int

    @property
    def cached(self) -> bool:
        return self.forward_passes == 0


def store_root(root: str | Path | None = None) -> Path:
    return Path(root) if root is not None else embedded.negprobe_home() / "store"


@dataclass
class _Encoded:
    ids: list[list[int]]
    claim_ranges: list[tuple[int, int] | None]


def _encode(model: LoadedModel, dataset: PromptDataset, fmt: FormatSpec, need_claim: bool) -> _Encoded:
    tokenizer = model.tokenizer
    formatted = [fmt.format(record, tokenizer) for record in dataset]
    max_len = model.max_length
    ids, ranges = [], []
    for row, prompt in enumerate(formatted):
        enc = tokenizer(prompt.text, add_special_tokens=True, return_offsets_mapping=need_claim)
        token_ids = enc["input_ids"]
        if max_len is not None and len(token_ids) > max_len:
            raise NegprobeError(
                f"dataset {dataset.name!r} row {row}: {len(token_ids)} tokens, longer than the model's context of {max_len}"
            )
        ids.append(token_ids)
        if need_claim and prompt.claim_span is not None:
            ranges.append(claim_token_range(enc["offset_mapping"], prompt.claim_span))
        else:
            ranges.append(None)
    return _Encoded(ids, ranges)


def make_key(model: LoadedModel, dataset: PromptDataset, fmt: FormatSpec, specs: Sequence[PositionSpec],
             layers: Sequence[int], storage_dtype: str) -> CacheKey:
    return CacheKey(
        model_fingerprint=model.fingerprint,
        dataset_hash=dataset.content_hash(),
        format_key=fmt.key(model.tokenizer if fmt.chat else None),
        positions=positions_key(specs),
        layers=tuple(layers),
        storage_dtype=storage_dtype,
        compute_dtype=str(model.dtype).replace("torch.", ""),
    )


def _batches(rows: Sequence[int], lengths: Sequence[int], batch_size: int | None, token_budget: int):
    """Consecutive batches of length-sorted rows: a fixed size, or as many as fit the token budget."""
    batch: list[int] = []
    for row in rows:
        width = max(lengths[r] for r in batch + [row])
        too_big = len(batch) >= batch_size if batch_size else batch and width * (len(batch) + 1) > token_budget
        if batch and too_big:
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("negprobe", "torch", "transformers", "transformer-lens", "nnsight", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


@dataclass(frozen=True)
class _FillPlan:
    """What one fill of a store computes, resolved once by :func:`cache_activations`."""

    model: LoadedModel
    dataset: PromptDataset
    fmt: FormatSpec
    specs: tuple[PositionSpec, ...]
    layers: tuple[int, ...]
    key: CacheKey
    path: Path
    storage_dtype: str
    backend: str | Backend
    batch_size: int | None
    token_budget: int | None
    shard_rows: int | None
    progress: bool

    @property
    def shards_dir(self) -> Path:
        return self.path / SHARDS


def cache_activations(
    model: LoadedModel,
    dataset: PromptDataset,
    positions: str | Sequence[str | int] = "last",
    layers: Sequence[int] | None = None,
    fmt: FormatSpec | None = None,
    storage_dtype: str = "float16",
    backend: str | Backend = "hf",
    batch_size: int | None = None,
    token_budget: int | None = None,
    root: str | Path | None = None,
    progress: bool = True,
    verify: bool = True,
    shard_rows: int | None = None,
) -> CacheResult:
    """Cache ``dataset``'s residuals at ``positions`` for ``layers`` (default all) and return the store.

    ``storage_dtype`` is how the store keeps them (float16 | float32); the compute dtype is the
    model's own (``load_model(..., dtype=...)``), and both are part of the cache key.
    A rerun with the same key does no forward pass; after a crash, verified shards are kept and
    only the missing rows are computed. ``batch_size=None`` packs length-sorted batches up to
    ``token_budget`` padded tokens (8192 on CPU, 65536 on GPU). ``shard_rows`` (default: ~64 MB
    shards) bounds the memory the loop holds.
    """
    started = time.perf_counter()
    if len(dataset) == 0:
        raise NegprobeError(f"dataset {dataset.name!r} is empty")
    if storage_dtype not in STORAGE_DTYPES:
        raise NegprobeError(f"storage dtype {storage_dtype!r}: use float16 or float32")
    fmt = fmt or FormatSpec()
    specs = parse_positions(positions)
    layer_list = model.check_layers(range(model.n_layers) if layers is None else list(layers))
    key = make_key(model, dataset, fmt, specs, layer_list, storage_dtype)
    path = store_root(root) / key.digest()
    _check_writable(path)

    with FileLock(str(path) + ".lock"):
        if _complete(path, verify):
            return CacheResult(ActivationStore.open(path), 0, 0, len(dataset), time.perf_counter() - started, 0)
        plan = _FillPlan(model, dataset, fmt, tuple(specs), tuple(layer_list), key, path, storage_dtype, backend,
                         batch_size, token_budget, shard_rows, progress)
        try:
            return _fill(plan, started)
        except OSError as exc:
            clean_partial(path / SHARDS)
            what = "disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            raise NegprobeError(f"writing activation store {path} failed: {what}") from None


def _check_writable(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise NegprobeError(f"cannot write the activation store at {path}: {exc.strerror or exc}") from None


def _complete(path: Path, verify: bool) -> bool:
    """Whether the store at ``path`` is complete (and, with ``verify``, every shard checks out)."""
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        return False
    manifest = json.loads(manifest_path.read_text())
    if not manifest.get("complete"):
        return False
    return not verify or all(verify_shard(path / SHARDS / s) for s in manifest["shards"])


def _fill(plan: _FillPlan, started: float) -> CacheResult:
    """Compute the rows no verified shard holds, then write the manifest."""
    shards_dir = plan.shards_dir
    shards_dir.mkdir(exist_ok=True)
    clean_partial(shards_dir)
    encoded = _encode(plan.model, plan.dataset, plan.fmt, any(s.needs_claim for s in plan.specs))
    lengths = [len(ids) for ids in encoded.ids]
    done_rows, shard_checksums = _verified_shards(shards_dir)
    if not (plan.path / METADATA).is_file():
        _write_metadata(plan, lengths)
    missing = sorted((r for r in range(len(plan.dataset)) if r not in done_rows), key=lambda r: (lengths[r], r))
    forward_passes, tokens = _compute(plan, encoded, lengths, missing, shard_checksums)
    _write_manifest(plan, shard_checksums)
    return CacheResult(ActivationStore.open(plan.path), forward_passes, len(missing), len(done_rows),
                       time.perf_counter() - started, tokens)


def _verified_shards(shards_dir: Path) -> tuple[set[int], dict[str, dict[str, str]]]:
    """Rows held by verified shards and their checksums; corrupt shards are deleted."""
    done_rows: set[int] = set()
    shard_checksums: dict[str, dict[str, str]] = {}
    for shard in sorted(p for p in shards_dir.iterdir() if p.name.startswith("shard-")):
        if verify_shard(shard):
            done_rows.update(int(r) for r in np.load(shard / "rows.npy"))
            shard_checksums[shard.name] = json.loads((shard / "checksums.json").read_text())
        else:
            shutil.rmtree(shard)
    return done_rows, shard_checksums


def _write_metadata(plan: _FillPlan, lengths: list[int]) -> None:
    frame = plan.dataset.to_frame()
    frame.insert(0, "row", np.arange(len(plan.dataset)))
    frame["n_tokens"] = lengths
    with atomic_path(plan.path / METADATA) as tmp:
        frame.to_parquet(tmp, index=False)


def _compute(plan: _FillPlan, encoded: _Encoded, lengths: list[int], missing: list[int],
             shard_checksums: dict[str, dict[str, str]]) -> tuple[int, int]:
    """Run the ``missing`` rows shard by shard (adding each committed shard to ``shard_checksums``);
    returns (forward passes, tokens)."""
    model = plan.model
    backend = get_backend(plan.backend) if isinstance(plan.backend, str) else plan.backend
    token_budget = plan.token_budget
    if token_budget is None:
        token_budget = 65536 if model.device.type == "cuda" else 8192
    dtype = STORAGE_DTYPES[plan.storage_dtype]
    row_bytes = len(plan.layers) * len(plan.specs) * model.d_model * np.dtype(dtype).itemsize
    shard_rows = plan.shard_rows or max(64, SHARD_BYTES // row_bytes)
    next_index = 1 + max((int(name.split("-")[1]) for name in shard_checksums), default=-1)
    pad_id = model.tokenizer.pad_token_id if model.tokenizer.pad_token_id is not None else 0
    layers = list(plan.layers)
    forward_passes, tokens = 0, 0
    with _progress(plan.progress, len(missing), plan.dataset.name) as bar:
        for start in range(0, len(missing), shard_rows):
            shard_rows_list = missing[start : start + shard_rows]
            writer = ShardWriter(plan.shards_dir, next_index, shard_rows_list, len(layers), len(plan.specs),
                                 model.d_model, dtype)
            for rows in _batches(shard_rows_list, lengths, plan.batch_size, token_budget):
                batch = pad_token_lists([encoded.ids[r] for r in rows], pad_id, "right")
                selection = select_tokens(
                    [lengths[r] for r in rows], [0] * len(rows), batch.input_ids.shape[1], list(plan.specs),
                    [encoded.claim_ranges[r] for r in rows], prompt_ids=rows,
                )
                acts = backend.residuals(model, batch, layers, selection)
                writer.add(rows, acts.cpu())
                forward_passes += 1
                tokens += sum(lengths[r] for r in rows)
                bar.advance(len(rows), sum(lengths[r] for r in rows))
            shard_checksums[writer.final.name] = writer.commit()
            next_index += 1
    return forward_passes, tokens


def _write_manifest(plan: _FillPlan, shard_checksums: dict[str, dict[str, str]]) -> None:
    model, dataset, key = plan.model, plan.dataset, plan.key
    manifest = {
        "complete": True,
        "store_version": STORE_VERSION,
        "key": {**key.__dict__, "layers": list(key.layers)},
        "model": {"name": model.name, "adapter": str(model.adapter) if model.adapter else None,
                  "fingerprint": model.fingerprint, "n_layers": model.n_layers},
        "dataset": {"name": dataset.name, "hash": key.dataset_hash},
        "n_rows": len(dataset),
        "d_model": model.d_model,
        "shape_per_layer": [len(dataset), len(plan.specs), model.d_model],
        "dtype": plan.storage_dtype,
        "versions": _versions(),
        "shards": dict(sorted(shard_checksums.items())),
    }
    atomic_write_text(plan.path / MANIFEST, json.dumps(manifest, indent=1, default=str))


class _progress:
    """A rich progress bar showing prompts/s and tokens/s (silent when disabled)."""

    def __init__(self, enabled: bool, total: int, name: str):
        self.enabled, self.total, self.name = enabled and total > 0, total, name
        self.prompts = self.tokens = 0

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("caching {task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(), transient=False,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.name, total=self.total, rate="")
            self.t0 = time.perf_counter()
        return self

    def advance(self, prompts: int, tokens: int) -> None:
        self.prompts += prompts
        self.tokens += tokens
        if self.enabled:
            dt = max(time.perf_counter() - self.t0, 1e-9)
            rate = f"{self.prompts / dt:.0f} prompts/s {self.tokens / dt:.0f} tok/s"
            self.bar.update(self.task, advance=prompts, rate=rate)

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.stop()
        return False
