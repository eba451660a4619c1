"""The layer-window table: belief gap negated - positive for adapters trained on one window of layers.

Layer-restricted fine-tuning localises by intervention (Meng et al. 2022 edit one layer to implant
a fact; here LoRA, Hu et al. 2022, trains only blocks ``a..b``): if an adapter confined to late
layers makes the annotation count (its negated belief falls toward the local control's, the gap
negated - positive opens below zero), the annotation is used where those layers read it; if every
window gives the gap of full fine-tuning (about 0: Negation Neglect, Mayne et al. 2026), no single
window rescues it. :func:`window_gaps` pairs the negated and positive adapters of each window by
seed, so the CI is over seeds (a Student-t interval, :func:`~.claim_level.t_interval`: a handful of
seeds), one row per window and belief measure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from negprobe.errors import NegprobeError

from .claim_level import t_interval

SWEEP_COLUMNS = ("window", "condition", "seed", "measure", "mean_margin", "belief_rate", "adapter")
GAP_COLUMNS = ("window", "measure", "reference", "gap", "gap_ci_low", "gap_ci_high", "n_seeds", "treated_margin",
               "reference_margin")


def thirds(n_layers: int) -> list[str]:
    """Three contiguous windows covering blocks ``0..n_layers-1`` (the first ones one longer when uneven)."""
    if n_layers < 3:
        raise NegprobeError(f"thirds of a network need at least 3 layers, got {n_layers}")
    edges = np.array_split(np.arange(n_layers), 3)
    return [f"{int(part[0])}-{int(part[-1])}" for part in edges]


def window_gaps(table: pd.DataFrame, treated: str = "negated",
                references: tuple[str, ...] = ("positive", "local")) -> pd.DataFrame:
    """Per window, measure and reference condition present: mean margin of ``treated`` minus the reference's,
    paired by seed, with a t CI over seeds (``negated - positive``: the Negation Neglect gap; ``negated -
    local``: how far the negated adapter stays from one whose documents never state the claim as true)."""
    missing = set(SWEEP_COLUMNS[:5]) - set(table.columns)
    if missing:
        raise NegprobeError(f"layer-sweep table lacks columns {', '.join(sorted(missing))}")
    rows = []
    for key, group in table.groupby(["window", "measure"], sort=False):
        window, measure = tuple(key)  # type: ignore[arg-type]  # a two-column groupby key is a pair
        by_seed = group.pivot_table(index="seed", columns="condition", values="mean_margin", aggfunc="mean")
        for reference in references:
            if treated not in by_seed or reference not in by_seed:
                continue
            paired = by_seed[[treated, reference]].dropna()
            if paired.empty:
                continue
            gap, low, high = t_interval(np.asarray(paired[treated] - paired[reference], dtype=np.float64))
            rows.append((window, measure, reference, gap, low, high, len(paired), float(paired[treated].mean()),
                         float(paired[reference].mean())))
    if not rows:
        raise NegprobeError(f"no window has both {treated} and a {' or '.join(references)} adapter of one seed")
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))
