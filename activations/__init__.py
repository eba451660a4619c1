"""Datasets, models, residual reads, the activation store, interventions and fine-tuning.

The lowest layer of negprobe: ``datasets`` (prompt records), ``models`` (+ adapters), ``read``
(residual streams through hf / transformer_lens / nnsight), ``cache`` and ``store`` (the activation
store), ``interventions`` and ``tracing`` (patching, steering), ``finetune`` (LoRA on claim documents).

    >>> from negprobe.activations import load_model, read_residuals
    >>> model = load_model("smollm2-135m")
    >>> acts = read_residuals(model, ["Paris is in France."], layers=[5, 10], positions=[-1])
"""

from negprobe.errors import NegprobeError

from .models import LoadedModel, decoder_layers, load_model
from .read import read_residuals

__all__ = ["LoadedModel", "NegprobeError", "decoder_layers", "load_model", "read_residuals"]
