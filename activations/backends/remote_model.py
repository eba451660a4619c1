"""A weightless model handle for nnsight remote execution (NDIF; Fiotto-Kaufman et al. 2024, "NNsight and NDIF").

:func:`load_remote_model` reads the config and tokenizer only and builds the model on the meta device
(nnsight's lazy ``TransformersModel``), so a 35B model costs no memory here. Its fingerprint comes
from the checkpoint files (a local folder or hub-cache snapshot) or from the hub's LFS hashes of them,
never from tensors: the same fingerprint :func:`..models.load_model` gives, so both share one store.
``LoadedModel.remote`` says where nnsight runs it:

* ``ndif``: ``remote=True``, on NDIF (hub ids only; needs ``NDIF_API_KEY`` and the network);
* ``simulate``: nnsight's ``remote="local"``: the request is serialised exactly as for NDIF, rebuilt
  with local modules hidden, and run here on weights loaded here: a dry run of the remote path;
* ``here``: a plain nnsight trace here (the weights load on first use).

Only nnsight-traced reads run through the handle: residuals (``backend="nnsight"``) and logits
(``handle.model(input_ids=...)``, which belief scoring calls); hooks on the modules (hf and
TransformerLens backends, patching, steering) need the weights here.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jaxtyping import Float, Int
from torch import Tensor

from negprobe.errors import NegprobeError

from ..fingerprint import files_fingerprint
from ..hub import cached_snapshot, hub_cache_dir, hub_files_fingerprint
from ..models import LoadedModel, decoder_layers, load_model, parse_device_map, parse_dtype, resolve_source

REMOTE_MODES = ("ndif", "simulate", "here")
REMOTE_ENV = "NEGPROBE_REMOTE"  # where --remote runs: ndif (default); simulate or here run the same path here
_FORWARD_OPTIONS = {"use_cache", "return_dict", "logits_to_keep"}  # the trace never caches


def remote_mode() -> str:
    """Where ``--remote`` runs: ``$NEGPROBE_REMOTE`` (``ndif`` by default; ``simulate``/``here`` run here)."""
    mode = os.environ.get(REMOTE_ENV) or "ndif"
    if mode not in REMOTE_MODES:
        raise NegprobeError(f"${REMOTE_ENV}={mode!r}: use one of {', '.join(REMOTE_MODES)}")
    return mode


def check_remote(remote: bool, device_map: str | dict | None = None, adapters=(), device: str | None = None) -> None:
    """``--remote`` runs the weights where nnsight runs them: a device, a device map or an adapter do not apply."""
    if remote:
        remote_mode()
        if device is not None or device_map is not None or any(a is not None for a in adapters):
            raise NegprobeError("--remote runs the model on NDIF: --device, --device-map and --adapter do not apply")


def open_model(name: str | Path, adapter: str | Path | None = None, dtype: str | None = "float32",
               device_map: str | dict | None = None, remote: bool = False, device: str | None = None) -> LoadedModel:
    """The model a run reads: loaded here (:func:`..models.load_model`; ``device_map`` as the command line
    spells it, see :func:`..models.parse_device_map`), or with ``remote`` a weightless handle run where
    :func:`remote_mode` says (:func:`load_remote_model`)."""
    check_remote(remote, device_map, (adapter,), device)
    if remote:
        return load_remote_model(name, dtype, remote_mode())
    if isinstance(device_map, str):
        device_map = parse_device_map(device_map)
    return load_model(name, adapter=adapter, dtype=dtype, device=device, device_map=device_map)


def trace_options(mode: str | None, remote: bool = False) -> dict[str, Any]:
    """``trace`` keyword arguments for a handle run in ``mode`` (or any model with ``remote=True``)."""
    if mode == "ndif" or (mode is None and remote):
        return {"remote": True}
    return {"remote": "local"} if mode == "simulate" else {}


def remote_failure(mode: str | None, exc: Exception) -> Exception:
    """What a failed trace raises: one clear line for NDIF (network, key, model not hosted), else ``exc`` itself."""
    if mode != "ndif" or isinstance(exc, NegprobeError):
        return exc
    text = str(exc).strip()
    reason = text.splitlines()[0][:200] if text else type(exc).__name__
    return NegprobeError(f"NDIF remote execution failed ({reason}); check NDIF_API_KEY, the network and that NDIF"
                         " hosts this model (nnsight.ndif.status())")


def check_ndif_key() -> None:
    """NDIF refuses anonymous requests: say so before any work."""
    from nnsight import CONFIG

    if not CONFIG.API.APIKEY:
        raise NegprobeError("--remote runs on NDIF and needs an API key: set NDIF_API_KEY (from https://login.ndif.us)")


class RemoteCausalLM:
    """Stands in for the transformers model of a handle: its ``config``, the meta module tree
    (``get_base_model``, so :func:`..models.decoder_layers` finds the blocks) and a forward that
    returns ``.logits`` through an nnsight trace."""

    def __init__(self, wrapped: Any, mode: str):
        self.wrapped, self.mode = wrapped, mode

    @property
    def config(self) -> Any:
        return self.wrapped._module.config

    def get_base_model(self) -> Any:
        return self.wrapped._module

    def parameters(self):
        return self.wrapped._module.parameters()

    def eval(self) -> RemoteCausalLM:
        return self

    def __call__(self, input_ids: Int[Tensor, "batch seq"], attention_mask: Int[Tensor, "batch seq"] | None = None,
                 position_ids: Int[Tensor, "batch seq"] | None = None, **options: Any) -> SimpleNamespace:
        unsupported = set(options) - _FORWARD_OPTIONS
        if unsupported:
            raise NegprobeError(f"a remote handle computes logits only, not {', '.join(sorted(unsupported))}")
        inputs = {"input_ids": input_ids.cpu()}
        inputs |= {"attention_mask": attention_mask.cpu()} if attention_mask is not None else {}
        inputs |= {"position_ids": position_ids.cpu()} if position_ids is not None else {}
        keep = options.get("logits_to_keep")
        inputs |= {"logits_to_keep": int(keep)} if keep else {}  # last positions only: less to send back
        wrapped = self.wrapped
        try:
            with wrapped.trace(inputs, **trace_options(self.mode)):
                logits = wrapped.output.logits.save()  # pyright: ignore[reportAttributeAccessIssue]  # nnsight proxy
        except Exception as exc:
            raise remote_failure(self.mode, exc) from None
        result: Float[Tensor, "batch seq vocab"] = logits.detach()
        return SimpleNamespace(logits=result)


def load_remote_model(name_or_path: str | Path, dtype: str | None = "float32", mode: str = "ndif") -> LoadedModel:
    """A :class:`..models.LoadedModel` whose weights stay where nnsight runs it (see the module docstring).

    Reads ``config.json`` and the tokenizer (from the folder, the hub cache or the hub); nothing
    else is loaded until a ``simulate`` or ``here`` trace needs the weights.
    """
    from nnsight.modeling.transformers import TransformersModel
    from transformers import AutoTokenizer

    if mode not in REMOTE_MODES:
        raise NegprobeError(f"remote mode {mode!r}: use one of {', '.join(REMOTE_MODES)}")
    name, source = resolve_source(name_or_path)
    folder = Path(source) if Path(source).is_dir() else None
    if mode == "ndif":
        if folder is not None:
            raise NegprobeError(f"--remote: NDIF runs models from the hub, and {name} is a local folder;"
                                " pass a hub id (org/name)")
        check_ndif_key()
    load_from, hub_kwargs = _where_to_read(source, folder, mode)
    try:
        tokenizer = AutoTokenizer.from_pretrained(load_from, **hub_kwargs)
        wrapped = TransformersModel(load_from, tokenizer=tokenizer, task="text-generation", dtype=parse_dtype(dtype),
                                    **hub_kwargs)
    except (OSError, ValueError, RuntimeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NegprobeError(f"could not read the config of {name!r} from {source}: {first_line}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    fingerprint = _fingerprint(source, folder)
    handle = RemoteCausalLM(wrapped, mode)
    text_config = handle.config.get_text_config() if hasattr(handle.config, "get_text_config") else handle.config
    loaded = LoadedModel(model=handle, tokenizer=tokenizer, name=name, source=source,
                         n_layers=len(decoder_layers(handle.get_base_model())), d_model=int(text_config.hidden_size),
                         fingerprint=fingerprint, base_fingerprint=fingerprint, remote=mode)
    loaded.extra["nnsight_model"] = wrapped
    return loaded


def _where_to_read(source: str, folder: Path | None, mode: str) -> tuple[str, dict[str, Any]]:
    """What nnsight builds from: the folder; a hub model's cached snapshot when it runs here; else the hub
    id (NDIF knows the model by it) with the hub cache as the environment names it now."""
    if folder is not None:
        return str(folder), {}
    snapshot = cached_snapshot(source)
    if mode != "ndif" and snapshot is not None:
        return str(snapshot), {}
    return source, {"cache_dir": hub_cache_dir()}


def _fingerprint(source: str, folder: Path | None) -> str:
    """Files fingerprint from the folder or hub-cache snapshot, else from the hub's LFS hashes."""
    local = folder if folder is not None else cached_snapshot(source)
    by_files = files_fingerprint(local) if local is not None else None
    if by_files is not None:
        return by_files
    if folder is not None:
        raise NegprobeError(f"{folder} holds no weight files (model.safetensors or an index): nothing to run")
    return hub_files_fingerprint(source)
