"""The localize report's representation figures: annotation decodability, truth readouts, paired readouts."""

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
from .results import ANNOTATION_POSITIONS, LocalizeResult


@dataclass(frozen=True)
class Figure:
    """A figure of the report page: its heading, caption and inlined PNG."""

    title: str
    caption: str
    png_base64: str


def save_png(fig, path: Path) -> str:
    """Write ``fig`` as PNG to ``path``; returns the PNG base64-encoded (to inline it in the page)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    return base64.b64encode(buf.getvalue()).decode()


def annotation_figure(plt, result: LocalizeResult, out: Path) -> Figure:
    """Annotation decodability per layer, at the claim's last token and at the prompt's last token."""
    layers = result.layers
    fig, axes = plt.subplots(1, len(ANNOTATION_POSITIONS), figsize=(12, 4), sharey=True, squeeze=False)
    for key, curve in result.curves.items():
        ax = axes[0, list(ANNOTATION_POSITIONS).index(key.position)]
        line, = ax.plot(layers, curve.auroc.value, label=key.annotation)
        ax.fill_between(layers, curve.auroc.ci_low, curve.auroc.ci_high, color=line.get_color(), alpha=0.15)
    for ax, (position, where) in zip(axes[0], ANNOTATION_POSITIONS.items()):
        ax.axhline(0.5, color="grey", ls=":")
        ax.set(xlabel="layer", title=f"at {where}")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("AUROC annotated vs plain (held-out claims)")
    figure = Figure("Annotation decodability", "A probe for annotated vs plain versions of the same claims, split by "
                    "claim; 95% CIs resample claims. Needs no truth probe.",
                    save_png(fig, out / "annotation_decodability.png"))
    plt.close(fig)
    return figure


def truth_readout_figure(plt, result: LocalizeResult, table: pd.DataFrame, out: Path) -> Figure:
    """Truth readouts per reader, dashed where the reader fails its own model's validity gate."""
    layers, gates = result.layers, result.base_gates
    own_gates = {ref.label: model_gates for ref, model_gates in result.gates.items()}
    labels = list(gates)
    fig, axes = plt.subplots(len(labels), 1, figsize=(8, 3.6 * len(labels)), squeeze=False, sharex=True)
    for ax, label in zip(axes[:, 0], labels):
        sub = table.loc[(table["probe"] == label) & table["condition"].isin(list(TRUTH))]
        for (model, cond), curve in sub.groupby(["model", "condition"], sort=False):
            own = own_gates.get(model, {}).get(label)  # refitted readers: their own model's gate
            passed = (own or gates[label]).passed
            values = curve["readout"].to_numpy()
            line, = ax.plot(layers, np.where(passed, values, np.nan), label=f"{model} / {cond}")
            ax.plot(layers, np.where(passed, np.nan, values), color=line.get_color(), alpha=0.3, ls="--")
        ax.axhline(0.5, color="grey", ls=":")
        ax.set_ylim(-2.0, 3.0)  # out-of-topic claims can sit far outside the training scale; see readouts.csv
        ax.set(ylabel="readout (0 false .. 1 true)",
               title=f"{label}: {int(gates[label].passed.sum())}/{len(layers)} layers pass the validity gate (base)")
        ax.legend(fontsize=5, ncol=3)
    axes[-1, 0].set_xlabel("layer")
    figure = Figure("Truth readouts", "Claim readouts per reader (general = four topics + negated twins; @domain = the "
                    "claim's own domain). Solid where the reader passes the validity gate, dashed where it is "
                    "uninformative.", save_png(fig, out / "truth_readouts.png"))
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
