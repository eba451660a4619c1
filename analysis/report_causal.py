"""The localize report's causal figures and CSVs: prerequisite, claim-token patching, heatmap, steering.

One panel per annotation (small multiples), every curve with its control and its 95% CI band,
each statistic's definition in the figure caption. Files: ``prerequisite.csv`` /
``prerequisite.png``, ``belief_margins.csv``, ``claim_patching.csv`` / ``claim_patching.png``,
``handoff_layers.csv``, ``patching_positions.csv`` / ``patching_positions.png``, ``steering.csv`` /
``steering.png``. Plain-language findings: :mod:`.causal_findings`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from .causal import CausalResult
from .causal_findings import handoff_table
from .claim_patching import DIRECTIONS, NEUTRAL_TO_PLAIN, RANDOM_TO_ANNOTATED, RANDOM_TO_PLAIN, TO_PLAIN
from .prerequisite import wording_effects
from .report_figures import Figure, save_png
from .report_screen import screen_figure
from .report_tables import write_csv
from .steering_check import Steering

ANNOTATIONS = ("notice", "dense", "local")
PREREQUISITE_CAPTION = (
    "Effect of the annotation on the belief margin log P(believer answer) - log P(other) at the question's "
    "last token: per claim, the mean over paraphrases of annotated minus plain (circles) and annotated minus "
    "its neutral control of equal length and position (squares), paired by paraphrase, with 95% Student-t CIs "
    "over paraphrases; black: means over claims with 95% t CIs over the claim means. Negative = the annotation "
    "lowers belief, as negation should. A claim passes when its annotation-specific effect (vs the neutral "
    "control where one exists, else vs plain) is at most -{min_effect:g} nats with a CI excluding 0 and its "
    "effect vs plain is negative with a CI excluding 0; only passing claims are localised. Filled markers pass. "
    "Triangles: the annotation's truth-affirming twin (the same words, falsity replaced by its opposite) vs "
    "plain, the bracket of the neutral control: a neutral text should sit between the annotation and its "
    "twin. The neutral control's own effect vs plain is in prerequisite.csv (rows with the control as annotation); "
    "every effect split by annotation wording (claim-level t CIs; all claims share the same few wordings, so the "
    "pooled effect is conditional on them) is in wording_effects.csv.")
PATCHING_CAPTION = (
    "Normalised indirect effect (NIE) of patching all claim tokens (the claim sentence in the document and the "
    "restated claim) after one layer. Top: annotated -> plain, NIE = (m - m_plain) / (m_annotated - m_plain), "
    "the share of the annotation's effect the claim tokens carry. Bottom: plain -> annotated, the share removed "
    "by restoring plain claim tokens. Controls: as many random shared non-claim tokens (grey), and the neutral "
    "run's claim tokens (green, normalised by the annotated gap). Bands: 95% CIs, two-stage bootstrap over "
    "claims then paraphrases; curves are means over claims. Only pairs of passing claims whose own gap is at "
    "least {min_effect:g} nats. Hand-off layer (dashed, shaded CI): the first layer after the peak from which "
    "the claim-token NIE stays below half its peak; from there the claim tokens no longer carry the effect "
    "although it still reaches the answer, so it has moved to later positions (not a drop). CI: bootstrap "
    "over claims.")
HEATMAP_CAPTION = (
    "NIE of patching one of the question's last tokens at a time, annotated -> plain, after each layer "
    "(mean over claims; one paraphrase per passing claim by default): where the annotation's effect sits "
    "late in the network.")
STEERING_CAPTION = (
    "Belief margin change (steered - unsteered plain run) when adding alpha x the {reader} truth direction at "
    "every position after layer {layer} (alpha = +1 moves that reader's readout from a typical false to a typical "
    "true statement), against a random direction of equal norm (grey). Bands: 95% CIs over claims, then "
    "paraphrases. NIE = change / (m_{annotation} - m_plain), only where that gap is at least {min_effect:g} nats "
    "(steering.csv).{validity}")


def prerequisite_figure(plt, causal: CausalResult, out: Path) -> Figure:
    """Forest plot of per-claim effects, one panel per annotation (prerequisite.png/.csv, belief_margins.csv)."""
    prerequisite = causal.prerequisite
    write_csv(prerequisite.table(), out / "prerequisite.csv")
    write_csv(prerequisite.margins, out / "belief_margins.csv")
    write_csv(wording_effects(prerequisite.margins), out / "wording_effects.csv")
    gates = list(prerequisite.gates.values())
    claims = sorted({e.claim for gate in gates for e in gate.vs_plain})
    height = 0.45 * len(claims) + 2.4
    fig, axes = plt.subplots(1, max(1, len(gates)), figsize=(3.6 * max(1, len(gates)) + 1.5, height),
                             sharex=True, sharey=True, squeeze=False)
    fig.subplots_adjust(bottom=1.0 / height)
    for ax, gate in zip(axes[0], gates):
        for offset, effects, marker, color, label in (
                (-0.25, gate.vs_plain, "o", "tab:blue", "vs plain"),
                (0.0, gate.vs_control, "s", "tab:green", "vs neutral control"),
                (0.25, gate.affirmed, "^", "tab:orange", "affirming twin vs plain (bracket)")):
            for k, effect in enumerate(effects):
                filled = effect.annotation == gate.annotation and gate.passes(effect.claim)
                ax.errorbar(effect.effect, claims.index(effect.claim) + offset, fmt=marker, color=color, capsize=2,
                            xerr=[[effect.effect - effect.ci_low], [effect.ci_high - effect.effect]],
                            mfc=color if filled else "white", label=label if k == 0 else None)
        for offset, pooled, marker in ((-0.25, gate.pooled_vs_plain, "D"), (0.0, gate.pooled_vs_control, "s"),
                                       (0.25, gate.pooled_affirmed, "^")):
            if pooled is not None:
                ax.errorbar(pooled.effect, len(claims) + offset, fmt=marker, color="black", capsize=3,
                            xerr=[[pooled.effect - pooled.ci_low], [pooled.ci_high - pooled.effect]],
                            label="mean over claims" if marker == "D" else None)
        ax.axvline(0, color="grey", lw=0.8)
        ax.axvline(-gate.min_effect, color="tab:red", ls=":", lw=0.8, label=f"-min_effect ({gate.min_effect:g} nats)")
        ax.set(xlabel="effect on belief margin (nats)",
               title=f"{gate.annotation}: {len(gate.passing)}/{len(gate.vs_plain)} claims pass")
    axes[0, 0].set_yticks(range(len(claims) + 1), [*claims, "mean over claims"], fontsize=7)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7, bbox_to_anchor=(0.5, 0.0))
    figure = Figure("Behavioural prerequisite", PREREQUISITE_CAPTION.format(min_effect=prerequisite.min_effect),
                    save_png(fig, out / "prerequisite.png"))
    plt.close(fig)
    return figure


def patching_table(causal: CausalResult) -> pd.DataFrame:
    """Claim-mean NIE per annotation, curve and patched layer with its CI (claim_patching.csv)."""
    rows = []
    for annotation, patching in causal.patching.items():
        for curve, mean in patching.mean.items():
            for i, layer in enumerate(patching.patch_layers):
                rows.append({"annotation": annotation, "curve": curve, "layer": layer, "nie": mean.value[i],
                             "ci_low": mean.ci_low[i], "ci_high": mean.ci_high[i], "n_claims": mean.n_claims,
                             "n_pairs": mean.n_rows})
    return pd.DataFrame(rows, columns=["annotation", "curve", "layer", "nie", "ci_low", "ci_high", "n_claims",
                                       "n_pairs"])


def _band(ax, layers, mean, color, label, ls="-"):
    ax.plot(layers, mean.value, color=color, ls=ls, label=label)
    ax.fill_between(layers, mean.ci_low, mean.ci_high, color=color, alpha=0.15, lw=0)


def _patching_panel(ax, causal: CausalResult, annotation: str, direction: str) -> None:
    patching = causal.patching.get(annotation)
    if patching is None:
        sentence = causal.nothing_to_localise(annotation) or "no pair with a gap of at least min_effect"
        ax.text(0.5, 0.5, textwrap.fill(sentence, 42), ha="center", va="center", fontsize=7, transform=ax.transAxes)
        ax.set_title(f"{annotation}: not localised", fontsize=9)
        ax.axis("off")
        return
    layers = list(patching.patch_layers)
    _band(ax, layers, patching.mean[direction], "tab:blue", "claim tokens")
    control = RANDOM_TO_PLAIN if direction == TO_PLAIN else RANDOM_TO_ANNOTATED
    if control in patching.mean:
        _band(ax, layers, patching.mean[control], "grey", "random tokens", "--")
    if direction == TO_PLAIN and NEUTRAL_TO_PLAIN in patching.mean:
        _band(ax, layers, patching.mean[NEUTRAL_TO_PLAIN], "tab:green", "neutral claim tokens", ":")
    handoff = patching.handoff.get(direction)
    if handoff is not None and handoff.layer is not None:
        ax.axvline(handoff.layer, color="tab:red", ls="--", lw=1)
        if handoff.ci_low is not None and handoff.ci_high is not None:
            ax.axvspan(handoff.ci_low, handoff.ci_high, color="tab:red", alpha=0.08)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_title(f"{annotation}: {direction.replace('annotated', annotation)} ({patching.n_claims} claims, "
                 f"{len(patching.pairs)} pairs)", fontsize=9)
    ax.legend(fontsize=6)


def patching_figure(plt, causal: CausalResult, out: Path) -> Figure:
    """NIE curves with controls, one column per annotation, one row per direction (claim_patching.png/.csv)."""
    write_csv(patching_table(causal), out / "claim_patching.csv")
    write_csv(handoff_table(causal), out / "handoff_layers.csv")
    annotations = [a for a in ANNOTATIONS if a in causal.prerequisite.gates] or list(causal.prerequisite.gates)
    fig, axes = plt.subplots(2, max(1, len(annotations)), figsize=(4.5 * max(1, len(annotations)), 6.5),
                             sharex=True, sharey=True, squeeze=False)
    for col, annotation in enumerate(annotations):
        for row, direction in enumerate(DIRECTIONS):
            _patching_panel(axes[row, col], causal, annotation, direction)
    for ax in axes[-1]:
        ax.set_xlabel("patched layer")
    for ax in axes[:, 0]:
        ax.set_ylabel("NIE")
    figure = Figure("Claim-token patching", PATCHING_CAPTION.format(min_effect=causal.settings.min_effect),
                    save_png(fig, out / "claim_patching.png"))
    plt.close(fig)
    return figure


def heatmap_figure(plt, causal: CausalResult, out: Path) -> Figure | None:
    """NIE heatmaps (patched layer x last-token position), one panel per annotation (patching_positions.*)."""
    if not causal.heatmaps:
        return None
    rows = []
    fig, axes = plt.subplots(1, len(causal.heatmaps), figsize=(3.8 * len(causal.heatmaps) + 1, 4), sharey=True,
                             squeeze=False)
    bound = max(float(np.nanmax(np.abs(h.mean.value))) for h in causal.heatmaps.values()) or 1.0
    im = None
    for ax, heat in zip(axes[0], causal.heatmaps.values()):
        values = heat.mean.value
        im = ax.imshow(values, aspect="auto", cmap="RdBu_r", origin="lower", vmin=-bound, vmax=bound)
        ax.set_xticks(range(len(heat.tokens)), [repr(t)[1:-1] for t in heat.tokens], rotation=60, fontsize=6)
        ax.set_yticks(range(len(heat.patch_layers)), heat.patch_layers, fontsize=5)
        ax.set_xlabel("question's last tokens")
        ax.set_title(f"{heat.annotation} -> plain ({heat.n_claims} claims, {heat.mean.n_rows} pairs)", fontsize=9)
        for i, layer in enumerate(heat.patch_layers):
            for j, position in enumerate(heat.positions):
                rows.append({"annotation": heat.annotation, "layer": layer, "position": position,
                             "token": heat.tokens[j], "nie": values[i, j], "ci_low": heat.mean.ci_low[i, j],
                             "ci_high": heat.mean.ci_high[i, j], "n_claims": heat.n_claims})
    axes[0, 0].set_ylabel("patched layer")
    fig.colorbar(im, ax=axes.ravel().tolist(), label="NIE")
    write_csv(pd.DataFrame(rows), out / "patching_positions.csv")
    figure = Figure("Patching the question's last tokens", HEATMAP_CAPTION, save_png(fig, out / "patching_positions.png"))
    plt.close(fig)
    return figure


def steering_table(steering: Steering) -> pd.DataFrame:
    rows = []
    for k, alpha in enumerate(steering.alphas):
        nie = steering.nie_mean
        rows.append({"alpha": alpha, "shift": steering.shift.value[k], "shift_ci_low": steering.shift.ci_low[k],
                     "shift_ci_high": steering.shift.ci_high[k], "random_shift": steering.random_shift.value[k],
                     "random_ci_low": steering.random_shift.ci_low[k], "random_ci_high": steering.random_shift.ci_high[k],
                     "nie": nie.value[k] if nie is not None else np.nan,
                     "nie_ci_low": nie.ci_low[k] if nie is not None else np.nan,
                     "nie_ci_high": nie.ci_high[k] if nie is not None else np.nan,
                     "nie_pairs": nie.n_rows if nie is not None else 0, "n_claims": steering.n_claims,
                     "n_pairs": steering.shift.n_rows, "reader": steering.reader, "layer": steering.layer})
    return pd.DataFrame(rows)


def steering_figure(plt, steering: Steering, valid: bool, out: Path) -> Figure:
    """Margin change per steering strength, truth vs random direction (steering.png, steering.csv)."""
    write_csv(steering_table(steering), out / "steering.csv")
    fig, ax = plt.subplots(figsize=(5, 3.5))
    alphas = list(steering.alphas)
    _band(ax, alphas, steering.shift, "tab:blue", f"{steering.reader} direction")
    _band(ax, alphas, steering.random_shift, "grey", "random direction, same norm", "--")
    ax.axhline(0, color="black", lw=0.5)
    ax.set(xlabel="alpha (readout units)", ylabel="belief margin change (nats)",
           title=f"Steering at layer {steering.layer} ({steering.n_claims} claims, {steering.shift.n_rows} runs)")
    ax.legend(fontsize=7)
    validity = "" if valid else (" The reader fails the validity gate at this layer, so the direction is not "
                                 "shown to be a truth direction: uninformative.")
    caption = STEERING_CAPTION.format(reader=steering.reader, layer=steering.layer, annotation=steering.annotation,
                                      min_effect=steering.min_effect, validity=validity)
    figure = Figure("Steering", caption, save_png(fig, out / "steering.png"))
    plt.close(fig)
    return figure


def causal_figures(plt, result, out: Path) -> list[Figure]:
    """Every causal figure of ``result.causal`` in page order (writes their PNGs and CSVs).

    ``result``: a :class:`~negprobe.analysis.results.LocalizeResult` (its primary reader's gate
    says whether the steering direction is a validated truth direction).
    """
    causal: CausalResult = result.causal
    if not causal.patching:
        write_csv(patching_table(causal), out / "claim_patching.csv")  # empty: nothing was localised
    figures = [prerequisite_figure(plt, causal, out),
               patching_figure(plt, causal, out) if causal.patching else None,  # nothing localised: no empty panels
               heatmap_figure(plt, causal, out), screen_figure(plt, causal.screens, out)]
    if causal.steering is not None:
        valid = bool(result.primary_gate.passed[result.primary_slot])
        figures.append(steering_figure(plt, causal.steering, valid, out))
    return [f for f in figures if f is not None]

