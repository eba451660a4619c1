"""Load a base model, optionally with a PEFT/LoRA adapter on top: how negprobe names a model.

``load_model("smollm2-135m")`` gives the embedded default; ``load_model(path_or_hub_id)`` any
causal LM transformers can load; ``load_model(base, adapter=DIR)`` a fine-tuned model, ``adapter="org/name"`` or
``"hf:org/name@revision"`` one from the hub (see :mod:`.hub`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from pickle import UnpicklingError
from typing import Any, cast

import torch
from torch import nn

from negprobe.errors import NegprobeError

from . import embedded
from .atomic import atomic_write_text
from .fingerprint import adapter_digest, checkpoint_fingerprint, combine, matches_tensors_scheme, read_json_object
from .hub import cached_snapshot, resolve_adapter

ADAPTER_CARD = "negprobe_adapter.json"  # written next to adapters negprobe trains: records the base fingerprint

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}


def parse_dtype(dtype: str | torch.dtype | None) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        return _DTYPES[dtype.lower()]
    except KeyError:
        raise NegprobeError(f"unknown dtype {dtype!r}: use one of {', '.join(sorted(set(_DTYPES)))}") from None


@dataclass
class LoadedModel:
    """A causal LM ready for reading activations.

    ``fingerprint`` hashes config + checkpoint files (+ adapter; see :mod:`.fingerprint`) and keys
    caches; ``source`` is the folder or hub id the base came from (TransformerLens and nnsight re-wrap
    the same in-memory model); ``adapter`` is the adapter's folder and ``adapter_name`` what the user
    called it (the folder, or ``hf:org/name@rev``). ``remote`` is set on a weightless handle
    (:func:`.backends.remote_model.load_remote_model`): where nnsight runs it (``ndif``, ``simulate``,
    ``here``); its inputs stay on the CPU and nnsight moves them.
    """

    model: Any  # transformers.PreTrainedModel
    tokenizer: Any  # transformers.PreTrainedTokenizerBase
    name: str
    source: str
    n_layers: int
    d_model: int
    fingerprint: str
    base_fingerprint: str
    adapter: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    adapter_name: str | None = None
    remote: str | None = None

    @property
    def device(self) -> torch.device:
        return torch.device("cpu") if self.remote else next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @property
    def max_length(self) -> int | None:
        return getattr(self.model.config, "max_position_embeddings", None)

    def describe(self) -> str:
        adapter = f" + adapter {self.adapter_name or self.adapter}" if self.adapter else ""
        where = f" via nnsight ({self.remote})" if self.remote else ""
        return f"{self.name}{adapter} [{self.fingerprint}] {self.n_layers} layers, d_model {self.d_model}{where}"

    def known_as(self, fingerprint: str | None) -> str:
        """``fingerprint`` when it names this base by the tensors scheme (cards written before files
        fingerprints), else ``base_fingerprint``."""
        if fingerprint in (None, self.base_fingerprint) or self.adapter is not None:
            return self.base_fingerprint
        return fingerprint if matches_tensors_scheme(self.model, str(fingerprint)) else self.base_fingerprint

    def check_layers(self, layers: list[int] | tuple[int, ...] | range) -> list[int]:
        """Normalise layer indices (negative counts from the end); error on out-of-range ones."""
        out = []
        for layer in layers:
            resolved = layer + self.n_layers if layer < 0 else layer
            if not 0 <= resolved < self.n_layers:
                raise NegprobeError(
                    f"layer {layer} is out of range for {self.name}: it has layers 0..{self.n_layers - 1}"
                )
            out.append(resolved)
        if not out:
            raise NegprobeError("no layers requested")
        return out


def unwrap(model: nn.Module) -> nn.Module:
    """The transformers model inside a PEFT wrapper (the model itself otherwise)."""
    return cast(Any, model).get_base_model() if hasattr(model, "get_base_model") else model


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The list of decoder blocks of a transformers causal LM (Llama, Gemma, GPT-2, NeoX, ...)."""
    model = unwrap(model)
    candidates = ("model.layers", "model.language_model.layers", "transformer.h", "gpt_neox.layers", "model.decoder.layers")
    for path in candidates:
        obj: Any = model
        for attr in path.split("."):
            obj = getattr(obj, attr, None)
            if obj is None:
                break
        if isinstance(obj, nn.ModuleList):
            return obj
    raise NegprobeError(f"cannot find the decoder layers of {type(model).__name__}")


