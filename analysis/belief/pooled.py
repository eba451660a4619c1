"""Belief pooled over fine-tuning seeds, with CIs over seeds and items.

A belief CSV holds one row per adapter (one fine-tuning seed) and measure, each with its
per-unit margins (``unit_margins``). Every adapter of a condition is scored on the same units
(questions, polarity pairs), so seeds and units are crossed: the pooled row resamples both
(:func:`negprobe.probes.resampling.crossed_bootstrap_mean`). The rise over the base model is
paired by unit (the base is scored on the same units) and gets the same crossed CI. The
controls of :mod:`.controls` are then checked on the pooled rows (after Mayne et al. 2026, who
report belief over seeds and questions).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from negprobe.errors import NegprobeError
from negprobe.probes.resampling import crossed_bootstrap_mean

from .items import unit_strata
from .scoring import TIE_NATS

#: One pooled row per model, claim, condition, mode, in-context count and measure.
GROUP_COLUMNS = ["model", "claim", "condition", "mode", "in_context_k", "measure"]
POOLED_COLUMNS = [*GROUP_COLUMNS, "n_seeds", "n", "belief_rate", "rate_ci_low", "rate_ci_high", "mean_margin",
                  "margin_ci_low", "margin_ci_high", "rise_vs_base", "rise_ci_low", "rise_ci_high", "controls"]


def format_margins(margins) -> str:
    """Per-unit margins as one CSV cell (``;``-separated, 6 significant digits)."""
    return ";".join(f"{float(m):.6g}" for m in margins)


def parse_margins(cell: object) -> np.ndarray | None:
    """The per-unit margins of one ``unit_margins`` cell (None for a row written without them)."""
    text = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell).strip()
    return np.array([float(v) for v in text.split(";")]) if text else None


def seed_matrix(rows: Iterable[dict], where: str) -> np.ndarray:
    """The ``[seed, unit]`` margins of one group's rows; an adapter scored twice counts once (its
    last row). Refuses rows scored on different numbers of units."""
    by_adapter = {str(r["adapter"]): parse_margins(r["unit_margins"]) for r in rows}
    margins = [m for m in by_adapter.values() if m is not None]
    if len({len(m) for m in margins}) > 1:
        raise NegprobeError(f"{where}: seeds scored on different numbers of units "
                            f"({sorted({len(m) for m in margins})}); pool only rows of one item set")
    return np.stack(margins)


def _key(row: dict) -> tuple[str, ...]:
    return tuple(str(row[c]) for c in GROUP_COLUMNS)


def _base_key(key: tuple[str, ...]) -> tuple[str, ...]:
    """(model, claim, measure): the base model's row of a group, whatever its condition label."""
    return key[0], key[1], key[5]


def _row(key: tuple[str, ...], margins: np.ndarray, base: np.ndarray | None, n_boot: int, seed: int,
         level: float = 0.95) -> list:
    strata = unit_strata(key[1], key[5], margins.shape[-1])  # yes/no measures: balanced over the answer key
    believes = (margins > TIE_NATS).astype(float)
    rate, rate_low, rate_high = crossed_bootstrap_mean(believes, n_boot, seed, strata=strata)
    mean, low, high = crossed_bootstrap_mean(margins, n_boot, seed, strata=strata)
    rise = (np.nan,) * 3  # the base row compares with nothing
    if base is not None and key[3] != "base" and base.shape[-1] == margins.shape[-1]:
        rise = crossed_bootstrap_mean(margins - base[None, :], n_boot, seed, level=level, strata=strata)
    return [*key, len(margins), margins.shape[-1], float(rate), float(rate_low), float(rate_high), float(mean),
            float(low), float(high), *map(float, rise), ""]


def pool_seeds(table: pd.DataFrame, n_boot: int = 2000, seed: int = 0, rise_level: float = 0.95) -> pd.DataFrame:
    """One row per model, claim, condition, mode, in-context count and measure, pooling every adapter
    (seed) of the group; rows without ``unit_margins`` are left out (see :func:`rows_without_margins`).
    ``rise_vs_base`` and its CI compare each unit with the base model's score on it (NaN on the base
    row; its coverage ``rise_level``, e.g. Bonferroni-corrected when several rises gate together, the other CIs
    95%). Yes/no measures are balanced over their answer key. ``controls`` is left empty: see
    :func:`negprobe.analysis.belief.controls.pooled_with_controls`."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row in table.to_dict("records"):
        if parse_margins(row.get("unit_margins")) is not None:
            groups.setdefault(_key(row), []).append(row)
    matrices = {key: seed_matrix(rows, " ".join(key)) for key, rows in groups.items()}
    bases = {_base_key(key): m.mean(0) for key, m in matrices.items() if key[3] == "base" and key[4] == "0"}
    rows = [_row(key, m, bases.get(_base_key(key)) if key[4] == "0" else None, n_boot, seed, rise_level)
            for key, m in matrices.items()]
    pooled = pd.DataFrame(rows, columns=POOLED_COLUMNS)
    pooled["in_context_k"] = pooled["in_context_k"].astype(int)
    return pooled.reindex(columns=POOLED_COLUMNS).sort_values(GROUP_COLUMNS, kind="stable").reset_index(drop=True)


def rows_without_margins(table: pd.DataFrame) -> int:
    """How many rows of a belief table carry no per-unit margins (written by an earlier version)."""
    cells = table["unit_margins"] if "unit_margins" in table.columns else [""] * len(table)
    return sum(parse_margins(m) is None for m in cells)
