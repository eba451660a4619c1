"""The training-signal figure (PNG + interactive HTML), its tables and the page that states definition and reading.

:func:`write_signal_report` writes into one folder: ``training_signal.png`` and ``.html`` (gradient
cosine per layer with 95% claim-bootstrap bands, the annotation-specific divergence, the claim-token
losses), ``signal_layers.csv`` (every comparison x layer x module), ``signal_losses.csv``,
``signal_claims.csv`` (per-claim means) and ``training_signal.md``, the figure with its definition and
reading next to it (Mayne et al. 2026 for the phenomenon; the statistics: :mod:`.training_signal`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from negprobe.activations.atomic import atomic_path, atomic_write_text

from .plots import pyplot, write_html
from .report_figures import Figure, save_png
from .training_signal import SignalSummary, layer_table, loss_table, summary_lines

DEFINITION = (
    "Definition: for each matched pair (the same fine-tuning document plain, with its annotation, and with a "
    "neutral text of equal token count and position), the gradient of the mean next-token loss on the claim "
    "sentence's tokens only (nats per token) with respect to the base weight of every module LoRA trains "
    "(all-linear: attention q/k/v/o and MLP projections) is taken for each document; the cosine of two "
    "documents' gradients is shown per layer (the layer's modules concatenated; per module in "
    "signal_layers.csv). Means are over a claim's pairs, then over claims; bands and brackets are 95% "
    "cluster-bootstrap CIs over claims."
)
READING = (
    "Reading: if the annotated and plain gradients point the same way at every layer, the annotation is "
    "dropped from the update everywhere; if they diverge from layer k on, the update carries the annotation "
    "from k. Any added text changes the context, so the annotation's own effect is the divergence beyond the "
    "neutral control, cos(neutral, plain) - cos(annotated, plain); the divergence layer is the first layer "
    "from which its CI stays above 0. The losses say whether the annotation makes the false claim less "
    "predictable (higher loss), more, or no different."
)


def signal_figure(summary: SignalSummary, out: Path) -> Figure:
    """Cosine curves per comparison, the annotation-specific divergence, and the claim-token losses."""
    plt = pyplot()
    layers = list(range(summary.n_layers))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), gridspec_kw={"width_ratios": [3, 3, 1.6]})
    iv = summary.layer_cosine
    for c, name in enumerate(summary.comparisons):
        line, = axes[0].plot(layers, iv.mean[c], label=name, lw=1.3)
        axes[0].fill_between(layers, iv.low[c], iv.high[c], color=line.get_color(), alpha=0.15)
    axes[0].axhline(1.0, color="grey", ls=":")
    axes[0].set(xlabel="layer", ylabel="gradient cosine", title="claim-token gradients")
    axes[0].legend(fontsize=7)
    dv = summary.divergence
    axes[1].plot(layers, dv.mean, color="C3", lw=1.3)
    axes[1].fill_between(layers, dv.low, dv.high, color="C3", alpha=0.15)
    axes[1].axhline(0.0, color="grey", ls=":")
    if summary.divergence_layer is not None:
        axes[1].axvline(summary.divergence_layer, color="k", ls="--", lw=0.8)
    axes[1].set(xlabel="layer", ylabel="cos(N, P) - cos(A, P)",
                title="annotation-specific divergence")
    lv = summary.losses
    axes[2].bar(list(summary.kinds), lv.mean, yerr=[lv.mean - lv.low, lv.high - lv.mean], color=["C7", "C3", "C0"])
    axes[2].set(ylabel="claim-token loss (nats/token)", title="loss")
    fig.suptitle(f"Training signal: {summary.model}, annotation {summary.condition!r} "
                 f"({len(summary.claims)} claims, {summary.n_pairs} pairs)", fontsize=9)
    fig.tight_layout()
    figure = Figure("Training signal", DEFINITION + " " + READING, save_png(fig, out / "training_signal.png"))
    plt.close(fig)
    return figure


def interactive_signal(table: pd.DataFrame, path: Path) -> None:
    """Every comparison's cosine per layer and module (``all``: the whole layer) in one plotly page."""
    import plotly.express as px

    fig = px.line(table, x="layer", y="cosine", color="module", facet_col="comparison",
                  hover_data=["ci_low", "ci_high", "n_claims", "n_pairs"], height=420)
    fig.update_layout(title="Claim-token gradient cosine per layer and module (95% claim-bootstrap CIs in hover)")
    with atomic_path(path) as tmp:  # plotly.min.js lands beside it, where the page looks for it
        write_html(fig, tmp)


def write_signal_report(summary: SignalSummary, out: Path) -> list[Path]:
    """Write the figure, its tables and ``training_signal.md`` into ``out`` (each file atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    layers, losses = layer_table(summary), loss_table(summary)
    claims = pd.DataFrame([(claim, comparison, layer, summary.claim_layer_cosine[i, c, layer])
                           for i, claim in enumerate(summary.claims) for c, comparison in enumerate(summary.comparisons)
                           for layer in range(summary.n_layers)], columns=["claim", "comparison", "layer", "cosine"])
    written = [atomic_write_text(out / "signal_layers.csv", layers.to_csv(index=False)),
               atomic_write_text(out / "signal_losses.csv", losses.to_csv(index=False)),
               atomic_write_text(out / "signal_claims.csv", claims.to_csv(index=False))]
    figure = signal_figure(summary, out)
    interactive_signal(layers, out / "training_signal.html")
    page = [f"# {figure.title}", "", "![training signal](training_signal.png)", "",
            "Interactive, per module: [training_signal.html](training_signal.html)", "", DEFINITION, "", READING, "",
            "## Findings", "", *[f"- {line}" for line in summary_lines(summary)], "",
            f"Gradients took {summary.seconds:.0f} s."]
    written += [out / "training_signal.png", out / "training_signal.html",
                atomic_write_text(out / "training_signal.md", "\n".join(page) + "\n")]
    return written
