"""Content fingerprints of models and adapters; they key every activation cache."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from negprobe.errors import NegprobeError

# Config fields that describe where or how a model was loaded, not what it computes.
_VOLATILE_CONFIG_KEYS = {"_name_or_path", "transformers_version", "dtype", "torch_dtype", "_commit_hash"}


def config_digest(config) -> str:
    fields = {k: v for k, v in config.to_dict().items() if k not in _VOLATILE_CONFIG_KEYS}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


@torch.no_grad()
def weights_digest(model: torch.nn.Module) -> str:
    """Hash every parameter and buffer as float32, so the digest ignores the load dtype."""
    digest = hashlib.blake2b(digest_size=32)
    seen: set[int] = set()
    for name, tensor in sorted(model.state_dict(keep_vars=False).items()):
        if tensor.data_ptr() in seen and tensor.numel() > 0:  # tied weights hash once
            digest.update(f"{name}=tied".encode())
            continue
        seen.add(tensor.data_ptr())
        digest.update(f"{name}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def model_fingerprint(model: torch.nn.Module) -> str:
    """Fingerprint of a base model: hash of its config and weights (16 hex digits)."""
    both = config_digest(model.config) + weights_digest(model)
    return hashlib.sha256(both.encode()).hexdigest()[:16]


def adapter_digest(adapter_dir: Path) -> str:
    """Hash of a PEFT adapter folder: its config and weight files."""
    digest = hashlib.sha256()
    for path in sorted(adapter_dir.iterdir()):
        if path.name == "adapter_config.json":
            try:
                config = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:  # UnicodeDecodeError included
                raise NegprobeError(f"{path} is not valid JSON ({exc})") from None
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
