"""The controls every belief table must pass before its numbers mean belief (after Mayne et al. 2026).

Per model, claim and belief measure (questions, mcq, cloze), from the table's rows without
in-context documents:

- **base**: the base model's belief rate is below 0.5 (the paper's base models know the claims
  are false); otherwise the base already "believes" and the claim is unusable on this model;
- **local**: the adapter fine-tuned on local negations (documents that state the truth) stays
  within the base model's 95% CI (the paper's negative control: 0% belief);
- **positive**: the adapter fine-tuned on positive documents rises above the base's 95% CI.

A check whose rows are missing is "incomplete", never "pass". Several rows of one role (seeds,
repeated runs) are averaged. ``cloze_distractor`` is an association control, not a belief
measure: its rows get the controls of nothing (``n/a``), and its rise over base is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Measures the controls apply to (``cloze_distractor`` measures association, not belief).
BELIEF_MEASURES: tuple[str, ...] = ("questions", "mcq", "cloze")


@dataclass(frozen=True)
class ControlCheck:
    """The three controls of one model, claim and measure (None: the rows are missing)."""

    model: str
    claim: str
    measure: str
    base_rate: float | None
    base_ci: tuple[float, float] | None
    local_rate: float | None
    positive_rate: float | None
    base_below_half: bool | None
    local_within_base: bool | None
    positive_above_base: bool | None

    @property
    def failures(self) -> list[str]:
        names = ("base_believes", "local_outside_base_ci", "positive_not_above_base")
        checks = (self.base_below_half, self.local_within_base, self.positive_above_base)
        return [name for name, ok in zip(names, checks) if ok is False]

    @property
    def missing(self) -> list[str]:
        rows = (("no_base", self.base_rate), ("no_local", self.local_rate), ("no_positive", self.positive_rate))
        return [name for name, rate in rows if rate is None]

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
        if self.local_within_base is False and self.base_ci is not None:
            parts.append(f"local {self.local_rate:.2f} outside base CI [{self.base_ci[0]:.2f}, {self.base_ci[1]:.2f}]")
        if self.positive_above_base is False and self.base_ci is not None:
            parts.append(f"positive {self.positive_rate:.2f} not above base CI (<= {self.base_ci[1]:.2f})")
        return f"controls FAIL {self.model} {self.claim} {self.measure}: " + "; ".join(parts)


Row = dict[str, object]


def _role(row: Row) -> str | None:
    """``base``, ``local`` or ``positive`` for a row without in-context documents, else None."""
    if float(str(row["in_context_k"])) != 0:
        return None
    if row["mode"] == "base":
        return "base"
    return str(row["condition"]) if row["mode"] == "fine_tuned" and row["condition"] in ("local", "positive") else None


def _groups(table: pd.DataFrame) -> dict[tuple[str, str, str], list[Row]]:
    out: dict[tuple[str, str, str], list[Row]] = {}
    for row in table.to_dict("records"):
        out.setdefault((str(row["model"]), str(row["claim"]), str(row["measure"])), []).append(
            {str(k): v for k, v in row.items()})
    return out


def _mean(rows: list[Row], role: str, column: str) -> float | None:
    values = [float(str(r[column])) for r in rows if _role(r) == role]
    return float(np.mean(values)) if values else None


def check_controls(table: pd.DataFrame) -> list[ControlCheck]:
    """The controls of every model, claim and belief measure in a belief table (rows as written by
    :func:`negprobe.analysis.belief.measure_belief`)."""
    out = []
    for (model, claim, measure), rows in _groups(table).items():
        if measure not in BELIEF_MEASURES:
            continue
        base, local, positive = (_mean(rows, role, "belief_rate") for role in ("base", "local", "positive"))
        low, high = _mean(rows, "base", "rate_ci_low"), _mean(rows, "base", "rate_ci_high")
        ci = (low, high) if low is not None and high is not None else None
        out.append(ControlCheck(
            model, claim, measure, base, ci, local, positive,
            None if base is None else base < 0.5,
            None if ci is None or local is None else ci[0] <= local <= ci[1],
            None if ci is None or positive is None else positive > ci[1]))
    return out


def with_controls(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its ``controls`` column (the group's status; ``n/a`` for association and
    in-context rows) and ``rise_vs_base`` (mean margin minus the base's, NaN without a base row)."""
    status = {(c.model, c.claim, c.measure): c.status for c in check_controls(table)}
    groups = _groups(table)
    controls, rise = [], []
    for row in table.to_dict("records"):
        key = (str(row["model"]), str(row["claim"]), str(row["measure"]))
        direct = float(str(row["in_context_k"])) == 0
        base = _mean(groups[key], "base", "mean_margin")
        controls.append(status.get(key, "n/a") if direct else "n/a")
        rise.append(float(str(row["mean_margin"])) - base if direct and base is not None else np.nan)
    return table.assign(controls=controls, rise_vs_base=rise)


def control_lines(table: pd.DataFrame, claim: str | None = None) -> list[str]:
    """One line per model, claim (only ``claim`` when given) and belief measure whose controls fail."""
    return [c.line() for c in check_controls(table) if c.failures and claim in (None, c.claim)]
