"""The layer-window gaps of ``negprobe layer-sweep`` in the fine-tuned report: read, drawn over their layers, stated.

``layer_gaps.csv`` (:func:`.layer_windows.window_gaps`) holds, per window of blocks ``a-b``, belief
measure and reference condition, the gap ``negated - reference`` with a t CI over seeds and the
window's gate (its positive adapters' paired belief rise over the base, :mod:`.belief_gate`). Here
one measure and reference are drawn as horizontal bars over each window's blocks (grey, hatched and
labelled "not read": the gate failed), and only gated windows' gaps enter the findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from negprobe.errors import NegprobeError

from .belief_gate import EFFECT, NOTHING
from .finetuned_series import read_table, where

TITLE = "layer-window gap"


@dataclass(frozen=True)
class WindowGap:
    """One window's gap ``negated - reference`` (nats) with its CI over seeds, or why it is not read."""

    window: str
    first: int
    last: int
    measure: str
    reference: str
    gap: float  # NaN when the gate failed
    ci_low: float
    ci_high: float
    n_seeds: int
    status: str  # effect | nothing_to_localise | ungated
    reason: str

    @property
    def passed(self) -> bool:
        return self.status == EFFECT


def _span(window: str, path: Path) -> tuple[int, int]:
    try:
        first, last = (int(x) for x in window.split("-"))
    except ValueError:
        raise NegprobeError(f"{path}: window {window!r} is not 'a-b'") from None
    return first, last


def read_window_gaps(folder: Path, measure: str = "questions", reference: str = "positive") -> list[WindowGap]:
    """The gaps of ``measure`` against ``reference`` from a layer-sweep folder's ``layer_gaps.csv``."""
    path = folder / "layer_gaps.csv"
    table = read_table(path, ("window", "measure", "reference", "gap", "gap_ci_low", "gap_ci_high", "n_seeds",
                              "status", "reason"), "layer_gaps.csv")
    rows = where(table, (table["measure"] == measure) & (table["reference"] == reference)).to_dict("records")
    if not rows:
        raise NegprobeError(f"{path}: no {measure} rows against {reference} (measures: "
                            f"{', '.join(sorted(set(map(str, table['measure']))))})")
    out = []
    for r in rows:
        status = str(r["status"])
        if status not in (EFFECT, NOTHING, "ungated"):
            raise NegprobeError(f"{path}: status {status!r} of window {r['window']} is not one negprobe writes")
        out.append(WindowGap(str(r["window"]), *_span(str(r["window"]), path), measure, reference, float(r["gap"]),
                             float(r["gap_ci_low"]), float(r["gap_ci_high"]), int(r["n_seeds"]), status,
                             "" if not isinstance(r["reason"], str) else r["reason"]))
    return out


def window_panel(ax, gaps: list[WindowGap] | None) -> None:
    """Each window's gap as a bar over its blocks with its CI (grey, hatched, "not read": the gate failed)."""
    ax.set_title(TITLE, fontsize=9)
    ax.set_xlabel("layer")
    if not gaps:
        ax.text(0.5, 0.5, "not given", ha="center", va="center", fontsize=7, color="grey", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    for k, g in enumerate(gaps):
        if g.passed:
            ax.fill_between([g.first - 0.4, g.last + 0.4], g.ci_low, g.ci_high, color="C3", alpha=0.18, lw=0)
            ax.hlines(g.gap, g.first - 0.4, g.last + 0.4, color="C3", lw=2)
        elif np.isfinite(g.gap):  # measured, gate failed: drawn grey and hatched, labelled, not read
            ax.fill_between([g.first - 0.4, g.last + 0.4], g.ci_low, g.ci_high, facecolor="none", edgecolor="0.6",
                            hatch="///", lw=0)
            ax.hlines(g.gap, g.first - 0.4, g.last + 0.4, color="0.6", lw=2)
            ax.text((g.first + g.last) / 2, g.gap, "not read", ha="center", va="bottom", fontsize=6, color="0.35")
        else:
            ax.text((g.first + g.last) / 2, 0.0, "not read", ha="center", va="bottom", fontsize=6, color="0.35")
    ax.axhline(0.0, color="black", lw=0.5)
    ax.set_ylabel(f"negated - {gaps[0].reference}, {gaps[0].measure} (nats)", fontsize=8)
    ax.set_xlim(min(g.first for g in gaps) - 0.5, max(g.last for g in gaps) + 0.5)


def window_sentence(gaps: list[WindowGap] | None) -> str:
    """The findings sentence: gated windows' gaps with CIs; the others' reason."""
    if not gaps:
        return "Layer-window gap: not given."
    read = [g for g in gaps if g.passed]
    blocked = [g for g in gaps if g.status == NOTHING]
    parts = []
    if read:
        cells = "; ".join(f"blocks {g.window} {g.gap:+.2f} [{g.ci_low:+.2f}, {g.ci_high:+.2f}] ({g.n_seeds} seeds)"
                          for g in read)
        parts.append(f"Layer-restricted fine-tuning ({read[0].measure}), negated - {read[0].reference}: {cells}.")
    if blocked:
        parts.append(f"Layer windows {', '.join(g.window for g in blocked)}: nothing to localise: {blocked[0].reason}.")
    ungated = [g.window for g in gaps if g.status == "ungated"]
    if ungated:
        parts.append(f"Layer windows {', '.join(ungated)}: written without a belief gate, not read.")
    return " ".join(parts)


def window_rows(gaps: list[WindowGap] | None) -> list[tuple]:
    """``finetuned_layers.csv`` rows: one per block of each window (value: the window's gap)."""
    return [("window " + g.window, layer, g.gap, g.ci_low, g.ci_high, f"95% t CI over {g.n_seeds} seeds", g.status,
             None, g.reason, "layer_gaps.csv") for g in gaps or [] for layer in range(g.first, g.last + 1)]
