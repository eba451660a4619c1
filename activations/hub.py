"""Hugging Face hub references: adapter ids (``org/name``, ``hf:org/name@revision``) and cache folders.

An adapter given as an existing folder is that folder. Anything else of the form ``org/name``
(optionally ``hf:`` in front and ``@revision`` after) is a hub repository: it resolves to its
snapshot folder in the hub cache (``HF_HUB_CACHE`` / ``HF_HOME``), downloaded first when the cache
lacks it and the hub is reachable (not with ``HF_HUB_OFFLINE=1``). Failing that, one NegprobeError
line names the id.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from negprobe.errors import NegprobeError

HUB_PREFIX = "hf:"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_ADAPTER_FILES = ["adapter_config.json", "adapter_model.safetensors", "*.md", "negprobe_adapter.json",
                  "training_card.json"]


@dataclass(frozen=True)
class HubRef:
    """A hub repository named by a user: ``repo_id`` and an optional ``revision`` (branch, tag, commit)."""

    repo_id: str
    revision: str | None = None

    def __str__(self) -> str:
        return f"{HUB_PREFIX}{self.repo_id}" + (f"@{self.revision}" if self.revision else "")


def parse_hub_ref(text: str) -> HubRef | None:
    """``hf:org/name@rev`` or ``org/name[@rev]`` as a HubRef; None when ``text`` is not one."""
    explicit = text.startswith(HUB_PREFIX)
    body = text[len(HUB_PREFIX):] if explicit else text
    repo_id, _, revision = body.partition("@")
    if _REPO_ID.fullmatch(repo_id) and (revision or "@" not in body):
        return HubRef(repo_id, revision or None)
    if explicit:
        raise NegprobeError(f"{text!r} is not a hub reference: write hf:org/name or hf:org/name@revision")
    return None


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_cache_dir() -> str:
    """The hub cache as the environment names it now (huggingface_hub reads it once, at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def resolve_adapter(adapter: str | Path) -> tuple[Path, str]:
    """``(folder, name)`` of an adapter given as a folder or a hub reference; the name is the folder
    (user-expanded) or ``hf:org/name[@rev]``."""
    text = str(adapter)
    path = Path(text).expanduser()
    if path.is_dir() and not text.startswith(HUB_PREFIX):
        return path, str(path)
    ref = parse_hub_ref(text)
    if ref is None or path.exists() or text.startswith((".", "/", "~")):
        raise NegprobeError(f"adapter {text}: folder not found (and not a hub id org/name)")
    return snapshot_folder(ref, _ADAPTER_FILES), str(ref)


def snapshot_folder(ref: HubRef, allow_patterns: list[str] | None = None) -> Path:
    """The hub-cache snapshot folder of ``ref``: from the cache alone first, then (online) downloaded."""
    from huggingface_hub import snapshot_download

    cache = hub_cache_dir()
    try:
        return Path(snapshot_download(ref.repo_id, revision=ref.revision, cache_dir=cache, local_files_only=True,
                                      allow_patterns=allow_patterns))
    except Exception:  # LocalEntryNotFoundError (or a damaged cache entry): try the hub, unless offline
        pass
    if hub_offline():
        raise NegprobeError(f"{ref} is not in the hub cache {cache} and HF_HUB_OFFLINE is set;"
                            " download it once online or pass a local folder") from None
    try:
        return Path(snapshot_download(ref.repo_id, revision=ref.revision, cache_dir=cache,
                                      allow_patterns=allow_patterns))
    except Exception as exc:  # offline, unknown repository, gated, revision not found ...
        raise NegprobeError(f"{ref} is not in the hub cache {cache} and could not be downloaded"
                            f" ({_first_line(exc)}); pass a local folder or check the id") from None


def cached_snapshot(repo_id: str) -> Path | None:
    """The snapshot folder a hub model was loaded from (None when ``repo_id`` is not in the cache)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json", cache_dir=hub_cache_dir())
    return Path(found).parent if isinstance(found, str) else None


def hub_files_fingerprint(repo_id: str, revision: str | None = None) -> str:
    """Files fingerprint (:func:`.fingerprint.files_digest`) of a hub model without downloading its weights:
    ``config.json`` and the weight index come from the hub (small files, cached), each weight file's SHA-256
    from the hub's LFS metadata, so it equals the fingerprint of the same model loaded from a download."""
    from huggingface_hub import HfApi, hf_hub_download

    from .fingerprint import WEIGHT_LAYOUTS, files_digest, read_json_object

    ref = HubRef(repo_id, revision)
    try:
        info = HfApi().model_info(repo_id, revision=revision, files_metadata=True)
        listed = {s.rfilename for s in info.siblings or []}
        shas = {s.rfilename: s.lfs.sha256 for s in info.siblings or [] if s.lfs is not None}

        def fetch(filename: str) -> Path:
            return Path(hf_hub_download(repo_id, filename, revision=info.sha, cache_dir=hub_cache_dir()))

        names: list[str] = []
        for index_name, single_name in WEIGHT_LAYOUTS:  # transformers' order of preference
            if index_name in listed:
                weight_map = read_json_object(fetch(index_name)).get("weight_map")
                names = sorted(set(weight_map.values())) if isinstance(weight_map, dict) else []
            elif single_name in listed:
                names = [single_name]
            if names:
                break
        missing = [name for name in names if name not in shas]
        if not names or missing:
            raise NegprobeError(f"{ref}: the hub lists no LFS weight files for it ({', '.join(missing[:3]) or 'none'})")
        config = read_json_object(fetch("config.json"))
    except NegprobeError:
        raise
    except Exception as exc:  # offline, unknown or gated repository, revision not found ...
        raise NegprobeError(f"{ref}: cannot read its files from the hub ({_first_line(exc)}); check the id,"
                            " the network and HF_TOKEN") from None
    return files_digest(config, [(name, shas[name]) for name in names])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
