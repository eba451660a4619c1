"""Three ways to read the post-block residual stream, one interface.

Every backend maps ``(model, token batch, layers, token index) -> [batch, n_layers, n_positions,
d_model]`` where layer ``l`` is the output of decoder block ``l`` (TransformerLens'
``blocks.l.hook_resid_post``; HF ``hidden_states[l + 1]`` except after the final norm).
"""

from __future__ import annotations

from .base import Backend, gather_positions
from .hf import HFBackend
from .nnsight_backend import NNsightBackend
from .transformer_lens_backend import TransformerLensBackend

BACKENDS: dict[str, type[Backend]] = {
    "hf": HFBackend,
    "transformer_lens": TransformerLensBackend,
    "nnsight": NNsightBackend,
}


def check_backend_fits(model, backend: Backend) -> None:
    """A weightless handle (``model.remote``) has no local modules to hook: only nnsight reads it."""
    from negprobe.errors import NegprobeError

    if getattr(model, "remote", None) and backend.name != "nnsight":
        raise NegprobeError(f"{model.name} is a weightless nnsight handle ({model.remote}): read it with backend"
                            f" nnsight, not {backend.name}")


def get_backend(name: str, **options) -> Backend:
    from negprobe.errors import NegprobeError

    key = name.replace("-", "_").lower()
    if key == "tl":
        key = "transformer_lens"
    if key not in BACKENDS:
        raise NegprobeError(f"unknown backend {name!r}: use one of {', '.join(BACKENDS)}")
    return BACKENDS[key](**options)


__all__ = ["BACKENDS", "Backend", "check_backend_fits", "HFBackend", "NNsightBackend", "TransformerLensBackend", "gather_positions", "get_backend"]
