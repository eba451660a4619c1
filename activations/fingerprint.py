"""Content fingerprints of models and adapters; they key every activation cache.

Two ways to fingerprint a base model, one answer per checkpoint:

* **files** (anything loaded from a checkpoint folder or the hub cache): the checkpoint's
  ``config.json`` (minus load-time fields) plus the SHA-256 of each weight file transformers loads.
  A file that is a hub-cache symlink into ``blobs/`` is named by its blob, which for LFS files (every
  safetensors on the hub) *is* the SHA-256 of its bytes, so nothing is read; a local file is hashed
  once and the hash is remembered under ``$NEGPROBE_HOME/file-hashes`` keyed by (path, inode, size,
  mtime, ctime). No tensor is loaded, so it works for meta-device, offloaded and sharded models, and the
  same files in the hub cache or in a copied folder give the same fingerprint.
* **tensors** (in-memory models built from a config, and the pre-files scheme): every parameter
  hashed as float32.

Both ignore the dtype a model was loaded in (the activation store keys the compute dtype separately);
the files scheme does not ignore the dtype the checkpoint was *saved* in (a float32 and a bfloat16
copy of one model are different files, so different fingerprints: a cache miss, never a wrong hit).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import torch

from negprobe.errors import NegprobeError

from .atomic import atomic_write_text

# Config fields that describe where or how a model was loaded, not what it computes.
_VOLATILE_CONFIG_KEYS = {"_name_or_path", "transformers_version", "dtype", "torch_dtype", "_commit_hash",
                         "_attn_implementation_autoset"}
_SHA256 = re.compile(r"[0-9a-f]{64}")
# The weight files transformers loads, in its order of preference: (index file, single file).
WEIGHT_LAYOUTS = (("model.safetensors.index.json", "model.safetensors"),
                   ("pytorch_model.bin.index.json", "pytorch_model.bin"))


def config_digest(config) -> str:
    return _dict_digest(config.to_dict())


def _dict_digest(fields: dict[str, Any]) -> str:
    fields = {k: v for k, v in fields.items() if k not in _VOLATILE_CONFIG_KEYS}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


@torch.no_grad()
def weights_digest(model: torch.nn.Module) -> str:
    """Hash every parameter and buffer as float32, so the digest ignores the load dtype."""
    digest = hashlib.blake2b(digest_size=32)
    seen: set[int] = set()
    for name, tensor in sorted(model.state_dict(keep_vars=False).items()):
        if tensor.is_meta:
            raise NegprobeError(f"cannot hash the weights of a meta-device model ({name}): fingerprint its files")
        if tensor.data_ptr() in seen and tensor.numel() > 0:  # tied weights hash once
            digest.update(f"{name}=tied".encode())
            continue
        seen.add(tensor.data_ptr())
        digest.update(f"{name}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def model_fingerprint(model: torch.nn.Module) -> str:
    """Tensors fingerprint of an in-memory model: hash of its config and weights (16 hex digits)."""
    both = config_digest(model.config) + weights_digest(model)
    return hashlib.sha256(both.encode()).hexdigest()[:16]


def matches_tensors_scheme(model: torch.nn.Module, fingerprint: str) -> bool:
    """Whether ``fingerprint`` is ``model``'s tensors fingerprint: adapter cards and run folders written
    before files fingerprints carry one. Models over ~5e9 parameters, or not in memory, never match (that
    scheme could not hash them, and a mismatch must not cost a 100 GB read)."""
    params = list(model.parameters())
    if any(p.is_meta for p in params) or sum(p.numel() for p in params) > 5e9:
        return False
    return model_fingerprint(model) == fingerprint


def weight_files(folder: Path) -> list[Path] | None:
    """The weight files transformers would load from ``folder`` (None when it holds none)."""
    for index_name, single_name in WEIGHT_LAYOUTS:
        index = folder / index_name
        if index.is_file():
            weight_map = read_json_object(index).get("weight_map")
            if not isinstance(weight_map, dict) or not weight_map:
                raise NegprobeError(f"{index} has no weight_map")
            files = [folder / name for name in sorted(set(weight_map.values()))]
            missing = [f.name for f in files if not f.is_file()]
            if missing:
                raise NegprobeError(f"{index} names weight files that are missing: {', '.join(missing[:3])}")
            return files
        if (folder / single_name).is_file():
            return [folder / single_name]
    return None


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: the hub blob's name when ``path`` links into a hub cache, else hashed
    once and remembered (keyed by path, inode, size, mtime and ctime, so any rewrite is re-hashed)."""
    real = path.resolve()
    if path.is_symlink() and real.parent.name == "blobs" and _SHA256.fullmatch(real.name):
        return real.name
    stat = real.stat()
    key_text = f"{real}|{stat.st_dev}|{stat.st_ino}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ctime_ns}"
    memo = _memo_dir() / (hashlib.sha256(key_text.encode()).hexdigest()[:32] + ".txt")
    if memo.is_file():
        known = memo.read_text(encoding="utf-8").strip()
        if _SHA256.fullmatch(known):
            return known
    digest = hashlib.sha256()
    with open(real, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    try:
        atomic_write_text(memo, digest.hexdigest())
    except OSError:  # a read-only cache only costs a re-hash next time
        pass
    return digest.hexdigest()


def _memo_dir() -> Path:
    from .embedded import negprobe_home

    return negprobe_home() / "file-hashes"


def files_fingerprint(folder: str | Path) -> str | None:
    """Files fingerprint of a checkpoint folder (16 hex digits), or None when it holds no weight files.

    Reads ``config.json`` and file metadata only (plus each local weight file's bytes the first time).
    """
    folder = Path(folder)
    files = weight_files(folder)
    if files is None:
        return None
    return files_digest(read_json_object(folder / "config.json"), [(path.name, file_digest(path)) for path in files])


def files_digest(config: dict[str, Any], files: list[tuple[str, str]]) -> str:
    """The files fingerprint from a checkpoint's config and its weight files' (name, SHA-256): one formula
    whether the hashes come from local files, hub-cache blob names or the hub's LFS metadata."""
    digest = hashlib.sha256(b"negprobe-files-v1\n")
    digest.update(_dict_digest(config).encode())
    for name, sha in files:
        digest.update(f"\n{name}={sha}".encode())
    return digest.hexdigest()[:16]


def checkpoint_fingerprint(model: torch.nn.Module, folder: str | Path | None) -> str:
    """The fingerprint of a loaded base model: by its checkpoint files when ``folder`` holds them,
    else by its tensors (a model built in memory)."""
    by_files = files_fingerprint(folder) if folder is not None else None
    return by_files if by_files is not None else model_fingerprint(model)


def adapter_digest(adapter_dir: Path) -> str:
    """Hash of a PEFT adapter folder: its config and weight files (the same from the hub or a copy)."""
    digest = hashlib.sha256()
    for path in sorted(adapter_dir.iterdir()):
        if path.name == "adapter_config.json":
            config = read_json_object(path)
            config.pop("base_model_name_or_path", None)
            digest.update(json.dumps(config, sort_keys=True).encode())
        elif path.suffix in {".safetensors", ".bin"} and path.name.startswith("adapter_model"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def combine(base_fingerprint: str, adapter_hash: str | None) -> str:
    """Fingerprint of base + adapter; equals the base fingerprint when there is no adapter."""
    if adapter_hash is None:
        return base_fingerprint
    return hashlib.sha256(f"{base_fingerprint}+{adapter_hash}".encode()).hexdigest()[:16]


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object file (a config, an index, an adapter card); anything else is one clear error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise NegprobeError(f"{path} is not UTF-8 text") from None
    except ValueError as exc:
        raise NegprobeError(f"{path} is not valid JSON ({exc})") from None
    except OSError as exc:
        raise NegprobeError(f"{path} cannot be read ({exc.strerror or exc})") from None
    if not isinstance(data, dict):
        raise NegprobeError(f"{path} is not a JSON object")
    return data
