"""Plots of sweep results: per-layer curves with CI bands, generalisation heatmaps, PCA scatter.

Every figure is written as PNG (matplotlib) and interactive HTML (plotly; the plotly.js bundle is
written once per folder, so the pages work offline).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from negprobe.probes.artifact import file_slug


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_html(fig, path: Path) -> None:
    """An interactive plotly page; plotly.js is written once into the same folder (works offline)."""
    fig.write_html(str(path), include_plotlyjs="directory", full_html=True)


def layer_curves(results: pd.DataFrame, out_dir: Path, metric: str = "accuracy") -> list[Path]:
    """One figure per (model, adapter, position, train, test): metric per layer, a line per probe."""
    import plotly.graph_objects as go

    plt = pyplot()
    written = []
    table = results[results["metric"] == metric]
    for (model, adapter, position, train, test), sub in table.groupby(["model", "adapter", "position", "train", "test"]):
        name = f"layers-{metric}-{file_slug(model, adapter, position, train, test)}"
        fig, ax = plt.subplots(figsize=(7, 4))
        plotly_fig = go.Figure()
        for probe, curve in sub.groupby("probe", sort=False):
            curve = curve.sort_values("layer")
            line, = ax.plot(curve["layer"], curve["value"], label=probe, lw=1.6)
            ax.fill_between(curve["layer"], curve["ci_low"], curve["ci_high"], color=line.get_color(), alpha=0.15)
            plotly_fig.add_trace(go.Scatter(
                x=curve["layer"], y=curve["value"], name=probe, mode="lines+markers",
                error_y=dict(type="data", symmetric=False, array=curve["ci_high"] - curve["value"],
                             arrayminus=curve["value"] - curve["ci_low"], thickness=0.8),
            ))
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.set(xlabel="layer (block output)", ylabel=metric, ylim=(0.3, 1.02),
               title=f"{model}{' + ' + Path(adapter).name if adapter else ''} [{position}]\ntrain {train} -> test {test}")
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(out_dir / f"{name}.png", dpi=120)
        plt.close(fig)
        plotly_fig.update_layout(title=f"{model} {adapter or ''} [{position}] train {train} -> test {test}",
                                 xaxis_title="layer", yaxis_title=f"{metric} (95% CI)")
        write_html(plotly_fig, out_dir / f"{name}.html")
        written.append(out_dir / f"{name}.png")
    return written


def generalization_heatmap(results: pd.DataFrame, out_dir: Path, metric: str = "accuracy") -> list[Path]:
    """Train x test at each fold's validation-chosen layer, one panel per probe."""
    import plotly.express as px

    plt = pyplot()
    table = results[results["metric"] == f"{metric}@selected_layer"]
    written = []
    for (model, adapter, position), sub in table.groupby(["model", "adapter", "position"]):
        probes = list(dict.fromkeys(sub["probe"]))
        cols = min(4, len(probes))
        rows_n = int(np.ceil(len(probes) / cols))
        fig, axes = plt.subplots(rows_n, cols, figsize=(3.6 * cols, 0.6 + 0.5 * rows_n * max(3, sub["train"].nunique() + 2)),
                                 squeeze=False)
        for ax, probe in zip(axes.flat, probes):
            grid = sub[sub["probe"] == probe].pivot_table(index="train", columns="test", values="value", sort=False)
            im = ax.imshow(grid.to_numpy(), vmin=0, vmax=1, cmap="RdBu_r")
            ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=60, ha="right", fontsize=7)
            ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=7)
            for (i, j), v in np.ndenumerate(grid.to_numpy()):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6)
            layer = int(sub[sub["probe"] == probe]["layer"].mode().iloc[0])
            ax.set_title(f"{probe} (layer {layer})", fontsize=8)
        for ax in list(axes.flat)[len(probes):]:
            ax.axis("off")
        fig.colorbar(im, ax=axes, shrink=0.6, label=metric)
        name = f"generalization-{metric}-{file_slug(model, adapter, position)}"
        fig.savefig(out_dir / f"{name}.png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        long = sub[["probe", "train", "test", "value"]]
        plotly_fig = px.density_heatmap(long, x="test", y="train", z="value", facet_col="probe", facet_col_wrap=4,
                                        histfunc="avg", range_color=(0, 1), color_continuous_scale="RdBu_r",
                                        text_auto=".2f")
        write_html(plotly_fig, out_dir / f"{name}.html")
        written.append(out_dir / f"{name}.png")
    return written


def pca_scatter(X_layer: np.ndarray, rows: pd.DataFrame, fit_rows: np.ndarray, out_dir: Path, title: str) -> Path:
    """First two principal components (fitted on training rows) coloured by label, marked by polarity."""
    import plotly.express as px

    plt = pyplot()
    X_layer = np.asarray(X_layer, dtype=np.float64)
    mean = X_layer[fit_rows].mean(0)
    _, _, vt = np.linalg.svd(X_layer[fit_rows] - mean, full_matrices=False)
    pcs = (X_layer - mean) @ vt[:2].T
    fig, ax = plt.subplots(figsize=(6, 5))
    for (label, polarity), idx in rows.groupby(["label", "polarity"]).indices.items():
        ax.scatter(pcs[idx, 0], pcs[idx, 1], s=8, alpha=0.6, marker="o" if polarity == "affirmed" else "x",
                   color="tab:blue" if label == 1 else "tab:red", label=f"{'true' if label == 1 else 'false'}, {polarity}")
    ax.set(xlabel="PC1", ylabel="PC2", title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = out_dir / "pca.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    frame = rows.assign(PC1=pcs[:, 0], PC2=pcs[:, 1], truth=rows["label"].map({1: "true", 0: "false"}))
    plotly_fig = px.scatter(frame, x="PC1", y="PC2", color="truth", symbol="polarity", hover_data=["dataset", "text"],
                            title=title)
    write_html(plotly_fig, out_dir / "pca.html")
    return path


def write_sweep_plots(results: pd.DataFrame, out_dir: Path, pca_inputs=None) -> list[Path]:
    written = []
    for metric in ("accuracy", "auroc"):
        written += layer_curves(results, out_dir, metric)
        written += generalization_heatmap(results, out_dir, metric)
    if pca_inputs is not None:
        data, train_sets, table = pca_inputs
        selected = table[table["metric"] == "accuracy@selected_layer"]
        layer = int(selected["layer"].mode().iloc[0]) if len(selected) else data.layers[len(data.layers) // 2]
        slot = data.layers.index(layer)
        fit_rows = np.flatnonzero(data.rows["dataset"].isin(train_sets).to_numpy())
        written.append(pca_scatter(data.X[slot].numpy(), data.rows, fit_rows, out_dir,
                                   f"{data.model_info['name']} layer {layer}: PCA of train rows"))
    return written
