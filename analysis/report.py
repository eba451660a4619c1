"""The localize report: one self-contained HTML file (figures inlined) opening with a findings box,
plus PNGs, CSVs and an interactive plotly page of every readout curve.

Files: ``report.html``; ``decodability.csv`` (matched-contrast decodability with baselines);
``prerequisite.csv``, ``belief_margins.csv``, ``claim_patching.csv``, ``handoff_layers.csv``,
``patching_positions.csv``, ``steering.csv`` (causal checks, :mod:`.report_causal`); ``readouts.csv``
(mean readout per model x condition x reader x layer, CI over claims, inversion rate),
``paired_readouts.csv``, ``gates.csv``, ``layer_statistics.csv`` (every layer statistic with a CI
of the statistic itself), ``belief_vs_readout.csv`` and ``readouts.html``.
"""

from __future__ import annotations

from pathlib import Path

from negprobe.activations.atomic import atomic_write_text

from .plots import pyplot
from .report_causal import causal_figures
from .report_decodability import decodability_drop_rows, decodability_figure, write_decodability_csv
from .report_drops import DropLayer, drop_table, flip_layers
from .report_figures import interactive_readouts, paired_figure, truth_readout_figure
from .report_findings import findings
from .report_page import page
from .report_tables import belief_correlation, gate_table, join_belief, paired_table, readout_table, write_csv
from .results import LocalizeResult


def _handoff_rows(result: LocalizeResult) -> list[DropLayer]:
    """The hand-off layer of each localised annotation and direction, or why there is none."""
    causal, rows = result.causal, []
    for annotation in causal.prerequisite.gates:
        patching = causal.patching.get(annotation)
        if patching is None:
            rows.append(DropLayer(f"hand-off layer ({annotation})", None, None, None,
                                  causal.nothing_to_localise(annotation) or "no pair with a gap of at least min_effect"))
            continue
        for direction, h in patching.handoff.items():
            rows.append(DropLayer(f"hand-off layer ({direction.replace('annotated', annotation)}; claim tokens -> "
                                  "belief margin)", h.layer, h.ci_low, h.ci_high,
                                  f"{h.n_claims} claims, {h.n_pairs} pairs" if h.layer is not None
                                  else "the claim tokens never carry the effect"))
    return rows


def write_report(result: LocalizeResult, out: str | Path) -> Path:
    """Write the report of ``result`` into folder ``out``; returns the path of report.html.

    Every readout is drawn as a finding only where the reader it came from passes its own model's gate
    (refitted readers: the fine-tuned model's held-out gate; every other reader: the base model's).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config, plt = result.config, pyplot()
    table = readout_table(result.readouts, result.layers, config.n_boot, config.seed)
    write_csv(table, out / "readouts.csv")
    paired = paired_table(result.readouts, result.layers, config.n_boot, config.seed)
    write_csv(paired, out / "paired_readouts.csv")
    write_csv(gate_table(result), out / "gates.csv")
    write_decodability_csv(result.curves, out)

    figures = causal_figures(plt, result, out)
    figures.insert(2, decodability_figure(plt, result.curves, out))
    figures.append(truth_readout_figure(plt, result, table, out))
    interactive_readouts(table, out / "readouts.html")
    figures += [f for f in (paired_figure(plt, result, paired, out),) if f is not None]
    layers = drop_table(decodability_drop_rows(result.curves) + _handoff_rows(result) + flip_layers(result))
    write_csv(layers, out / "layer_statistics.csv")

    belief_html, rho_text = "", ""
    if result.belief is not None and len(result.belief):
        joined = join_belief(result)
        write_csv(joined, out / "belief_vs_readout.csv")
        belief_html = joined.to_html(index=False, float_format=lambda v: f"{v:.3f}")
        rho_text = belief_correlation(joined, result)
    path = out / "report.html"
    atomic_write_text(path, page(result, layers, figures, findings(result, layers, rho_text), belief_html))
    return path