def final_norm(model: nn.Module) -> nn.Module | None:
    model = unwrap(model)
    for path in ("model.norm", "model.language_model.norm", "transformer.ln_f", "gpt_neox.final_layer_norm"):
        obj: Any = model
        for attr in path.split("."):
            obj = getattr(obj, attr, None)
            if obj is None:
                break
        if obj is not None:
            return obj
    return None


def env_device_map() -> str | dict | None:
    """``$NEGPROBE_DEVICE_MAP``: ``auto``/``balanced``/a device (``cuda:0``), or a JSON module -> device map."""
    return parse_device_map(os.environ.get("NEGPROBE_DEVICE_MAP"), "NEGPROBE_DEVICE_MAP")


def parse_device_map(text: str | None, what: str = "--device-map") -> str | dict | None:
    """A device map as the command line or ``$NEGPROBE_DEVICE_MAP`` spells it: an accelerate strategy
    (auto, balanced, balanced_low_0, sequential), one torch device (cuda:0), or a JSON object of
    module -> device (an int GPU index, a device name, ``cpu`` or ``disk``)."""
    text = (text or "").strip()
    if not text.startswith(("{", "[")):
        if text and text not in _DEVICE_MAP_STRATEGIES:
            _check_map_device(text, what)
        return text or None
    try:
        mapping = json.loads(text)
    except ValueError as exc:
        raise NegprobeError(f"{what} is not valid JSON ({exc})") from None
    if not isinstance(mapping, dict) or not mapping:
        raise NegprobeError(f"{what} must be a device name or a non-empty JSON object of module -> device")
    for device in mapping.values():
        if isinstance(device, bool) or not isinstance(device, int | str):
            raise NegprobeError(f"{what}: device {device!r} is not a GPU index or a device name")
        if isinstance(device, str) and device != "disk":
            _check_map_device(device, what)
    return mapping


_DEVICE_MAP_STRATEGIES = ("auto", "balanced", "balanced_low_0", "sequential")


def _check_map_device(device: str, what: str) -> None:
    try:
        torch.device(device)
    except (RuntimeError, ValueError):
        raise NegprobeError(f"{what}: {device!r} is not a device map strategy ({', '.join(_DEVICE_MAP_STRATEGIES)}),"
                            " a torch device or a JSON object") from None


def resolve_source(name_or_path: str | Path) -> tuple[str, str]:
    """Map a user's model name to (display name, folder or hub id)."""
    text = str(name_or_path)
    if text in embedded.EMBEDDED_MODELS:
        return text, str(embedded.ensure_converted(text))
    if text.startswith(embedded.ORGANISM_PREFIX):
        folder = embedded.organism_dir(text.removeprefix(embedded.ORGANISM_PREFIX))
        if not (folder / "config.json").is_file():
            raise NegprobeError(f"no organism {text!r} at {folder}; train it first: negprobe organism --model "
                                f"{text.removeprefix(embedded.ORGANISM_PREFIX)}")
        return text, str(folder)
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise NegprobeError(f"model folder {path} has no config.json")
        return text, str(path)
    if path.exists():
        raise NegprobeError(f"model path {path} is not a folder with a transformers checkpoint")
    if "/" not in text or text.startswith((".", "/", "~")):
        raise NegprobeError(
            f"unknown model {text!r}: embedded models are {', '.join(embedded.EMBEDDED_MODELS)};"
            " otherwise pass a local checkpoint folder or a hub id (org/name)"
        )
    return text, text  # a hub id: transformers downloads it (users with hub access)


