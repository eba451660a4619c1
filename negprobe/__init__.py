"""negprobe: where inside a language model is a negation annotation dropped?

The public API; everything else lives in the layered subpackages
``negprobe.activations`` (datasets, models, residual reads, the activation store),
``negprobe.probes`` (linear probes and sweeps), ``negprobe.analysis`` (localisation and reports)
and ``negprobe.scripts`` (the command line). Names are imported on first use (PEP 562), so
``import negprobe`` stays cheap: it does not import torch.

    >>> import negprobe
    >>> model = negprobe.load_model("smollm2-135m")
    >>> store = negprobe.cache_activations(model, negprobe.load_dataset("cities")).store
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from negprobe.activations.cache import cache_activations
    from negprobe.activations.datasets.registry import load_dataset
    from negprobe.activations.models import load_model
    from negprobe.activations.read import read_residuals
    from negprobe.activations.store import ActivationStore
    from negprobe.analysis.localize import LocalizeConfig, run_localize
    from negprobe.analysis.report import write_report
    from negprobe.analysis.sweep_report import write_sweep_report
    from negprobe.errors import NegprobeError
    from negprobe.probes import CCSProbe, LATProbe, LogisticRegressionProbe, MassMeanProbe, TTPDProbe, make_probe
    from negprobe.probes.artifact import load_probe, save_probe
    from negprobe.probes.evaluation import auroc
    from negprobe.probes.sweep import SweepConfig, run_sweep

# public name -> the module that defines it
_EXPORTS = {
    "load_model": "negprobe.activations.models",
    "read_residuals": "negprobe.activations.read",
    "cache_activations": "negprobe.activations.cache",
    "ActivationStore": "negprobe.activations.store",
    "load_dataset": "negprobe.activations.datasets.registry",
    "make_probe": "negprobe.probes",
    "LogisticRegressionProbe": "negprobe.probes",
    "MassMeanProbe": "negprobe.probes",
    "TTPDProbe": "negprobe.probes",
    "CCSProbe": "negprobe.probes",
    "LATProbe": "negprobe.probes",
    "auroc": "negprobe.probes.evaluation",
    "save_probe": "negprobe.probes.artifact",
    "load_probe": "negprobe.probes.artifact",
    "SweepConfig": "negprobe.probes.sweep",
    "run_sweep": "negprobe.probes.sweep",
    "write_sweep_report": "negprobe.analysis.sweep_report",
    "LocalizeConfig": "negprobe.analysis.localize",
    "run_localize": "negprobe.analysis.localize",
    "write_report": "negprobe.analysis.report",
    "NegprobeError": "negprobe.errors",
}

__all__ = [
    "ActivationStore",
    "CCSProbe",
    "LATProbe",
    "LocalizeConfig",
    "LogisticRegressionProbe",
    "MassMeanProbe",
    "NegprobeError",
    "SweepConfig",
    "TTPDProbe",
    "auroc",
    "cache_activations",
    "load_dataset",
    "load_model",
    "load_probe",
    "make_probe",
    "read_residuals",
    "run_localize",
    "run_sweep",
    "save_probe",
    "write_report",
    "write_sweep_report",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'negprobe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access skips __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
