"""A hub cache laid out as huggingface_hub writes it, built from a local folder: no network."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def add_to_hub_cache(cache: Path, repo_id: str, folder: Path, commit: str = COMMIT, ref: str = "main") -> Path:
    """Copy ``folder``'s files into ``cache`` as repo ``repo_id`` at ``commit`` (``refs/<ref>`` points
    to it): blobs named by SHA-256 for weight files (as LFS does) and by git-style SHA-1 for the rest,
    snapshot entries as relative symlinks. Returns the snapshot folder."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    blobs, snapshot = repo / "blobs", repo / "snapshots" / commit
    blobs.mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / ref).write_text(commit)
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        lfs = path.suffix in {".safetensors", ".bin"}
        name = hashlib.sha256(data).hexdigest() if lfs else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        if not (blobs / name).exists():
            shutil.copyfile(path, blobs / name)
        link = snapshot / path.name
        if link.exists() or link.is_symlink():
            link.unlink()
        os.symlink(os.path.relpath(blobs / name, snapshot), link)
    return snapshot
