"""The localize report's layer-statistics table: one typed row per statistic (decodability drop layers,
flip layers, hand-off layers), each with a CI from a bootstrap of the statistic itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import pandas as pd

from .drop_layer import bootstrap_layer_ci, flip_layer
from .report_tables import resampling_units
from .results import LocalizeResult


@dataclass(frozen=True)
class DropLayer:
    """One row of layer_statistics.csv (``layer`` None: not defined, see ``note``)."""

    statistic: str
    layer: int | None
    ci_low: int | None
    ci_high: int | None
    note: str


def _layer(layers, slot) -> int:
    slot = int(slot)
    return layers[slot] if slot < len(layers) else layers[-1] + 1  # len(layers) means "never"


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
        what = f"flip layer: {'notice-annotated claim in context' if in_context_notice else 'bare claim, ' + r.model.label}"
        what += f" ({primary}; reads true from here)"
        if note or value >= len(layers):  # gated out, or "never": no layer to report
            rows.append(DropLayer(what, None, None, None, note or f"reads false through layer {layers[-1]}"))
            continue
        rows.append(DropLayer(what, _layer(layers, value), _layer(layers, low), _layer(layers, high), ""))
    return rows


def drop_table(rows: list[DropLayer]) -> pd.DataFrame:
    """Layer statistics of the report, one row each (layer_statistics.csv)."""
    table = pd.DataFrame([asdict(row) for row in rows], columns=[f.name for f in fields(DropLayer)])
    for column in ("layer", "ci_low", "ci_high"):
        table[column] = pd.array(table[column], dtype="Int64")
    return table
