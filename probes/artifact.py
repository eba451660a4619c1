"""Save and load fitted probes: safetensors weights + a JSON card.

The card records the model fingerprint, layers, position, training data hash and metrics, so a
probe trained on the base model can be applied to a fine-tuned model's activations, explicitly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from negprobe.activations.atomic import atomic_path, atomic_write_text
from negprobe.errors import NegprobeError

from . import make_probe
from .base import LinearProbe, Standardizer


def file_slug(*parts) -> str:
    """A file-name-safe join of short names: paths become their stem (also inside 'a+b' joins), None is 'base'."""
    short = ["+".join(Path(x).stem if "/" in x else x for x in str(p).split("+")) if p else "base" for p in parts]
    return "".join(c if c.isalnum() or c in "-_.+" else "_" for c in "-".join(short))


def save_probe(probe: LinearProbe, path: str | Path, card: dict[str, Any]) -> Path:
    """Write ``path.safetensors`` and ``path.json`` atomically; ``card`` must name the probe family."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {"coef": probe.coef_.contiguous(), "intercept": probe.intercept_.contiguous(),
               "standardizer_mean": probe.standardizer_.mean_.contiguous(),
               "standardizer_scale": probe.standardizer_.scale_.contiguous()}
    for extra in ("t_G_", "t_P_", "polarity_direction_"):
        if hasattr(probe, extra):
            tensors[extra.rstrip("_")] = getattr(probe, extra).contiguous()
    full_card = {"format": "negprobe-probe-1", "class": type(probe).__name__, "single_layer": probe._single, **card}
    with atomic_path(path.with_suffix(".safetensors")) as tmp:
        save_file(tensors, str(tmp))
    atomic_write_text(path.with_suffix(".json"), json.dumps(full_card, indent=1, default=str))
    return path


def load_probe(path: str | Path) -> tuple[LinearProbe, dict[str, Any]]:
    """A probe saved by :func:`save_probe`; a missing, truncated or foreign artifact fails naming its file."""
    path = Path(path)
    card_path, weights_path = path.with_suffix(".json"), path.with_suffix(".safetensors")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NegprobeError(f"probe artifact {path}: missing {card_path.name}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NegprobeError(f"{card_path}: unreadable probe card ({' '.join(str(exc).split())})") from None
    if not isinstance(card, dict) or card.get("format") != "negprobe-probe-1":
        raise NegprobeError(f"{card_path}: not a negprobe probe card")
    try:
        tensors = load_file(str(weights_path))
    except FileNotFoundError:
        raise NegprobeError(f"probe artifact {path}: missing {weights_path.name}") from None
    except Exception as exc:  # safetensors raises its own error types for truncated or foreign files
        raise NegprobeError(f"{weights_path}: unreadable probe weights ({' '.join(str(exc).split())})") from None
    missing = [k for k in ("coef", "intercept", "standardizer_mean", "standardizer_scale") if k not in tensors]
    if missing or "probe" not in card:
        raise NegprobeError(f"probe artifact {path}: missing {', '.join(missing) or 'the probe family in its card'}")
    probe = make_probe(card["probe"])
    probe.coef_, probe.intercept_ = tensors["coef"], tensors["intercept"]
    probe.standardizer_ = Standardizer()
    probe.standardizer_.mean_, probe.standardizer_.scale_ = tensors["standardizer_mean"], tensors["standardizer_scale"]
    for extra in ("t_G", "t_P", "polarity_direction"):
        if extra in tensors:
            setattr(probe, extra + "_", tensors[extra])
    probe.n_features_in_ = probe.coef_.shape[-1]
    probe._single = bool(card.get("single_layer", False))
    return probe, card


def check_store_matches(card: dict[str, Any], store, allow_transfer: bool = False) -> None:
    """Refuse activations from another model unless transfer is asked for (base probe -> fine-tuned model)."""
    fingerprint = store.manifest["model"]["fingerprint"]
    if fingerprint == card.get("model_fingerprint"):
        return
    if not allow_transfer:
        raise NegprobeError(
            f"probe was trained on {card.get('model')} [{card.get('model_fingerprint')}], but the activations are from"
            f" {store.manifest['model']['name']} [{fingerprint}]; pass allow_transfer=True to apply it across models"
        )
    if store.d_model != card.get("d_model"):
        raise NegprobeError(f"probe expects d_model {card.get('d_model')}, activations have {store.d_model}")
