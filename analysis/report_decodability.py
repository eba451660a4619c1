"""The localize report's decodability part: small-multiple figure, CSV, drop-layer rows and findings lines.

Reads the :class:`~negprobe.analysis.annotation.DecodabilityCurve` of every matched contrast
(:func:`negprobe.analysis.contrasts.matched_contrasts`). Decodability shows that the annotation is
*present* in the representation at the read token, not that the model *uses* it; every caption and
findings line says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .annotation import Baseline, DecodabilityCurve
from .contrasts import FAMILY, PRIMARY, READS, ContrastKey
from .report_drops import DropLayer
from .report_figures import Figure, save_png
from .report_tables import write_csv

PRESENCE = "decodability shows the annotation is present in the representation, not that the model uses it"
COLOURS = {"notice vs plain": "tab:blue", "notice vs neutral": "tab:red", "neutral vs plain": "tab:grey",
           "dense vs plain": "tab:blue", "dense vs dense_neutral": "tab:red", "dense_neutral vs plain": "tab:grey",
           "local vs plain": "tab:purple"}
CAPTION = (
    "Held-out AUROC of a probe separating the annotated text from the same text without it (or with a neutral "
    "annotation of matched length and position), read at the claim inside the document and at the claim restated "
    "after it. Folds leave one claim out; the line is the mean over folds of each fold's AUROC, the band its "
    "pointwise 95% CI resampling claims (widened for folds sharing training rows). Filled dots: layers above both "
    "surface baselines (simultaneous over layers); dashed: the same probe after block 0 (layer 0, which has already "
    "attended to the whole context: at identical read tokens every curve is contextual, so this is a strong baseline, "
    "not a token-only one); dotted: the same probe on the read sentence's bag of tokens (chance by construction "
    "wherever the read sentence is the same in both texts). " + PRESENCE[0].upper() + PRESENCE[1:] + "."
)


def _baseline(curve: DecodabilityCurve, name: str) -> Baseline | None:
    return next((b for b in curve.baselines if b.name == name), None)


def _families(curves: Mapping[ContrastKey, DecodabilityCurve]) -> list[str]:
    present = {key.family for key in curves}
    return [f for f in dict.fromkeys(FAMILY.values()) if f in present]


def _reads(curves: Mapping[ContrastKey, DecodabilityCurve]) -> list[str]:
    present = {key.read for key in curves}
    return [r for r in READS.values() if r in present]


def _panel(ax, curves: Mapping[ContrastKey, DecodabilityCurve]) -> None:
    for key, curve in curves.items():
        colour = COLOURS.get(key.label, "black")
        layers, auroc = curve.layers, curve.auroc
        ax.plot(layers, auroc.value, color=colour, lw=1.5, label=key.label)
        ax.fill_between(layers, auroc.ci_low, auroc.ci_high, color=colour, alpha=0.12, lw=0)
        ax.plot(np.asarray(layers)[curve.above], auroc.value[curve.above], "o", color=colour, ms=3.5)
        for name, style in (("layer 0", "--"), ("bag of tokens", ":")):
            baseline = _baseline(curve, name)
            if baseline is not None:
                ax.axhline(baseline.auroc, color=colour, ls=style, lw=1, alpha=0.8)
    ax.axhline(0.5, color="black", lw=0.5, alpha=0.4)
    ax.set_ylim(0.3, 1.02)


def decodability_figure(plt, curves: Mapping[ContrastKey, DecodabilityCurve], out: Path) -> Figure:
    """One panel per annotation family (columns) and read position (rows); lines per contrast with CI bands,
    the layer-0 (dashed) and bag-of-tokens (dotted) baselines as flat lines."""
    from matplotlib.lines import Line2D

    families, reads = _families(curves), _reads(curves)
    fig, axes = plt.subplots(len(reads), len(families), figsize=(3.6 * len(families), 2.8 * len(reads)),
                             sharex=True, sharey=True, squeeze=False)
    for i, read in enumerate(reads):
        for j, family in enumerate(families):
            ax = axes[i, j]
            _panel(ax, {k: c for k, c in curves.items() if k.read == read and k.family == family})
            ax.set_title(f"{family}, at the {read}", fontsize=9)
            ax.legend(fontsize=6, loc="best", frameon=False)
        axes[i, 0].set_ylabel("held-out AUROC")
    for ax in axes[-1]:
        ax.set_xlabel("layer")
    styles = [Line2D([], [], color="grey", ls="--", label="layer-0 baseline"),
              Line2D([], [], color="grey", ls=":", label="bag-of-tokens baseline"),
              Line2D([], [], color="grey", marker="o", ls="", label="above both baselines")]
    fig.legend(handles=styles, loc="lower center", ncol=3, fontsize=7, bbox_to_anchor=(0.5, -0.04), frameon=False)
    fig.tight_layout()
    figure = Figure("Annotation decodability (matched contrasts)", CAPTION, save_png(fig, out / "decodability.png"))
    plt.close(fig)
    return figure


def _baseline_columns(curve: DecodabilityCurve) -> dict[str, float]:
    out = {}
    for name, prefix in (("layer 0", "layer0"), ("bag of tokens", "tokens")):
        b = _baseline(curve, name)
        out |= {f"{prefix}_auroc": b.auroc if b else np.nan, f"{prefix}_ci_low": b.ci_low if b else np.nan,
                f"{prefix}_ci_high": b.ci_high if b else np.nan}
    return out


def decodability_table(curves: Mapping[ContrastKey, DecodabilityCurve]) -> pd.DataFrame:
    """One row per contrast, read position and layer (decodability.csv)."""
    rows = []
    for key, curve in curves.items():
        fixed = {"contrast": key.label, "annotation": key.annotation, "comparison": key.comparison, "read": key.read,
                 "control": key.is_control, **_baseline_columns(curve), "n_folds": len(curve.folds),
                 "unit": curve.unit, "verdict": curve.verdict}
        for slot, layer in enumerate(curve.layers):
            rows.append({**fixed, "layer": layer, "auroc": curve.auroc.value[slot],
                         "ci_low": curve.auroc.ci_low[slot], "ci_high": curve.auroc.ci_high[slot],
                         "decodable": bool(curve.decodable[slot]), "above_baseline": curve.above_baseline.value[slot],
                         "above_ci_low": curve.above_baseline.ci_low[slot],
                         "above_ci_high": curve.above_baseline.ci_high[slot], "above": bool(curve.above[slot])})
    columns = ["contrast", "annotation", "comparison", "read", "control", "layer", "auroc", "ci_low", "ci_high",
               "decodable", "above_baseline", "above_ci_low", "above_ci_high", "above", "layer0_auroc",
               "layer0_ci_low", "layer0_ci_high", "tokens_auroc", "tokens_ci_low", "tokens_ci_high", "n_folds",
               "unit", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def write_decodability_csv(curves: Mapping[ContrastKey, DecodabilityCurve], out: Path) -> Path:
    """Write :func:`decodability_table` to ``out / "decodability.csv"``."""
    path = out / "decodability.csv"
    write_csv(decodability_table(curves), path)
    return path


def _last_decodable(curve: DecodabilityCurve) -> str:
    ci = curve.last_decodable_ci
    if curve.last_decodable_layer is None or ci is None:
        return ""
    if curve.drop_layer == len(curve.layers):
        return _never_dropped(curve)
    return f"last decodable layer {curve.last_decodable_layer} [95% CI {ci[0]}, {ci[1]}]"


def _never_dropped(curve: DecodabilityCurve) -> str:
    """No half-peak drop; whether the last layer is also decodable by the simultaneous band (the two
    definitions can disagree on a curve that sags without dropping below half its peak)."""
    last = f"layer {curve.layers[-1]}"
    if curve.decodable[-1]:
        return f"no drop through {last} (still decodable there)"
    value, low, high = curve.auroc.value[-1], curve.auroc.ci_low[-1], curve.auroc.ci_high[-1]
    return (f"no drop below half its peak through {last}, but not decodable at {last} by the simultaneous band "
            f"(AUROC {value:.2f} [{low:.2f}, {high:.2f}])")


def decodability_drop_rows(curves: Mapping[ContrastKey, DecodabilityCurve]) -> list[DropLayer]:
    """The drop layer of every contrast (first layer from which it stays undecodable), CI over claims."""
    rows = []
    for key, curve in curves.items():
        what = f"annotation drop layer ({key.label}, {key.read})"
        if curve.drop_layer is None or curve.drop_ci is None:
            rows.append(DropLayer(what, None, None, None, "not decodable at any layer (simultaneous band)"))
            continue
        if curve.drop_layer == len(curve.layers):  # "never": no layer to report, say so instead
            rows.append(DropLayer(what, None, None, None, f"{_never_dropped(curve)}; {curve.verdict}; presence, not use"))
            continue
        note = (f"{_last_decodable(curve)}; {curve.verdict}; statistic recomputed in each bootstrap draw over "
                f"{len(curve.folds)} {curve.unit}s; presence, not use")
        rows.append(DropLayer(what, curve.layer_at(curve.drop_layer), curve.layer_at(curve.drop_ci[0]),
                              curve.layer_at(curve.drop_ci[1]), note))
    return rows


def _primary(curves: Mapping[ContrastKey, DecodabilityCurve], family: str, read: str) -> ContrastKey | None:
    for annotation, comparison in PRIMARY[family]:
        key = ContrastKey(annotation, comparison, read)
        if key in curves:
            return key
    return None


def decodability_findings(curves: Mapping[ContrastKey, DecodabilityCurve]) -> list[str]:
    """One line per annotation family: its isolating contrast's verdict at each read position, with the last
    decodable layer and its CI, e.g. ``notice vs neutral (6 claims): at the document claim decodable above
    baseline (layers 3-9), last decodable layer 12 [95% CI 11, 13]; at the restated claim not decodable. ...``"""
    lines = []
    for family in _families(curves):
        keys = [key for read in _reads(curves) if (key := _primary(curves, family, read)) is not None]
        if not keys:
            continue
        parts = []
        for key in keys:
            curve, last = curves[key], _last_decodable(curves[key])
            label = f" ({key.label})" if len({k.label for k in keys}) > 1 else ""
            parts.append(f"at the {key.read}{label} {curve.verdict}" + (f", {last}" if last else ""))
        first = curves[keys[0]]
        head = f"{family}: {keys[0].label} ({len(first.folds)} {first.unit}s)" if len({k.label for k in keys}) == 1 \
            else f"{family} ({len(first.folds)} {first.unit}s)"
        lines.append(f"{head}: " + "; ".join(parts) + f". Presence, not use: {PRESENCE}.")
    return lines
