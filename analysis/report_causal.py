"""The localize report's causal figures and CSVs: position heatmap, claim-position patching, steering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .indirect_effect import normalized_indirect_effect
from .report_figures import Figure, save_png
from .report_tables import write_csv
from .results import ClaimPatching, LocalizeResult, PositionHeatmap, Steering


def heatmap_figure(plt, heatmap: PositionHeatmap, patch_layers, out: Path) -> Figure:
    """Belief margin after patching one question token at a time (patching.png, patching.csv)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    im = ax.imshow(heatmap.margins, aspect="auto", cmap="RdBu_r", origin="lower")
    ax.set_yticks(range(len(patch_layers)), patch_layers, fontsize=6)
    ax.set(xlabel=f"position (last {len(heatmap.positions)} tokens of the question)", ylabel="layer",
           title=f"Belief margin after patching notice -> plain (clean {heatmap.clean:+.2f}, corrupt {heatmap.corrupt:+.2f})")
    fig.colorbar(im, ax=ax, label="log P(yes) - log P(no)")
    figure = Figure("Activation patching", "One question token at a time, notice-annotated run -> plain run.",
                    save_png(fig, out / "patching.png"))
    plt.close(fig)
    frame = pd.DataFrame(heatmap.margins, columns=[f"pos{p}" for p in heatmap.positions])
    frame.insert(0, "layer", patch_layers)
    write_csv(frame, out / "patching.csv")
    return figure


def claim_patching_figure(plt, patching: ClaimPatching, patch_layers, out: Path) -> Figure:
    """Belief margin after patching every claim token, both directions (claim_patching.png/.csv)."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    frame = pd.DataFrame({"layer": patch_layers})
    clean, corrupt = patching.clean, patching.corrupt  # same claims as the curves
    for direction, curve in patching.margin.items():
        ax.plot(patch_layers, curve, marker="o", label=direction)
        frame[direction] = curve
        source, target = (clean, corrupt) if direction.startswith("notice") else (corrupt, clean)
        frame[f"{direction} NIE"] = normalized_indirect_effect(source, np.asarray(curve), target)
    ax.axhline(clean, color="tab:red", ls=":", label="notice run (unpatched)")
    ax.axhline(corrupt, color="tab:blue", ls=":", label="plain run (unpatched)")
    ax.set(xlabel="patched layer", ylabel="belief margin", title="Patching every claim token")
    ax.legend(fontsize=7)
    figure = Figure("Claim-position patching: behaviour", "All tokens of the claim (in the document and in the "
                    "question) patched after one layer; both directions.", save_png(fig, out / "claim_patching.png"))
    plt.close(fig)
    write_csv(frame, out / "claim_patching.csv")
    return figure


def patched_readout_table(result: LocalizeResult) -> pd.DataFrame:
    """Readout change per reader, direction, claim, patched layer and read layer (patched_readouts.csv)."""
    patch_layers, layers = result.causal.patch_layers, result.layers
    return pd.DataFrame([{"reader": item.reader, "direction": item.direction, "claim": item.claim, "patch_layer": pl,
                          "read_layer": rl, "readout_change": item.change[i, j]}
                         for item in result.causal.patched_readouts
                         for i, pl in enumerate(patch_layers) for j, rl in enumerate(layers)])


def patched_readout_figure(plt, result: LocalizeResult, long: pd.DataFrame, out: Path) -> Figure | None:
    """Heatmaps (patched layer x read layer) of the primary reader's readout change, one per direction."""
    patch_layers, layers, primary = result.causal.patch_layers, result.layers, result.primary
    sub = long[long["reader"] == primary]
    if not len(sub):
        return None
    directions = list(dict.fromkeys(sub["direction"]))
    fig, axes = plt.subplots(1, len(directions), figsize=(6 * len(directions), 4), squeeze=False)
    for ax, direction in zip(axes[0], directions):
        mat = (sub.loc[sub["direction"] == direction].groupby(["patch_layer", "read_layer"])["readout_change"].mean()
               .unstack().reindex(index=patch_layers, columns=layers).to_numpy())
        bound = float(np.nanmax(np.abs(mat))) or 1.0
        im = ax.imshow(mat, aspect="auto", cmap="RdBu_r", origin="lower", vmin=-bound, vmax=bound)
        ax.set_yticks(range(len(patch_layers)), patch_layers, fontsize=6)
        ax.set_xticks(range(0, len(layers), max(1, len(layers) // 10)), layers[:: max(1, len(layers) // 10)])
        ax.set(xlabel="read layer", ylabel="patched layer", title=direction)
        fig.colorbar(im, ax=ax, label="readout change")
    figure = Figure("Claim-position patching: truth readout", f"Change of the {primary} readout of the claim's "
                    "last token at every layer after patching all claim tokens at one layer (in-context "
                    "statements). Only meaningful where the reader passes the gate.",
                    save_png(fig, out / "patched_readouts.png"))
    plt.close(fig)
    return figure


def steering_figure(plt, steering: Steering, valid: bool, out: Path) -> Figure:
    """Belief margin per steering strength (steering.png, steering.csv); ``valid``: the reader passes its gate there."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(list(steering.alphas), steering.margins, marker="o")
    ax.set(xlabel="alpha (readout units along the truth direction)", ylabel="belief margin",
           title=f"Steering with {steering.reader} at layer {steering.layer}")
    validity = "" if valid else (" The reader fails the validity gate at this layer, so the direction is not "
                                 "shown to be a truth direction: uninformative.")
    figure = Figure("Steering", "alpha = +1 moves the reader's readout from a typical false to a typical true "
                    "statement at that layer; normalised indirect effect in steering.csv." + validity,
                    save_png(fig, out / "steering.png"))
    plt.close(fig)
    write_csv(pd.DataFrame({"alpha": list(steering.alphas), "belief_margin": steering.margins,
                            "normalized_indirect_effect": steering.nie, "notice_run_margin": steering.clean,
                            "plain_run_margin": steering.corrupt}), out / "steering.csv")
    return figure


def causal_figures(plt, result: LocalizeResult, out: Path) -> list[Figure]:
    """Every causal figure the result has, in page order (writes their PNGs and CSVs)."""
    causal, figures = result.causal, []
    if causal.heatmap is not None:
        figures.append(heatmap_figure(plt, causal.heatmap, causal.patch_layers, out))
    if causal.claim_patching is not None and causal.claim_patching.margin:
        figures.append(claim_patching_figure(plt, causal.claim_patching, causal.patch_layers, out))
    if causal.patched_readouts:
        long = patched_readout_table(result)
        write_csv(long, out / "patched_readouts.csv")
        figures.append(patched_readout_figure(plt, result, long, out))
    if causal.steering is not None:
        figures.append(steering_figure(plt, causal.steering, bool(result.primary_gate.passed[result.primary_slot]), out))
    return [f for f in figures if f is not None]
