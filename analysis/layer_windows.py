"""The layer-window table: belief gap negated - positive for adapters trained on one window of layers.

Layer-restricted fine-tuning localises by intervention (Meng et al. 2022 edit one layer to implant
a fact; here LoRA, Hu et al. 2022, trains only blocks ``a..b``): if an adapter confined to late
layers makes the annotation count (its negated belief falls toward the local control's, the gap
negated - positive opens below zero), the annotation is used where those layers read it; if every
window gives the gap of full fine-tuning (about 0: Negation Neglect, Mayne et al. 2026), no single
window rescues it. :func:`window_gaps` pairs the negated and positive adapters of each window by
seed, so the CI is over seeds (a Student-t interval, :func:`~.claim_level.t_interval`: a handful of
seeds), one row per window and belief measure.

**Gate** (:mod:`.belief_gate`): a window's gaps are read only when its ``positive`` adapters (the
condition compared) raise belief over the base model, paired by item, with a CI over seeds x items
above 0 (:func:`window_gates`, from the per-unit margins of the belief rows through
:func:`~.belief.pooled.pool_seeds`; by default at the Bonferroni level over every window x belief
measure gate of the table, :func:`~.belief_gate.bonferroni_level`, since all are read together); include the full network as a window (``0-29``) for the
full-network positive. Otherwise the row's ``status`` is ``nothing_to_localise`` and ``reason`` gives
the rise; its gap is still written (a table that shows what was measured), but it is not read.
Measures that are not belief measures (the name association ``cloze_distractor``) are never gated
and never read as belief: their rows say so.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from negprobe.errors import NegprobeError

from .belief.controls import BELIEF_MEASURES
from .belief.pooled import pool_seeds
from .belief_gate import NOTHING, BeliefGate, bonferroni_level, gate_from_pooled
from .claim_level import t_interval

SWEEP_COLUMNS = ("window", "condition", "seed", "measure", "mean_margin", "belief_rate", "adapter")
GAP_COLUMNS = ("window", "measure", "reference", "gap", "gap_ci_low", "gap_ci_high", "n_seeds", "treated_margin",
               "reference_margin", "status", "gate_rise", "gate_ci_low", "gate_ci_high", "reason")
UNGATED = "ungated"


def thirds(n_layers: int) -> list[str]:
    """Three contiguous windows covering blocks ``0..n_layers-1`` (the first ones one longer when uneven)."""
    if n_layers < 3:
        raise NegprobeError(f"thirds of a network need at least 3 layers, got {n_layers}")
    edges = np.array_split(np.arange(n_layers), 3)
    return [f"{int(part[0])}-{int(part[-1])}" for part in edges]


def window_gates(belief: pd.DataFrame, condition: str = "positive", n_boot: int = 2000,
                 seed: int = 0, level: float | None = None) -> dict[tuple[str, str], BeliefGate]:
    """Per (window, belief measure): the paired rise of the window's ``condition`` adapters over the base.

    ``belief``: belief rows as :func:`negprobe.analysis.belief.measure_belief` writes them (with
    ``unit_margins``) plus a ``window`` column, empty on the base model's rows. ``level``: the CI coverage;
    None (default): Bonferroni over the windows x belief measures of ``belief``, the gates read together."""
    if "window" not in belief.columns or "mode" not in belief.columns:
        raise NegprobeError("layer-sweep belief rows lack a 'window' or 'mode' column")
    base = belief[belief["mode"] == "base"]
    windows = list(dict.fromkeys(str(w) for w in belief["window"] if str(w)))
    if level is None:
        measures = {str(m) for m in belief.loc[belief["mode"] != "base", "measure"] if str(m) in BELIEF_MEASURES}
        level = bonferroni_level(max(len(windows) * len(measures), 1))
    gates = {}
    for window in windows:
        rows = belief[(belief["window"].astype(str) == window) & (belief["condition"] == condition)]
        pooled = pool_seeds(cast(pd.DataFrame, pd.concat([base, rows]).drop(columns="window")), n_boot, seed, level)
        for row in pooled.to_dict("records"):
            if row["mode"] == "fine_tuned" and row["measure"] in BELIEF_MEASURES and np.isfinite(row["rise_ci_low"]):
                gates[(window, str(row["measure"]))] = gate_from_pooled(row, f"the {condition} adapters of window {window}",
                                                                        level)
    return gates


def _gate_cells(gates: dict[tuple[str, str], BeliefGate] | None, window: str, measure: str,
                condition: str) -> tuple[str, float, float, float, str]:
    if gates is None:
        return UNGATED, np.nan, np.nan, np.nan, ""
    if measure not in BELIEF_MEASURES:
        return (NOTHING, np.nan, np.nan, np.nan, f"{measure} is not a belief measure (an association control):"
                " not read as belief")
    gate = gates.get((window, measure))
    if gate is None:
        return (NOTHING, np.nan, np.nan, np.nan, f"no base and {condition} rows with per-item margins for window "
                f"{window} ({measure}): no belief effect shown")
    return gate.status, gate.rise, gate.ci_low, gate.ci_high, gate.reason


def window_gaps(table: pd.DataFrame, treated: str = "negated", references: tuple[str, ...] = ("positive", "local"),
                gates: dict[tuple[str, str], BeliefGate] | None = None, gate_condition: str = "positive") -> pd.DataFrame:
    """Per window, measure and reference condition present: mean margin of ``treated`` minus the reference's,
    paired by seed, with a t CI over seeds (``negated - positive``: the Negation Neglect gap; ``negated -
    local``: how far the negated adapter stays from one whose documents never state the claim as true).

    ``gates`` (:func:`window_gates`): a window and measure whose gate did not pass gets ``status``
    ``nothing_to_localise`` and its ``reason`` (the gap is written, not read); ``None``: ``status`` ``ungated``."""
    missing = set(SWEEP_COLUMNS[:5]) - set(table.columns)
    if missing:
        raise NegprobeError(f"layer-sweep table lacks columns {', '.join(sorted(missing))}")
    rows = []
    for key, group in table.groupby(["window", "measure"], sort=False):
        window, measure = tuple(key)  # type: ignore[arg-type]  # a two-column groupby key is a pair
        by_seed = group.pivot_table(index="seed", columns="condition", values="mean_margin", aggfunc="mean")
        status = _gate_cells(gates, str(window), str(measure), gate_condition)
        for reference in references:
            if treated not in by_seed or reference not in by_seed:
                continue
            paired = by_seed[[treated, reference]].dropna()
            if paired.empty:
                continue
            gap, low, high = t_interval(np.asarray(paired[treated] - paired[reference], dtype=np.float64))
            rows.append((window, measure, reference, gap, low, high, len(paired), float(paired[treated].mean()),
                         float(paired[reference].mean()), *status))
    if not rows:
        raise NegprobeError(f"no window has both {treated} and a {' or '.join(references)} adapter of one seed")
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))


def gap_lines(gaps: pd.DataFrame, treated: str = "negated") -> list[str]:
    """One printed line per window, measure and reference: the gap with its CI, or why it is not read."""
    out = []
    for r in gaps.to_dict("records"):
        head = f"window {r['window']} {r['measure']}: {treated} - {r['reference']}"
        if r["status"] == NOTHING:
            out.append(f"{head}: nothing to localise: {r['reason']} (gap, not read: {r['gap']:+.2f}"
                       f" [{r['gap_ci_low']:+.2f}, {r['gap_ci_high']:+.2f}], {r['n_seeds']} seeds)")
        else:
            out.append(f"{head} = {r['gap']:+.2f} [{r['gap_ci_low']:+.2f}, {r['gap_ci_high']:+.2f}] nats "
                       f"({r['n_seeds']} seeds; {r['status']})")
    return out
