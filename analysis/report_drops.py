"""The localize report's drop-layer table: annotation drop layers, flip layers, causal drop layers."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .annotation import DecodabilityCurve
from .drop_layer import bootstrap_layer_ci, decodability_drop_layer, flip_layer
from .report_tables import resampling_units
from .results import CausalResult, CurveKey, LocalizeResult


@dataclass(frozen=True)
class DropLayer:
    """One row of drop_layers.csv (``layer`` None: not defined, see ``note``)."""

    statistic: str
    layer: int | None
    ci_low: int | None
    ci_high: int | None
    note: str


def _layer(layers, slot) -> int:
    slot = int(slot)
    return layers[slot] if slot < len(layers) else layers[-1] + 1  # len(layers) means "never"


def annotation_drop(key: CurveKey, curve: DecodabilityCurve, layers) -> DropLayer:
    what = f"annotation drop layer ({key.annotation}, {key.position})"
    if curve.drop_layer is None:  # never decodable: nothing was dropped
        return DropLayer(what, None, None, None, "annotation not decodable at any layer")
    # the range of drop layers over the AUROC curve's 95% band
    lo = decodability_drop_layer(curve.auroc.ci_low, 0.5) if curve.auroc.ci_low.max() > 0.5 else 0
    hi = decodability_drop_layer(curve.auroc.ci_high, 0.5)
    return DropLayer(what, _layer(layers, curve.drop_layer), _layer(layers, min(lo, hi)), _layer(layers, max(lo, hi)),
                     f"peak AUROC {curve.auroc.value.max():.2f}")


def flip_layers(result: LocalizeResult) -> list[DropLayer]:
    """First layer from which the claim reads true through the last layer (the last layer it still
    reads false is flip - 1): the notice-annotated claim in context, beside the bare claim in the
    base model and in every fine-tuned model, all with the primary reader."""
    config, layers, primary = result.config, result.layers, result.primary
    note = "" if result.primary_gate.passed.any() else "gated out: the truth probe fails validity at every layer"
    rows = []
    for r in result.readouts:
        in_context_notice = r.model.is_base and r.condition == "in_context_notice"
        bare_plain = r.kind == "bare" and r.condition == "plain" and not r.model.refit
        if r.probe != primary or not (in_context_notice or bare_plain):
            continue
        value, low, high = bootstrap_layer_ci(r.values.T, lambda c: flip_layer(c, 0.5, direction="up"),
                                              n_boot=config.n_boot, seed=config.seed,
                                              groups=resampling_units(r.claims))
        what = "notice-annotated claim in context" if in_context_notice else f"bare claim, {r.model.label}"
        rows.append(DropLayer(f"flip layer: {what} ({primary}; reads true from here)", _layer(layers, value),
                              _layer(layers, low), _layer(layers, high), note))
    return rows


def causal_drop_layers(causal: CausalResult, n_boot: int, seed: int, stride: int) -> list[DropLayer]:
    """Where the annotation's effect stops flowing through the claim's tokens (claim-position patching).

    Per claim, the patched margin's shift toward the source run (notice -> plain: toward the notice
    run's margin; plain -> notice: toward the plain run's) is a curve over patched layers; the
    statistic is :func:`decodability_drop_layer` of its claim-mean with chance at 0 (the first patched
    layer after the peak from which the shift stays below half its peak), CI over claims.
    ``stride``: every how many layers was patched (for the note).
    """
    items = causal.claim_patching.shift if causal.claim_patching is not None else {}
    patch_layers = causal.patch_layers
    never = causal.read_layers[-1] + 1  # past the model's last layer, as for every other drop layer

    def at(slot) -> int:
        return patch_layers[int(slot)] if int(slot) < len(patch_layers) else never

    def statistic(curve):  # a draw with no shift toward the source at any layer: absent from the start
        return decodability_drop_layer(curve, 0.0) if curve.max() > 0 else 0

    rows = []
    for direction, shifts in items.items():
        what = f"causal drop layer ({direction}, claim tokens -> belief margin)"
        if np.asarray(shifts).mean(0).max() <= 0:
            rows.append(DropLayer(what, None, None, None,
                                  "patching the claim tokens never moves the margin toward the source run"))
            continue
        value, low, high = bootstrap_layer_ci(np.asarray(shifts), statistic, n_boot=n_boot, seed=seed)
        note = f"patched every {stride} layers; {len(shifts)} claims"
        rows.append(DropLayer(what, at(value), at(low), at(high), note))
    return rows


def drop_table(result: LocalizeResult) -> pd.DataFrame:
    """Every drop layer of the report, one row each (drop_layers.csv)."""
    config = result.config
    rows = [annotation_drop(key, curve, result.layers) for key, curve in result.curves.items()]
    rows += flip_layers(result)
    rows += causal_drop_layers(result.causal, config.n_boot, config.seed, config.patch_layer_stride)
    table = pd.DataFrame([asdict(row) for row in rows])
    for column in ("layer", "ci_low", "ci_high"):
        table[column] = pd.array(table[column], dtype="Int64")
    return table
