"""The localize report's attribution screen: where the confirmed effect sits, and how far the screen ranks right.

Files: ``attribution_screen.csv`` (every confirmed cell of every pair: layer, token, estimated
and exact effect, NIE), ``attribution_screen.png`` (per annotation, the claim-mean share of the
confirmed |exact| effect per layer with its 95% CI). The method: :mod:`.attribution_screen`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .attribution_screen import AttributionScreen
from .report_figures import Figure, save_png
from .report_tables import write_csv

SCREEN_CAPTION = (
    "Attribution screen (Nanda 2023): per passing pair, a gradient estimate of the effect on the plain run's "
    "belief margin of patching each (layer, aligned token) from the annotated run, over the whole grid from one "
    "forward and one backward pass; its {k} largest cells per pair are then patched exactly. Bars: share of the "
    "pair's summed |exact effect| over its confirmed cells that sits at each layer (mean over claims; 95% CI, "
    "two-stage bootstrap over claims then paraphrases). Titles: Spearman correlation of estimated and exact effects "
    "on the confirmed cells (how far the screen's ranking holds on this model). A gradient misses effects that pass "
    "through saturating steps (a max, a softmax at its edge), so cells the screen ranks low are not shown to be "
    "empty: the claim-token curves above patch those exactly. Every cell: attribution_screen.csv.")


def screen_table(screens: dict[str, AttributionScreen]) -> pd.DataFrame:
    """Every confirmed cell of every screened pair (attribution_screen.csv)."""
    rows = []
    for annotation, screen in screens.items():
        for pair in screen.pairs:
            for rank, ((layer, target, source), token) in enumerate(zip(pair.cells, pair.tokens)):
                rows.append({"annotation": annotation, "claim": pair.claim, "paraphrase": pair.paraphrase,
                             "rank": rank, "layer": layer, "plain_position": target, "annotated_position": source,
                             "token": token, "estimate": pair.estimate[rank], "exact": pair.exact[rank],
                             "nie": pair.exact[rank] / pair.gap if pair.gap else np.nan,
                             "spearman": pair.agreement.spearman, "grid_cells": pair.n_grid_cells})
    return pd.DataFrame(rows, columns=["annotation", "claim", "paraphrase", "rank", "layer", "plain_position",
                                       "annotated_position", "token", "estimate", "exact", "nie", "spearman",
                                       "grid_cells"])


def screen_figure(plt, screens: dict[str, AttributionScreen], out: Path) -> Figure | None:
    """Share of the confirmed effect per layer, one panel per annotation (attribution_screen.png/.csv)."""
    if not screens:
        return None
    write_csv(screen_table(screens), out / "attribution_screen.csv")
    fig, axes = plt.subplots(1, len(screens), figsize=(4.2 * len(screens), 3.4), sharey=True, squeeze=False)
    for ax, screen in zip(axes[0], screens.values()):
        share, layers = screen.layer_share, list(screen.layers)
        ax.bar(layers, share.value, color="tab:purple", alpha=0.7,
               yerr=[share.value - share.ci_low, share.ci_high - share.value], capsize=1.5, error_kw={"lw": 0.6})
        rho = screen.spearman
        ax.set_title(f"{screen.annotation}: Spearman {float(rho.value):+.2f} [{float(rho.ci_low):+.2f}, "
                     f"{float(rho.ci_high):+.2f}]\n{screen.n_claims} claims, {rho.n_rows} pairs, top {screen.k}",
                     fontsize=8)
        ax.set_xlabel("patched layer")
    axes[0, 0].set_ylabel("share of confirmed |effect|")
    k = next(iter(screens.values())).k
    figure = Figure("Attribution screen of every layer and token", SCREEN_CAPTION.format(k=k),
                    save_png(fig, out / "attribution_screen.png"))
    plt.close(fig)
    return figure

