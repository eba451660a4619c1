"""The localize report's HTML page: a findings box (one line per question, each linked to its figure),
the figures with their definitions, the layer and gate tables, belief and provenance."""

from __future__ import annotations

import html
import json
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from .report_figures import Figure, Finding
from .results import LocalizeResult

STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:auto;line-height:1.35}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}img{max-width:100%}"
         ".findings{border:2px solid #446;background:#f5f6fa;padding:6px 10px;margin:10px 0}"
         ".findings td{border:none;border-bottom:1px solid #dde;padding:4px 8px}.findings th{border:none;text-align:left}"
         ".findings ul{margin:0;padding-left:1.1em}.findings th{width:13em}.caption{color:#333;font-size:0.92em}")
TRUTH_DATASETS = "general: cities, elements, animals, larger_than + neg_*; domain: domain_<claim's domain> + neg_"


def gate_findings(result: LocalizeResult) -> list[str]:
    """Which readers pass their gate, per model, in words."""
    parts = []
    for model, model_gates in result.gates.items():
        for label, gate in model_gates.items():
            valid = [result.layers[i] for i in np.flatnonzero(gate.passed)]
            name = label if model.is_base else f"{label} refitted on {model.frozen_readers().label}"
            parts.append(f"{name}: layers {_ranges(valid)}" if valid else f"{name}: no layer")
    return parts


def _ranges(layers: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1-3, 7"``."""
    out: list[str] = []
    for layer in layers:
        if out and layer == int(out[-1].split("-")[-1]) + 1:
            out[-1] = out[-1].split("-")[0] + f"-{layer}"
        else:
            out.append(str(layer))
    return ", ".join(out)


def _findings_box(findings: list[Finding], figures: list[Figure]) -> str:
    """One row per question (in first-asked order), its answers as a list, each linked to its figure."""
    anchors = {f.title: f.anchor for f in figures}
    by_question: dict[str, list[str]] = {}
    for f in findings:
        link = f" <a href='#{anchors[f.figure]}'>figure</a>" if f.figure in anchors else ""
        by_question.setdefault(f.question, []).append(f"<li>{html.escape(f.answer)}{link}</li>")
    rows = [f"<tr><th>{html.escape(q)}</th><td><ul>{''.join(items)}</ul></td></tr>" for q, items in by_question.items()]
    return "<div class='findings'><h2>Findings</h2><table>" + "".join(rows) + "</table></div>"


def _gate_rows(result: LocalizeResult) -> str:
    """Per reader: both gate statistics at the same layer (its best held-out layer), not two maxima."""
    layers, rows = result.layers, []
    for model, model_gates in result.gates.items():
        for label, g in model_gates.items():
            heldout = np.asarray(g.heldout_topic_auroc, dtype=float)
            best = int(np.nanargmax(heldout))
            if g.counterpart_auroc is None:
                counterpart = "not applied (held-out data only)"
            else:
                value = np.asarray(g.counterpart_auroc, dtype=float)[best]
                ci = "" if g.counterpart_ci_low is None or g.counterpart_ci_high is None else \
                    f" [{g.counterpart_ci_low[best]:.2f}, {g.counterpart_ci_high[best]:.2f}]"
                counterpart = f"{value:.2f}{ci}"
            passing = _ranges([layers[i] for i in np.flatnonzero(g.passed)]) or "none (uninformative)"
            rows.append(f"<tr><td>{html.escape(model.label)}</td><td>{html.escape(label)}</td>"
                        f"<td>{html.escape(result.readers[label].heldout_what)}</td><td>{layers[best]}</td>"
                        f"<td>{heldout[best]:.2f}</td><td>{counterpart}</td><td>{passing}</td></tr>")
    return "".join(rows)


def _provenance(result: LocalizeResult) -> str:
    config, versions = result.config, {}
    for pkg in ("negprobe", "torch", "transformers"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return json.dumps({
        "model": result.model_name, "fingerprint": result.fingerprint, "adapters": config.adapters,
        "claims": config.claims, "probes": config.probes, "probe data": config.probe_data, "seed": config.seed,
        "n_boot": config.n_boot, "min_effect": config.min_effect, "patch_layer_stride": config.patch_layer_stride,
        "patch_claims": config.patch_claims, "truth datasets": TRUTH_DATASETS, "versions": versions,
        "stage seconds": {t.stage: round(t.seconds, 1) for t in result.timings}}, indent=1)


def _figure_html(f: Figure) -> str:
    return (f"<h2 id='{f.anchor}'>{html.escape(f.title)}</h2><p class='caption'>{html.escape(f.caption)}</p>"
            f"<img src='data:image/png;base64,{f.png_base64}'/>")


def page(result: LocalizeResult, layer_table: pd.DataFrame, figures: list[Figure], findings: list[Finding],
         belief_html: str) -> str:
    """The whole self-contained report page."""
    body = [
        f"<h1>negprobe localize: {html.escape(result.model_name)}</h1>",
        f"<p>{html.escape(result.scope)}</p>",
        _findings_box(findings, figures),
        *[_figure_html(f) for f in figures],
        "<h2>Layer statistics</h2><p class='caption'>Each layer statistic with a 95% CI from a bootstrap over claims "
        "(and paraphrases) of the statistic itself; 'never' = past the last layer. Definitions: in the caption of "
        "the figure each comes from.</p>", layer_table.to_html(index=False, na_rep="-"),
        f"<h2>Validity gate (threshold AUROC {result.primary_gate.threshold})</h2>",
        "<table><tr><th>readers fitted on</th><th>reader</th><th>held out</th><th>its best held-out layer</th>"
        "<th>held-out AUROC there</th><th>paired counterpart statistic there [95% CI over claims]</th>"
        "<th>layers that pass</th></tr>", _gate_rows(result), "</table>",
        "<p class='caption'>Per-layer values: gates.csv. A readout is a finding only at layers where its reader passes. "
        "The counterpart statistic is paired: per claim, the share of paraphrases whose true counterpart reads more "
        "true than the claim; readers refitted on a fine-tuned model are gated on held-out truth data only.</p>",
        "<h2>Belief beside readout</h2>", belief_html or "<p>No belief table given (negprobe belief --out FILE).</p>",
        "<p>Every readout curve, interactive: readouts.html.</p>",
        "<h2>Provenance</h2><pre>", html.escape(_provenance(result)), "</pre>",
    ]
    return ("<html><head><meta charset='utf-8'><title>negprobe localize</title><style>" + STYLE
            + "</style></head><body>" + "\n".join(body) + "</body></html>")