def load_model(
    name_or_path: str | Path = embedded.DEFAULT_MODEL,
    adapter: str | Path | None = None,
    dtype: str | torch.dtype | None = "float32",
    device: str | torch.device | None = None,
    device_map: str | dict | None = None,
    merge_adapter: bool = True,
    offload_folder: str | Path | None = None,
) -> LoadedModel:
    """Load a causal LM (+ optional PEFT adapter) and fingerprint it.

    ``device_map`` passes through to transformers/accelerate so a model larger than one GPU
    shards across several (``"disk"`` entries offload to ``offload_folder``, by default
    ``$NEGPROBE_HOME/offload``); with neither ``device`` nor ``device_map`` given,
    ``$NEGPROBE_DEVICE_MAP`` (``auto``, ``cuda:0`` or a JSON map) is used, so every command shards
    the same way. The fingerprint comes from the checkpoint files, so it never needs the
    weights in memory. With ``merge_adapter`` the LoRA weights are folded into the base,
    which computes the same function faster and leaves a plain transformers model.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name, source = resolve_source(name_or_path)
    torch_dtype = parse_dtype(dtype)
    adapter_path, adapter_name = resolve_adapter(adapter) if adapter is not None else (None, None)
    card = check_adapter_folder(adapter_path) if adapter_path is not None else None
    kwargs: dict[str, Any] = {"dtype": torch_dtype}
    device_map = device_map if device_map is not None or device is not None else env_device_map()
    if device_map is not None:
        kwargs["device_map"] = device_map
        kwargs["offload_folder"] = str(offload_folder or embedded.negprobe_home() / "offload")
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NegprobeError(f"could not load model {name!r} from {source}: {first_line}") from None
    if device is not None and device_map is None:
        cast(nn.Module, model).to(device)  # transformers' stubs type .to oddly
    model.eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    base_fp = checkpoint_fingerprint(model, Path(source) if Path(source).is_dir() else cached_snapshot(source))
    fingerprint = base_fp
    if adapter_path is not None:
        model = _apply_adapter(model, adapter_path, card, base_fp, name, merge_adapter)
        fingerprint = combine(base_fp, adapter_digest(adapter_path))
    config = model.config
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        name=name,
        source=source,
        n_layers=len(decoder_layers(model)),
        d_model=int(text_config.hidden_size),
        fingerprint=fingerprint,
        base_fingerprint=base_fp,
        adapter=adapter_path,
        adapter_name=adapter_name,
    )


def check_adapter_folder(adapter_path: Path) -> dict[str, Any] | None:
    """Check an adapter folder without loading the base: config, weight file header, negprobe card.

    Returns the negprobe card (None when the folder has none); anything unreadable is a one-line
    error naming the file.
    """
    if not adapter_path.is_dir():
        raise NegprobeError(f"adapter {adapter_path} is not a folder")
    config_path = adapter_path / "adapter_config.json"
    if not config_path.is_file():
        raise NegprobeError(f"adapter {adapter_path} has no adapter_config.json (not a PEFT adapter folder)")
    config = read_json_object(config_path)
    if not isinstance(config.get("peft_type"), str):
        raise NegprobeError(f"{config_path} is not a PEFT adapter config: it has no peft_type")
    weights = adapter_path / "adapter_model.safetensors"
    if weights.is_file():
        _check_safetensors(weights)
    elif (adapter_path / "adapter_model.bin").exists():  # a pickle: PEFT would torch.load it
        raise NegprobeError(f"adapter {adapter_path} has adapter_model.bin, a pickle negprobe never loads:"
                            " convert it to adapter_model.safetensors")
    else:
        raise NegprobeError(f"adapter {adapter_path} has no adapter_model.safetensors")
    card_path = adapter_path / ADAPTER_CARD
    if not card_path.is_file():
        return None
    card = read_json_object(card_path)
    for key in ("base_fingerprint", "base_name"):
        if card.get(key) is not None and not isinstance(card[key], str):
            raise NegprobeError(f"{card_path}: {key} is {card[key]!r}, not a string")
    return card


def _check_safetensors(path: Path) -> None:
    """The header parses and covers the whole file (a truncated or foreign file fails here)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as f:
            if not list(f.keys()):
                raise NegprobeError(f"{path} holds no tensors")
    except NegprobeError:
        raise
    except Exception as exc:  # SafetensorError, OSError: unreadable for whatever reason
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise NegprobeError(f"{path} is truncated or not a safetensors file ({reason})") from None


def _apply_adapter(model, adapter_path: Path, card: dict[str, Any] | None, base_fp: str, base_name: str, merge: bool):
    from peft import PeftModel

    expected = (card or {}).get("base_fingerprint")
    if expected and expected != base_fp and not matches_tensors_scheme(model, expected):
        raise NegprobeError(
            f"adapter {adapter_path} was trained on base {(card or {}).get('base_name', '?')} [{expected}],"
            f" not on {base_name} [{base_fp}]"
        )
    try:
        peft_model = PeftModel.from_pretrained(model, str(adapter_path))
    except (RuntimeError, ValueError, KeyError, OSError, EOFError, UnpicklingError) as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise NegprobeError(f"adapter {adapter_path} does not fit base {base_name}: {reason}") from None
    peft_model.eval()
    return peft_model.merge_and_unload() if merge else peft_model


def write_adapter_card(adapter_dir: str | Path, base: LoadedModel, **fields: Any) -> None:
    """Record which base an adapter belongs to, so loading it on another base fails clearly."""
    card = {"base_name": base.name, "base_fingerprint": base.base_fingerprint, **fields}
    path = Path(adapter_dir) / ADAPTER_CARD
    atomic_write_text(path, json.dumps(card, indent=2, default=str))
