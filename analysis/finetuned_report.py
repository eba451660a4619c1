"""Where fine-tuning drops the annotation, side by side per layer: one figure and a findings paragraph from gated numbers.

Five series (:mod:`.finetuned_series`; any may be missing): in-context annotation use on the base
model (claim-token patching NIE, Meng et al. 2022's causal tracing as localize runs it), the
training-signal divergence (:mod:`.training_signal`), cross-model patching recovery
(:mod:`.cross_patching`), the LoRA update norm (Hu et al. 2022; :mod:`.weight_view`) and the change of the
annotation's in-context decodability on the fine-tuned models (:mod:`.tuned_contrasts`), and, when
a layer sweep is given, its per-window gaps (:mod:`.finetuned_windows`). Each panel
shares the layer axis. A series whose gate failed is drawn grey with its reason and is left out of
the findings, which state only numbers that passed their gate (and say "nothing to localise: <reason>"
for the others). :func:`write_finetuned_report` writes ``finetuned_report.png`` / ``.html`` / ``.md``
and ``finetuned_layers.csv`` (every series per layer with its band and status).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from negprobe.activations.atomic import atomic_path, atomic_write_text
from negprobe.errors import NegprobeError

from .finetuned_series import CONTRASTS, IN_CONTEXT, KEYS, PATCHING, SIGNAL, TITLES, LayerSeries
from .finetuned_windows import WindowGap, window_panel, window_rows, window_sentence
from .plots import pyplot, write_html
from .report_figures import Figure, save_png

CAPTION = (
    "Per layer, side by side: in-context annotation use on the base model (claim-token patching NIE, "
    "annotated -> plain; marker: hand-off layer), the training signal's annotation-specific divergence "
    "cos(neutral, plain) - cos(annotated, plain) (marker: first layer from which its CI stays above 0), "
    "cross-model patching recovery of the fine-tuned margin (marker: first layer recovering half) and the "
    "relative LoRA update norm per block (band: range over adapters), the change of the annotation's in-context "
    "decodability (AUROC) on the fine-tuned models from the base (marker: first layer from which every model's "
    "simultaneous band excludes 0); with a layer sweep, the belief gap "
    "negated - positive of adapters trained on one window of blocks (bar over the window, 95% t CI over seeds). "
    "Bands are 95% CIs unless stated. A grey panel's gate failed: its numbers are shown, not read."
)


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _peak(s: LayerSeries) -> str:
    k = int(np.nanargmax(np.abs(s.value)))
    return f"{s.value[k]:+.3f} [{s.low[k]:+.3f}, {s.high[k]:+.3f}] at layer {int(s.layers[k])}"


def _marker(s: LayerSeries) -> str:
    if s.marker is None:
        return f"no {s.marker_label}" if s.marker_label else ""
    ci = f" [{s.marker_ci[0]}, {s.marker_ci[1]}]" if s.marker_ci is not None else ""
    return f"{s.marker_label} {s.marker}{ci}"


def _sentence(s: LayerSeries) -> str:
    """One finding from a series whose gate passed: its marker and its largest value, with CIs."""
    if s.key == IN_CONTEXT:
        return f"In context on the base model ({s.reason}), patching the annotated claim tokens carries the " \
               f"annotation's effect with a largest NIE of {_peak(s)} nats; {_marker(s)}."
    if s.key == SIGNAL:
        return f"In the training signal, {s.reason} (largest divergence {_peak(s)})."
    if s.key == CONTRASTS:
        return f"Reading annotated documents in context, fine-tuning changes the annotation's decodability: {s.reason}; " \
               f"largest change {_peak(s)} AUROC; {_marker(s)}."
    if s.key == PATCHING:
        what = " It is the name association, not belief: it says which blocks' updates the name's margin needs, " \
               "not where belief or an annotation sits." if "(cloze_distractor)" in s.ylabel else ""
        return f"Across models ({s.reason}), patching the fine-tuned residual into the base gives {_marker(s)} " \
               f"(at the last block, patched at all positions, recovery is 1 by construction).{what}"
    return f"The LoRA update relative to its weights runs from {s.value[0]:.4f} at block {int(s.layers[0])} to " \
           f"{s.value[-1]:.4f} at block {int(s.layers[-1])} ({s.band}); one condition's adapters alone cannot say " \
           f"whether that profile is the annotation's or LoRA's on this model."


def findings_paragraph(series: Mapping[str, LayerSeries | None], windows: list[WindowGap] | None = None) -> str:
    """The findings from gated numbers only; a failed gate reads "nothing to localise: <reason>"."""
    parts = []
    for key in KEYS:
        s = series.get(key)
        if s is None:
            parts.append(f"{_upper(TITLES[key])}: not given.")
        elif s.passed:
            parts.append(_sentence(s))
        else:
            parts.append(f"{_upper(TITLES[key])}: nothing to localise: {s.reason}.")
    if windows is not None:
        parts.append(window_sentence(windows))
    marked = [f"{TITLES[k]} {series[k].marker}" for k in KEYS  # type: ignore[union-attr]
              if series.get(k) is not None and series[k].passed and series[k].marker is not None]  # type: ignore[union-attr]
    if len(marked) >= 2:
        parts.append("Layers located by the gated series: " + ", ".join(marked) + ".")
    elif not any(s is not None and s.passed for s in series.values()) and not any(g.passed for g in windows or []):
        parts.append("No series passed its gate: nothing is localised.")
    return " ".join(parts)


def _panel(ax, s: LayerSeries | None, key: str) -> None:
    ax.set_title(TITLES[key], fontsize=9)
    ax.set_xlabel("layer")
    if s is None or len(s.layers) == 0 or not np.isfinite(s.value).any():
        text = "not given" if s is None else "nothing to localise: " + s.reason
        ax.text(0.5, 0.5, textwrap.fill(text, 38), ha="center", va="center", fontsize=7, color="grey",
                transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    color = ("C0", "C1", "C2", "C4", "C5")[KEYS.index(key)] if s.passed else "0.65"
    ax.plot(s.layers, s.value, color=color, lw=1.4)
    ax.fill_between(s.layers, s.low, s.high, color=color, alpha=0.18, lw=0)
    ax.axhline(0.0, color="black", lw=0.5)
    ax.set_ylabel(s.ylabel, fontsize=8)
    if s.marker is not None and s.passed:
        ax.axvline(s.marker, color="tab:red", ls="--", lw=1)
        if s.marker_ci is not None:
            ax.axvspan(s.marker_ci[0], s.marker_ci[1], color="tab:red", alpha=0.08)
    if not s.passed:
        ax.text(0.02, 0.97, textwrap.fill("gate failed: " + s.reason, 46), va="top", fontsize=6, color="0.35",
                transform=ax.transAxes)


def overlay_figure(series: Mapping[str, LayerSeries | None], out: Path,
                   windows: list[WindowGap] | None = None) -> Figure:
    """The five panels (six with a layer sweep) on one layer axis (``finetuned_report.png``)."""
    plt = pyplot()
    layers = [s.layers for s in series.values() if s is not None and len(s.layers)]
    span = (min(int(x.min()) for x in layers), max(int(x.max()) for x in layers)) if layers else (0, 1)
    fig, axes = plt.subplots(1, len(KEYS) + (windows is not None), figsize=(4 * len(KEYS) + 4 * (windows is not None), 3.6))
    for ax, key in zip(axes, KEYS):
        _panel(ax, series.get(key), key)
        ax.set_xlim(span[0] - 0.5, span[1] + 0.5)
    if windows is not None:
        window_panel(axes[-1], windows)
    fig.suptitle("Fine-tuned models per layer: in context, training signal, patching, weights, windows "
                 "(grey: gate failed)", fontsize=10)
    fig.tight_layout()
    figure = Figure("Fine-tuned models per layer", CAPTION, save_png(fig, out / "finetuned_report.png"))
    plt.close(fig)
    return figure


def layers_table(series: Mapping[str, LayerSeries | None], windows: list[WindowGap] | None = None) -> pd.DataFrame:
    """Every given series per layer: value, band, gate status and reason (``finetuned_layers.csv``)."""
    rows = [(s.key, int(layer), float(v), float(lo), float(hi), s.band, s.status, s.marker, s.reason, s.source)
            for s in series.values() if s is not None for layer, v, lo, hi in zip(s.layers, s.value, s.low, s.high)]
    rows += window_rows(windows)
    return pd.DataFrame(rows, columns=["series", "layer", "value", "low", "high", "band", "status", "marker", "reason",
                                       "source"])


def interactive_overlay(table: pd.DataFrame, path: Path) -> None:
    """The same panels in one plotly page, values and bands in the hover."""
    import plotly.express as px

    frame = table if not table.empty else pd.DataFrame({"series": [], "layer": [], "value": []})
    fig = px.line(frame, x="layer", y="value", facet_col="series", color="series", markers=True, height=420,
                  hover_data=[c for c in ("low", "high", "status", "band") if c in frame.columns])
    fig.update_yaxes(matches=None, showticklabels=True)
    fig.update_layout(title="Fine-tuned models per layer (hover: band and gate status)")
    with atomic_path(path) as tmp:
        write_html(fig, tmp)


def write_finetuned_report(series: Mapping[str, LayerSeries | None], out: Path,
                           windows: list[WindowGap] | None = None) -> list[Path]:
    """Write the figure, its table, the page with the findings paragraph; every file atomically."""
    if not any(s is not None for s in series.values()) and not windows:
        raise NegprobeError("the fine-tuned report needs at least one series (localize, signal, cross patching,"
                            " LoRA norms, layer sweep)")
    out.mkdir(parents=True, exist_ok=True)
    table = layers_table(series, windows)
    paragraph = findings_paragraph(series, windows)
    written = [atomic_write_text(out / "finetuned_layers.csv", table.to_csv(index=False))]
    figure = overlay_figure(series, out, windows)
    interactive_overlay(table, out / "finetuned_report.html")
    sources = [f"- {TITLES[k]}: {series[k].source}" for k in KEYS if series.get(k) is not None]  # type: ignore[union-attr]
    page = [f"# {figure.title}", "", "![per layer](finetuned_report.png)", "",
            "Interactive: [finetuned_report.html](finetuned_report.html)", "", CAPTION, "", "## Findings", "",
            paragraph, "", "## Sources", "", *sources]
    written += [out / "finetuned_report.png", out / "finetuned_report.html",
                atomic_write_text(out / "finetuned_report.md", "\n".join(page) + "\n")]
    return written

