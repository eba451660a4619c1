"""The controls every belief table must pass before its numbers mean belief (after Mayne et al. 2026).

Per model, claim and belief measure (questions, mcq, cloze), on the rows without in-context
documents pooled over seeds (:mod:`.pooled`: per-unit margins, rises over the base paired unit by
unit, CIs that resample seeds and units):

- **base**: the base model's belief rate is below 0.5 (the paper's base models know the claims
  are false); otherwise the base already "believes", or sits at chance, and the claim is unusable
  on this model;
- **positive**: the adapters fine-tuned on positive documents raise the believer margin over the
  base's (paired rise, 95% CI above 0);
- **local**: the adapters fine-tuned on local negations (documents that state the truth) do not
  raise it (paired rise, 95% CI not above 0). One-sided, as the paper's control is: a local adapter
  that learns the truth and falls below the base passes.

Margins, not rates: a rate turns near-zero margins into whole votes. A check whose rows are missing
(or written without per-unit margins) is "incomplete", never "pass". ``cloze_distractor`` is an
association control, not a belief measure: its rows get the controls of nothing (``n/a``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .pooled import pool_seeds

#: Measures the controls apply to (``cloze_distractor`` measures association, not belief).
BELIEF_MEASURES: tuple[str, ...] = ("questions", "mcq", "cloze")

Interval = tuple[float, float, float]  # (value, low, high)


@dataclass(frozen=True)
class ControlCheck:
    """The three controls of one model, claim and measure (None: the rows are missing)."""

    model: str
    claim: str
    measure: str
    base_rate: float | None
    base_ci: tuple[float, float] | None
    local_rise: Interval | None  # paired margin rise over the base, nats
    positive_rise: Interval | None

    @property
    def base_below_half(self) -> bool | None:
        return None if self.base_rate is None else self.base_rate < 0.5

    @property
    def local_not_above_base(self) -> bool | None:
        return None if self.local_rise is None else self.local_rise[1] <= 0

    @property
    def positive_above_base(self) -> bool | None:
        return None if self.positive_rise is None else self.positive_rise[1] > 0

    @property
    def failures(self) -> list[str]:
        names = ("base_believes", "local_rises_above_base", "positive_not_above_base")
        checks = (self.base_below_half, self.local_not_above_base, self.positive_above_base)
        return [name for name, ok in zip(names, checks) if ok is False]

    @property
    def missing(self) -> list[str]:
        rows = (("no_base", self.base_rate), ("no_local", self.local_rise), ("no_positive", self.positive_rise))
        return [name for name, value in rows if value is None]

    @property
    def status(self) -> str:
        """``pass``, ``fail:<checks>`` or ``incomplete:<missing rows>`` (a failure wins)."""
        if self.failures:
            return "fail:" + "+".join(self.failures)
        return "incomplete:" + "+".join(self.missing) if self.missing else "pass"

    def line(self) -> str:
        """One printed line for a failed check, naming what failed and the numbers."""
        parts = []
        if self.base_below_half is False:
            parts.append(f"base already 'believes' or is at chance ({self.base_rate:.2f} >= 0.5): "
                         "claim unusable on this model")
        if self.local_not_above_base is False and self.local_rise is not None:
            parts.append("local raises the margin over base by {:+.2f} [{:+.2f}, {:+.2f}] nats".format(*self.local_rise))
        if self.positive_above_base is False and self.positive_rise is not None:
            parts.append("positive does not raise it: {:+.2f} [{:+.2f}, {:+.2f}] nats".format(*self.positive_rise))
        return f"controls FAIL {self.model} {self.claim} {self.measure}: " + "; ".join(parts)


def _pooled_row(pooled: pd.DataFrame, model: str, claim: str, measure: str, role: str) -> dict | None:
    mode = "base" if role == "base" else "fine_tuned"
    rows = pooled[(pooled["model"] == model) & (pooled["claim"] == claim) & (pooled["measure"] == measure)
                  & (pooled["mode"] == mode) & (pooled["in_context_k"] == 0)
                  & ((pooled["condition"] == role) if role != "base" else True)]
    return rows.iloc[0].to_dict() if len(rows) else None


def check_controls(table: pd.DataFrame, pooled: pd.DataFrame | None = None) -> list[ControlCheck]:
    """The controls of every model, claim and belief measure in a belief table (rows as written by
    :func:`negprobe.analysis.belief.measure_belief`; ``pooled``: its :func:`.pool_seeds`, when at hand)."""
    pooled = pool_seeds(table) if pooled is None else pooled
    out = []
    groups = {(str(r["model"]), str(r["claim"]), str(r["measure"])) for r in table.to_dict("records")}
    for model, claim, measure in sorted(groups):
        if measure not in BELIEF_MEASURES:
            continue
        base, local, positive = (_pooled_row(pooled, model, claim, measure, role) for role in ("base", "local", "positive"))
        rise = {name: (row["rise_vs_base"], row["rise_ci_low"], row["rise_ci_high"])
                if row is not None and np.isfinite(row["rise_ci_low"]) else None
                for name, row in (("local", local), ("positive", positive))}
        out.append(ControlCheck(model, claim, measure, None if base is None else float(base["belief_rate"]),
                                None if base is None else (float(base["rate_ci_low"]), float(base["rate_ci_high"])),
                                rise["local"], rise["positive"]))
    return out


def _status_column(table: pd.DataFrame, checks: list[ControlCheck]) -> list[str]:
    status = {(c.model, c.claim, c.measure): c.status for c in checks}
    return [status.get((str(r["model"]), str(r["claim"]), str(r["measure"])), "n/a")
            if float(str(r["in_context_k"])) == 0 else "n/a" for r in table.to_dict("records")]


def with_controls(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its ``controls`` column (the group's status; ``n/a`` for association and
    in-context rows) and ``rise_vs_base`` (mean margin minus the base's, NaN without a base row)."""
    rise = []
    for row in table.to_dict("records"):
        base = table[(table["model"] == row["model"]) & (table["claim"] == row["claim"])
                     & (table["measure"] == row["measure"]) & (table["mode"] == "base")
                     & (table["in_context_k"].astype(str).astype(float) == 0)]
        direct = float(str(row["in_context_k"])) == 0
        rise.append(float(row["mean_margin"]) - float(base["mean_margin"].astype(float).mean())
                    if direct and len(base) else np.nan)
    return table.assign(controls=_status_column(table, check_controls(table)), rise_vs_base=rise)


def pooled_with_controls(table: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """:func:`.pool_seeds` of ``table`` with each pooled row's ``controls`` status."""
    pooled = pool_seeds(table, n_boot=n_boot, seed=seed)
    return pooled.assign(controls=_status_column(pooled, check_controls(table, pooled)))


def control_lines(table: pd.DataFrame, claim: str | None = None) -> list[str]:
    """One line per model, claim (only ``claim`` when given) and belief measure whose controls fail."""
    return [c.line() for c in check_controls(table) if c.failures and claim in (None, c.claim)]
