"""The localize report: one self-contained HTML file (figures inlined) plus PNGs, CSVs and an
interactive plotly page of every readout curve.

Files: ``report.html``, ``readouts.csv`` (mean readout per model x condition x reader x layer, CI
over claims, inversion rate), ``paired_readouts.csv`` (claim minus true counterpart, affirmed minus
local negation), ``gates.csv`` (validity gate per reader and layer), ``drop_layers.csv``,
``patching.csv``, ``claim_patching.csv``, ``patched_readouts.csv``, ``steering.csv``,
``belief_vs_readout.csv`` and ``readouts.html``.

Tables live in :mod:`.report_tables`, drop layers in :mod:`.report_drops`, figures in
:mod:`.report_figures` and :mod:`.report_causal`, the page in :mod:`.report_page`.
"""

from __future__ import annotations

from pathlib import Path

from negprobe.activations.atomic import atomic_write_text

from .plots import pyplot
from .report_causal import causal_figures
from .report_drops import drop_table
from .report_figures import annotation_figure, interactive_readouts, paired_figure, truth_readout_figure
from .report_page import page
from .report_tables import belief_correlation, gate_table, join_belief, paired_table, readout_table, write_csv
from .results import LocalizeResult


def write_report(result: LocalizeResult, out: str | Path) -> Path:
    """Write the report of ``result`` into folder ``out``; returns the path of report.html.

    Every readout is drawn solid only where the reader it came from passes its own model's gate
    (refitted readers: the fine-tuned model's gate; every other reader: the base model's).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config, plt = result.config, pyplot()
    table = readout_table(result.readouts, result.layers, config.n_boot, config.seed)
    write_csv(table, out / "readouts.csv")
    paired = paired_table(result.readouts, result.layers, config.n_boot, config.seed)
    write_csv(paired, out / "paired_readouts.csv")
    write_csv(gate_table(result), out / "gates.csv")

    figures = [annotation_figure(plt, result, out), truth_readout_figure(plt, result, table, out)]
    interactive_readouts(table, out / "readouts.html")
    figures += [f for f in (paired_figure(plt, result, paired, out),) if f is not None]
    drops = drop_table(result)
    write_csv(drops, out / "drop_layers.csv")
    figures += causal_figures(plt, result, out)

    belief_html, rho_text = "", ""
    if result.belief is not None and len(result.belief):
        joined = join_belief(result)
        write_csv(joined, out / "belief_vs_readout.csv")
        belief_html = joined.to_html(index=False, float_format=lambda v: f"{v:.3f}")
        rho_text = belief_correlation(joined, result)
    path = out / "report.html"
    atomic_write_text(path, page(result, drops, figures, belief_html, rho_text))
    return path
