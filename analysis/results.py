"""What the localize step computes and its report reads: the config, typed results and shared constants.

:func:`~negprobe.analysis.localize.run_localize` returns a :class:`LocalizeResult`;
:func:`~negprobe.analysis.report.write_report` turns it into files. Both import this module,
neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from jaxtyping import Float

from negprobe.activations.config import expand_user, validate_config
from negprobe.activations.datasets.claims import get_claim
from negprobe.activations.progress import StageTime
from negprobe.errors import NegprobeError
from negprobe.probes import PROBES
from negprobe.probes.sweep_config import DTYPES, check_placement

from .annotation import DecodabilityCurve
from .causal import CausalResult, CausalSettings
from .claim_patching import ClaimPatching
from .contrasts import ContrastKey
from .position_heatmap import PositionHeatmap
from .prerequisite import AnnotationGate, ClaimEffect, Prerequisite
from .readout import DEFAULT_GATE, ValidityGate
from .steering_check import Steering
from .truth_readers import PROBE_DATA

# the causal and decodability results live in their own modules; re-exported here for the report
__all__ = ["AnnotationGate", "CausalResult", "CausalSettings", "ClaimEffect", "ClaimPatching", "ContrastKey",
           "LocalizeConfig", "LocalizeResult", "ModelRef", "PositionHeatmap", "Prerequisite", "ReaderInfo", "Readout",
           "Steering"]


@dataclass
class LocalizeConfig:
    """What ``negprobe localize`` runs on; every field is type- and range-checked on construction."""

    model: str = "smollm2-135m"
    adapters: dict[str, str] = field(default_factory=dict)  # condition -> adapter folder
    claims: list[str] | None = None  # default: every built-in claim
    probes: list[str] = field(default_factory=lambda: ["logistic", "ttpd"],
                              metadata={"choices": tuple(PROBES), "noun": "probe"})
    probe_data: list[str] = field(default_factory=lambda: ["general", "domain"])  # truth data the probes train on
    layers: list[int] | None = field(default=None, metadata={"min": 0})
    gate: float = field(default=DEFAULT_GATE, metadata={"min": 0.0, "max": 1.0})
    seed: int = 0
    n_boot: int = field(default=200, metadata={"min": 1})
    min_effect: float = field(default=1.0, metadata={"min": 0.0})  # nats: the prerequisite and the NIE's minimum gap
    patch_positions: int = field(default=8, metadata={"min": 1})  # last tokens of the in-context question
    patch_layer_stride: int = field(default=1, metadata={"min": 1})  # patch every k-th layer (default: every layer)
    patch_claims: int | None = field(default=None, metadata={"min": 1})  # passing claims patched (None: all)
    patch_paraphrases: int | None = field(default=None, metadata={"min": 1})  # paraphrases per claim (None: all)
    heatmap_paraphrases: int = field(default=1, metadata={"min": 1})  # position-heatmap pairs per passing claim
    attribution_cells: int = field(default=50, metadata={"min": 0})  # AtP screen: cells confirmed per pair (0: off)
    steer_alphas: list[float] = field(default_factory=lambda: [-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0])  # readout units
    belief_csv: str | None = None
    # the dtype every model of the run computes in (readouts, patching, steering); bfloat16 is faster
    # on CPU but moves margins and readouts (scripts/bench_dtype.py): float32 stays the default
    compute_dtype: str = field(default="float32", metadata={"choices": DTYPES})
    store: str | None = None
    out: str = "negprobe-out/localize"
    # where the models run; left out of the demo's stage key while at their defaults (scripts/demo.py)
    device_map: str | None = field(default=None, metadata={"omit_default": True})
    remote: bool = field(default=False, metadata={"omit_default": True})

    def __post_init__(self) -> None:
        validate_config(self)
        check_placement(self.remote, self.device_map, list(self.adapters.values()), "hf")
        if self.remote and self.attribution_cells:
            raise NegprobeError("--remote: the attribution screen takes gradients through weights held here;"
                                " pass --attribution-cells 0 (patching and steering run remotely)")
        self.out, self.store, self.belief_csv = expand_user(self.out), expand_user(self.store), expand_user(self.belief_csv)
        self.adapters = {condition: expand_user(a) for condition, a in self.adapters.items()}
        for claim in self.claims or ():
            get_claim(claim)
        unknown = sorted(set(self.probe_data) - set(PROBE_DATA))
        if unknown or not self.probe_data:
            raise NegprobeError(f"probe data must be among {', '.join(PROBE_DATA)}, got {', '.join(unknown) or 'nothing'}")


@dataclass(frozen=True)
class ModelRef:
    """One model the claims are read on: the base model, or a fine-tuned adapter (with the frozen
    base readers, or with readers refitted on that model when ``refit``)."""

    base: str
    adapter: str | None = None
    condition: str | None = None  # the fine-tuning condition; None for the base model
    refit: bool = False

    @property
    def is_base(self) -> bool:
        return self.condition is None

    @property
    def label(self) -> str:
        """``base``, ``fine-tuned:<condition>`` or ``fine-tuned:<condition> (refit)`` (the CSVs' model column)."""
        if self.is_base:
            return "base"
        return f"fine-tuned:{self.condition}" + (" (refit)" if self.refit else "")

    def frozen_readers(self) -> ModelRef:
        """The same model read with the base readers (drops ``refit``)."""
        return ModelRef(self.base, self.adapter, self.condition, refit=False)


@dataclass(frozen=True, eq=False)
class Readout:
    """One reader's readouts of one condition's rows on one model."""

    model: ModelRef
    kind: str  # "bare" (the claims dataset) or "in_context" (claims with their documents in context)
    condition: str
    probe: str  # the reader's label
    values: Float[np.ndarray, "n_layers n"]
    claims: np.ndarray  # [n] claim ids
    pairs: np.ndarray  # [n] pair ids (align a claim with its counterpart)


@dataclass(frozen=True)
class ReaderInfo:
    """What the report needs to know about a truth reader (not its probes)."""

    label: str
    heldout_what: str


#: LocalizeConfig fields that set how much is computed (the grid), not what is studied.
GRID_FIELDS = ("probes", "probe_data", "layers", "n_boot", "patch_layer_stride", "patch_claims", "patch_paraphrases",
               "heatmap_paraphrases", "attribution_cells")


def reduced_grid(config: LocalizeConfig) -> list[str]:
    """Every grid field of ``config`` that differs from the default, as ``"field value (default d)"``."""
    default = LocalizeConfig()
    return [f"{name} {getattr(config, name)} (default {getattr(default, name)})"
            for name in GRID_FIELDS if getattr(config, name) != getattr(default, name)]


@dataclass(frozen=True, eq=False)
class LocalizeResult:
    """Everything the localize report needs."""

    config: LocalizeConfig
    model_name: str
    fingerprint: str
    layers: list[int]
    readouts: tuple[Readout, ...]
    gates: dict[ModelRef, dict[str, ValidityGate]]  # the base model's and every refit model's own gates
    readers: dict[str, ReaderInfo]
    primary: str  # the reader used in the figures, the flip layers and the belief join
    primary_slot: int  # its layer slot with the best held-out AUROC
    curves: dict[ContrastKey, DecodabilityCurve]
    causal: CausalResult
    belief: pd.DataFrame | None = None
    n_claims: int = 0  # claims read on the base model
    n_paraphrases: int = 0  # paraphrases per claim
    timings: tuple[StageTime, ...] = ()  # wall time of each stage of the run, in order

    @property
    def scope(self) -> str:
        """What this run measured, in one line (the report's subtitle)."""
        settings = self.causal.settings
        stride = settings.patch_layer_stride
        grid = "every layer" if stride == 1 else f"every {stride}th layer"
        limits = [f"at most {v} {what}" for v, what in ((settings.patch_claims, "claims"),
                                                         (settings.patch_paraphrases, "paraphrases per claim")) if v]
        reduced = reduced_grid(self.config)
        layers = ", ".join(map(str, self.layers)) if len(self.layers) < 12 and reduced else \
            f"{self.layers[0]}-{self.layers[-1]}"
        return (f"{self.n_claims} claims x {self.n_paraphrases} paraphrases, layers {layers};"
                f" patching grid: {grid}" + (", " + ", ".join(limits) if limits else ", all passing claims and "
                "paraphrases") + f"; minimum effect {settings.min_effect:g} nats; {self.config.n_boot} bootstrap draws."
                + (f" Reduced grid (a quick run, not the default): {'; '.join(reduced)}." if reduced else ""))


    @property
    def base(self) -> ModelRef:
        return next(ref for ref in self.gates if ref.is_base)

    @property
    def base_gates(self) -> dict[str, ValidityGate]:
        return self.gates[self.base]

    @property
    def primary_gate(self) -> ValidityGate:
        return self.base_gates[self.primary]
