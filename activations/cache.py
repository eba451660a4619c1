"""Cache activations of a dataset into the store: resumable, length-sorted, streaming to disk.

Every input is checked (prompt lengths and positions included) before the store folder or its
lock exists. Rows are computed in length-sorted chunks of at most ``shard_rows`` (default ~64 MB)
whose batches do not depend on where a run starts, so a resumed store equals an uninterrupted one.
A chunk is committed as one or more shards: the open shard is committed when its chunk ends, or
once it has run ``max(FLUSH_SECONDS, FLUSH_FRACTION x the compute so far)``, so a killed run loses
at most a few seconds (or a tenth) of its work while a long run still writes few shards (about
10 in its first 20 s, then one per 10% growth: ~60 for an hour).
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from negprobe.errors import NegprobeError

from . import embedded
from .atomic import atomic_path, atomic_write_text
from .backends import Backend, check_backend_fits, get_backend
from .cache_prompts import EncodedPrompts, batches, encode_prompts
from .datasets.dataset import PromptDataset
from .datasets.formatting import FormatSpec
from .models import LoadedModel
from .positions import PositionSpec, parse_positions, positions_key, select_tokens
from .store import (
    MANIFEST,
    METADATA,
    SHARDS,
    STORAGE_DTYPES,
    STORE_VERSION,
    ActivationStore,
    CacheKey,
    ShardStream,
    clean_partial,
    read_manifest,
    shard_problem,
)
from .store_lock import StoreLock
from .tokenize import pad_token_lists

SHARD_BYTES = 64 * 2**20  # largest shard: bounds the memory the caching loop holds
FLUSH_SECONDS = 2.0  # commit the open shard after this much compute ...
FLUSH_FRACTION = 0.1  # ... or this fraction of the run's compute so far, whichever is longer

Reporter = Callable[[str], None]


def console_report(message: str) -> None:
    """The default reporter: one ``negprobe: <message>`` line on stderr."""
    print(f"negprobe: {message}", file=sys.stderr, flush=True)


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


def make_key(model: LoadedModel, dataset: PromptDataset, fmt: FormatSpec, specs: Sequence[PositionSpec],
             layers: Sequence[int], storage_dtype: str) -> CacheKey:
    return CacheKey(
        model_fingerprint=model.fingerprint,
        dataset_hash=dataset.content_hash(),
        format_key=fmt.key(model.tokenizer if fmt.chat else None),
        positions=positions_key(specs),
        layers=tuple(layers),
        storage_dtype=storage_dtype,
        # NDIF computes in the precision it hosts the model in: its stores never stand in for a local run's
        compute_dtype=str(model.dtype).replace("torch.", "") + ("@ndif" if model.remote == "ndif" else ""),
    )


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
    specs: tuple[PositionSpec, ...]
    layers: tuple[int, ...]
    key: CacheKey
    path: Path
    storage_dtype: str
    backend: Backend
    batch_size: int | None
    token_budget: int | None
    shard_rows: int | None
    progress: bool
    report: Reporter

    @property
    def shards_dir(self) -> Path:
        return self.path / SHARDS


# long: the public signature and its checks, in the order nothing is created before every input is valid
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
    report: Reporter | None = None,
) -> CacheResult:
    """Cache ``dataset``'s residuals at ``positions`` for ``layers`` (default all) and return the store.

    ``storage_dtype`` is how the store keeps them (float16 | float32); the compute dtype is the
    model's own (``load_model(..., dtype=...)``), and both are part of the cache key.
    A rerun with the same key does no forward pass; after a crash, verified shards are kept and
    only the missing rows are computed. ``batch_size=None`` packs length-sorted batches up to
    ``token_budget`` padded tokens (8192 on CPU, 65536 on GPU). ``shard_rows`` (default: ~64 MB)
    caps a shard's rows and so the memory the loop holds; shards are also committed every few
    seconds (see the module docstring). ``report`` receives the console lines (a repaired shard,
    a wait for another process's lock); by default they go to stderr as ``negprobe: ...``.
    """
    started = time.perf_counter()
    report = report or console_report
    if len(dataset) == 0:
        raise NegprobeError(f"dataset {dataset.name!r} is empty")
    if storage_dtype not in STORAGE_DTYPES:
        raise NegprobeError(f"storage dtype {storage_dtype!r}: use float16 or float32")
    for name, value in (("batch_size", batch_size), ("token_budget", token_budget), ("shard_rows", shard_rows)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise NegprobeError(f"{name} must be a positive integer, got {value!r}")
    fmt = fmt or FormatSpec()
    specs = parse_positions(positions)
    layer_list = model.check_layers(range(model.n_layers) if layers is None else list(layers))
    backend_impl = get_backend(backend) if isinstance(backend, str) else backend
    check_backend_fits(model, backend_impl)
    key = make_key(model, dataset, fmt, specs, layer_list, storage_dtype)
    path = store_root(root) / key.digest()
    encoded = None if _claims_complete(path) else encode_prompts(model, dataset, fmt, specs)
    _check_writable(path)

    with StoreLock(str(path) + ".lock", report):
        if _complete(path, verify, report):
            return CacheResult(ActivationStore.open(path), 0, 0, len(dataset), time.perf_counter() - started, 0)
        encoded = encoded or encode_prompts(model, dataset, fmt, specs)
        plan = _FillPlan(model, dataset, tuple(specs), tuple(layer_list), key, path, storage_dtype, backend_impl,
                         batch_size, token_budget, shard_rows, progress, report)
        try:
            return _fill(plan, encoded, started)
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


def _claims_complete(path: Path) -> bool:
    """Whether a manifest at ``path`` says the store is complete (a cheap look, nothing verified)."""
    try:
        manifest = read_manifest(path)
    except NegprobeError:
        return False
    return bool(manifest and manifest.get("complete"))


def _complete(path: Path, verify: bool, report: Reporter) -> bool:
    """Whether the store at ``path`` is complete (and, with ``verify``, its shards and prompt table check out)."""
    try:
        manifest = read_manifest(path)
    except NegprobeError as exc:
        report(f"{exc}; rebuilding it from the verified shards")
        return False
    if not manifest or not manifest.get("complete"):
        return False
    if not verify:
        return True
    if not _metadata_ok(path / METADATA, int(manifest["n_rows"]), path.name, report):
        return False
    return all(shard_problem(path / SHARDS / s) is None for s in manifest["shards"])


def _metadata_ok(file: Path, n_rows: int, key: str, report: Reporter) -> bool:
    """Whether the prompt table reads back with ``n_rows`` rows (reported and deleted when it does not)."""
    import pyarrow.parquet as pq

    try:
        if pq.read_metadata(file).num_rows == n_rows:
            return True
        problem = f"holds the wrong number of rows (not {n_rows})"
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:
        problem = f"is unreadable ({type(exc).__name__})"
    report(f"store {key}: {file.name} {problem}; rewriting it")
    file.unlink(missing_ok=True)
    return False


def _fill(plan: _FillPlan, encoded: EncodedPrompts, started: float) -> CacheResult:
    """Compute the rows no verified shard holds, then write the manifest."""
    shards_dir = plan.shards_dir
    shards_dir.mkdir(exist_ok=True)
    clean_partial(shards_dir)
    lengths = encoded.lengths
    done_rows, shard_checksums = _verified_shards(shards_dir, plan.report)
    if not _metadata_ok(plan.path / METADATA, len(plan.dataset), plan.path.name, plan.report):
        _write_metadata(plan, lengths)
    n_missing = len(plan.dataset) - len(done_rows)
    forward_passes, tokens = _compute(plan, encoded, done_rows, shard_checksums)
    _write_manifest(plan, shard_checksums)
    return CacheResult(ActivationStore.open(plan.path), forward_passes, n_missing, len(done_rows),
                       time.perf_counter() - started, tokens)


def _verified_shards(shards_dir: Path, report: Reporter) -> tuple[set[int], dict[str, dict[str, str]]]:
    """Rows held by verified shards and their checksums; a corrupt shard is reported, then deleted."""
    done_rows: set[int] = set()
    shard_checksums: dict[str, dict[str, str]] = {}
    for shard in sorted(p for p in shards_dir.iterdir() if p.name.startswith("shard-")):
        problem = shard_problem(shard)
        if problem is None:
            done_rows.update(int(r) for r in np.load(shard / "rows.npy"))
            shard_checksums[shard.name] = json.loads((shard / "checksums.json").read_text())
            continue
        try:
            rows = f"its {len(np.load(shard / 'rows.npy', mmap_mode='r'))} rows"
        except (OSError, ValueError):
            rows = "its rows"
        number = shard.name.removeprefix("shard-")
        report(f"store {shards_dir.parent.name}: shard {number} {problem}; recomputing {rows}")
        shutil.rmtree(shard)
    return done_rows, shard_checksums


def _write_metadata(plan: _FillPlan, lengths: list[int]) -> None:
    frame = plan.dataset.to_frame()
    frame.insert(0, "row", np.arange(len(plan.dataset)))
    frame["n_tokens"] = lengths
    with atomic_path(plan.path / METADATA) as tmp:
        frame.to_parquet(tmp, index=False)


def _compute(plan: _FillPlan, encoded: EncodedPrompts, done_rows: set[int],
             shard_checksums: dict[str, dict[str, str]]) -> tuple[int, int]:
    """Run the rows no shard holds (adding each committed shard to ``shard_checksums``); returns (forward passes, tokens).

    Chunks and batches are cut from the whole length-sorted dataset, not from the missing rows,
    so a resumed run puts every row in the same batch as an uninterrupted one (same numbers).
    """
    model, lengths = plan.model, encoded.lengths
    token_budget = plan.token_budget or (65536 if model.device.type == "cuda" else 8192)
    dtype = STORAGE_DTYPES[plan.storage_dtype]
    row_bytes = len(plan.layers) * len(plan.specs) * model.d_model * np.dtype(dtype).itemsize
    chunk_rows = plan.shard_rows or max(64, SHARD_BYTES // row_bytes)
    order = sorted(range(len(plan.dataset)), key=lambda r: (lengths[r], r))
    pad_id = model.tokenizer.pad_token_id if model.tokenizer.pad_token_id is not None else 0
    shards = ShardStream(plan.shards_dir, shard_checksums, np.dtype(dtype), FLUSH_SECONDS, FLUSH_FRACTION)
    forward_passes, tokens = 0, 0
    with _progress(plan.progress, len(order) - len(done_rows), plan.dataset.name) as bar:
        for start in range(0, len(order), chunk_rows):
            missing = [r for r in order[start : start + chunk_rows] if r not in done_rows]
            for rows in batches(missing, lengths, plan.batch_size, token_budget):
                batch = pad_token_lists([encoded.ids[r] for r in rows], pad_id, "right")
                selection = select_tokens(
                    [lengths[r] for r in rows], [0] * len(rows), batch.input_ids.shape[1], list(plan.specs),
                    [encoded.claim_ranges[r] for r in rows], prompt_ids=rows,
                )
                acts = plan.backend.residuals(model, batch, list(plan.layers), selection)
                shards.add(rows, acts.cpu())
                forward_passes += 1
                tokens += sum(lengths[r] for r in rows)
                bar.advance(len(rows), sum(lengths[r] for r in rows))
            shards.commit()
    return forward_passes, tokens


def _write_manifest(plan: _FillPlan, shard_checksums: dict[str, dict[str, str]]) -> None:
    model, dataset, key = plan.model, plan.dataset, plan.key
    manifest = {
        "complete": True,
        "store_version": STORE_VERSION,
        "key": {**key.__dict__, "layers": list(key.layers)},
        "model": {"name": model.name, "adapter": model.adapter_name,
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
