"""The report of a probe sweep, drawn from its :class:`SweepResult` alone (nothing is refitted).

Per-layer curves with CI bands, train x test generalisation heatmaps at the validation-chosen
layers, a PCA scatter of the first sweep cell, and ``summary.md``. Every figure is written as PNG
(matplotlib) and interactive HTML (plotly; plotly.js is written once per folder, so pages work
offline).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from negprobe.activations.atomic import atomic_write_text
from negprobe.probes.artifact import file_slug
from negprobe.probes.sweep import PCAProjection, SweepResult

from .plots import pyplot, write_html

__all__ = ["generalization_heatmap", "layer_curves", "pca_scatter", "summary_markdown", "write_sweep_report"]


def write_sweep_report(result: SweepResult, out: Path | None = None) -> Path:
    """Write every sweep figure (PNG + HTML) and ``summary.md`` into ``out`` (default: the sweep's
    folder); returns the path of ``summary.md``."""
    out_dir = Path(out) if out is not None else result.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    for metric in ("accuracy", "auroc"):
        layer_curves(result.results, out_dir, metric)
        generalization_heatmap(result.results, out_dir, metric)
    if result.pca:  # the first (model, adapter, position, train set) of the grid
        pca_scatter(result.pca[0], out_dir)
    return atomic_write_text(out_dir / "summary.md", summary_markdown(result.results))


def layer_curves(results: pd.DataFrame, out_dir: Path, metric: str = "accuracy") -> list[Path]:
    """One figure per (model, adapter, position, train, test): metric per layer, a line per probe."""
    import plotly.graph_objects as go

    plt = pyplot()
    written = []
    table = results.loc[results["metric"] == metric]
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
    table = results.loc[results["metric"] == f"{metric}@selected_layer"]
    written = []
    for (model, adapter, position), sub in table.groupby(["model", "adapter", "position"]):
        probes = list(dict.fromkeys(sub["probe"]))
        cols = min(4, len(probes))
        rows_n = int(np.ceil(len(probes) / cols))
        fig, axes = plt.subplots(rows_n, cols, figsize=(3.6 * cols, 0.6 + 0.5 * rows_n * max(3, sub["train"].nunique() + 2)),
                                 squeeze=False)
        for ax, probe in zip(axes.flat, probes):
            grid = sub.loc[sub["probe"] == probe].pivot_table(index="train", columns="test", values="value", sort=False)
            im = ax.imshow(grid.to_numpy(), vmin=0, vmax=1, cmap="RdBu_r")
            ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=60, ha="right", fontsize=7)
            ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=7)
            for (i, j), v in np.ndenumerate(grid.to_numpy()):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6)
            layer = int(sub.loc[sub["probe"] == probe, "layer"].mode().iloc[0])
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
                                        text_auto=".2f")  # pyright: ignore[reportArgumentType]  # plotly accepts format strings
        write_html(plotly_fig, out_dir / f"{name}.html")
        written.append(out_dir / f"{name}.png")
    return written


def pca_scatter(projection: PCAProjection, out_dir: Path) -> Path:
    """The rows on their first two principal components, coloured by label, marked by polarity."""
    import plotly.express as px

    plt = pyplot()
    pcs, rows, title = projection.coords, projection.rows, projection.title
    fig, ax = plt.subplots(figsize=(6, 5))
    for key, idx in rows.groupby(["label", "polarity"]).indices.items():
        label, polarity = cast(tuple[int, str], key)
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


def _fmt(row) -> str:
    return f"{row['value']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"


def summary_markdown(results: pd.DataFrame, title: str = "negprobe sweep") -> str:
    """``summary.md``: per train set, each probe's validation-chosen layer and held-out accuracy on
    every test set (fold means, group-bootstrap 95% CIs), then affirmed -> negated generalisation."""
    lines = [f"# {title}", ""]
    selected = results.loc[results["metric"] == "accuracy@selected_layer"]
    for (model, adapter, position, train), sub in selected.groupby(["model", "adapter", "position", "train"], sort=False):
        lines += [f"## {model}{' + ' + adapter if adapter else ''}, position `{position}`, trained on `{train}`", ""]
        tests = list(dict.fromkeys(sub["test"]))
        lines.append("| probe | layer (validation-chosen) | " + " | ".join(f"acc on {t}" for t in tests) + " |")
        lines.append("|---|---|" + "---|" * len(tests))
        for probe, rows in sub.groupby("probe", sort=False):
            cells = [_fmt(rows[rows["test"] == t].iloc[0]) if (rows["test"] == t).any() else "-" for t in tests]
            lines.append(f"| {probe} | {int(rows['layer'].iloc[0])} | " + " | ".join(cells) + " |")
        lines.append("")
        curves = results.loc[(results["metric"] == "auroc") & (results["train"] == train) & (results["model"] == model)
                             & (results["adapter"] == adapter) & (results["position"] == position)]
        best = curves.loc[curves.groupby(["probe", "test"])["value"].idxmax()]
        lines.append("Peak AUROC over layers (not a held-out estimate: the layer is chosen on the test rows):")
        lines.append("")
        for probe, rows in best.groupby("probe", sort=False):
            parts = [f"{t} {v:.2f} @L{int(l)}" for t, v, l in zip(rows["test"], rows["value"], rows["layer"])]
            lines.append(f"- {probe}: " + ", ".join(parts))
        lines.append("")
    affirmed_only = selected.loc[~selected["train"].str.contains(r"(?:^|\+)neg_", regex=True)]
    negated_tests = affirmed_only.loc[affirmed_only["test"].str.startswith("neg_")]
    if len(negated_tests):
        lines += ["## Affirmed -> negated generalisation", "",
                  "Probes trained on affirmed statements only, tested on held-out negated twins "
                  "(accuracy below 0.5 means the probe reads negated statements inverted):", ""]
        for (train, probe), rows in negated_tests.groupby(["train", "probe"], sort=False):
            parts = [f"{t}: {_fmt(r)}" for t, (_, r) in zip(rows["test"], rows.iterrows())]
            lines.append(f"- `{train}` / {probe} (layer {int(rows['layer'].iloc[0])}): " + "; ".join(parts))
        lines.append("")
    return "\n".join(lines)
