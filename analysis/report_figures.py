"""The localize report's figure type and representation figures: truth readouts, paired readouts."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from negprobe.activations.atomic import atomic_write_bytes

from .plots import write_html
from .report_tables import TRUTH
from .results import LocalizeResult


@dataclass(frozen=True)
class Figure:
    """A figure of the report page: its heading, caption and inlined PNG."""

    title: str
    caption: str
    png_base64: str

    @property
    def anchor(self) -> str:
        """The figure's id on the page (the findings box links to it)."""
        return "fig-" + "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")


@dataclass(frozen=True)
class Finding:
    """One line of the report's findings box: a question, its answer, and the figure that shows it."""

    question: str
    answer: str
    figure: str | None = None  # a Figure's title (linked to its anchor), None: no figure


def save_png(fig, path: Path) -> str:
    """Write ``fig`` as PNG to ``path``; returns the PNG base64-encoded (to inline it in the page)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    return base64.b64encode(buf.getvalue()).decode()


def truth_readout_figure(plt, result: LocalizeResult, table: pd.DataFrame, out: Path) -> Figure:
    """The primary reader's readouts as small multiples: one panel per model (base, each fine-tuned
    model), one line per condition with its claim-level CI band, grey where that model's gate fails."""
    layers, primary = result.layers, result.primary
    own_gates = {ref.label: model_gates for ref, model_gates in result.gates.items()}
    sub = table.loc[(table["probe"] == primary) & table["condition"].isin(list(TRUTH))]
    models = list(dict.fromkeys(sub["model"]))
    fig, axes = plt.subplots(1, max(1, len(models)), figsize=(3.6 * max(1, len(models)), 3.4), squeeze=False,
                             sharey=True)
    for ax, model in zip(axes[0], models):
        gate = own_gates.get(model, {}).get(primary) or result.primary_gate  # refitted readers: their own gate
        for slot in np.flatnonzero(~gate.passed):
            ax.axvspan(layers[slot] - 0.5, layers[slot] + 0.5, color="0.9", lw=0)
        for cond, curve in sub.loc[sub["model"] == model].groupby("condition", sort=False):
            line, = ax.plot(layers, curve["readout"], label=str(cond), lw=1.2)
            ax.fill_between(layers, curve["ci_low"], curve["ci_high"], color=line.get_color(), alpha=0.12)
        ax.axhline(0.5, color="grey", ls=":")
        ax.set_ylim(-2.0, 3.0)  # out-of-topic claims can sit far outside the training scale; see readouts.csv
        ax.set(title=model, xlabel="layer")
        ax.legend(fontsize=6, loc="upper left")
    axes[0, 0].set_ylabel(f"{primary} readout (0 false .. 1 true)")
    figure = Figure("Truth readouts", f"The primary reader ({primary}) per model, one panel each; bands are 95% CIs "
                    "over claims. Grey columns: layers where the reader fails that model's validity gate, so the "
                    "readout there is not a finding. Every reader's curves: readouts.csv and readouts.html.",
                    save_png(fig, out / "truth_readouts.png"))
    plt.close(fig)
    return figure


def paired_figure(plt, result: LocalizeResult, paired: pd.DataFrame, out: Path) -> Figure | None:
    """Paired readouts of the primary reader (None when it has none)."""
    primary, layers = result.primary, result.layers
    sub = paired.loc[paired["probe"] == primary] if len(paired) else paired
    if not len(sub):
        return None
    fig, ax = plt.subplots(figsize=(8, 4))
    for key, curve in sub.groupby(["model", "pair"], sort=False):
        model, pair = cast(tuple[str, str], key)
        line, = ax.plot(layers, curve["difference"], label=f"{model}: {pair}")
        ax.fill_between(layers, curve["ci_low"], curve["ci_high"], color=line.get_color(), alpha=0.12)
    ax.axhline(0, color="grey", ls=":")
    ax.set(xlabel="layer", ylabel="paired readout difference", title=f"Paired readouts ({primary})")
    ax.legend(fontsize=6)
    figure = Figure("Paired readouts", "Claim minus its true counterpart (negative: the claim reads less true) and "
                    "affirmed minus locally negated claim, per pair of aligned paraphrases; 95% CIs resample pairs.",
                    save_png(fig, out / "paired_readouts.png"))
    plt.close(fig)
    return figure


def interactive_readouts(table: pd.DataFrame, path: Path) -> None:
    """Every readout curve in one interactive plotly page."""
    import plotly.express as px

    frame = table.assign(curve=table["model"] + " / " + table["condition"])
    fig = px.line(frame, x="layer", y="readout", color="curve", facet_row="probe", hover_data=["ci_low", "ci_high", "n"],
                  height=320 * max(1, frame["probe"].nunique()))
    write_html(fig, path)
