"""The localize report's HTML page: the findings paragraph, the gate table, figures and provenance."""

from __future__ import annotations

import html
import json
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from .indirect_effect import normalized_indirect_effect
from .report_figures import Figure
from .results import CausalResult, LocalizeResult

STYLE = ("body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%}")
TRUTH_DATASETS = "general: cities, elements, animals, larger_than + neg_*; domain: domain_<claim's domain> + neg_"


def _drop_sentences(drops: pd.DataFrame, layers) -> list[str]:
    parts = []
    for _, d in drops.iterrows():
        if d["layer"] is None or bool(pd.isna(d["layer"])):
            parts.append(f"{d['statistic']}: {d['note']}")
            continue
        never = d["layer"] > layers[-1]
        parts.append(f"{d['statistic']}: {'never within the network' if never else 'layer ' + str(d['layer'])}"
                     f" (95% CI {d['ci_low']}-{d['ci_high']})")
    return parts


def _gate_sentences(result: LocalizeResult) -> list[str]:
    parts = []
    for model, model_gates in result.gates.items():
        for label, gate in model_gates.items():
            valid = [result.layers[i] for i in np.flatnonzero(gate.passed)]
            name = label if model.is_base else f"{label} refitted on {model.frozen_readers().label}"
            parts.append(f"{name} passes at layers {valid}" if valid else f"{name} fails at every layer")
    return parts


def _patching_sentence(causal: CausalResult) -> str:
    patching = causal.claim_patching
    if patching is None or "notice -> plain" not in patching.margin:
        return ""
    curve = np.asarray(patching.margin["notice -> plain"])
    clean, corrupt = patching.clean, patching.corrupt
    nie = normalized_indirect_effect(clean, curve, corrupt)
    peak = int(np.nanargmax(nie)) if np.isfinite(nie).any() else 0
    return (f" Patching every claim token notice -> plain moves the belief margin from {corrupt:+.2f} (plain run)"
            f" toward the notice run's {clean:+.2f} by at most NIE {np.nanmax(nie):+.2f}, at layer"
            f" {causal.patch_layers[peak]}.")


def findings(drops: pd.DataFrame, result: LocalizeResult) -> str:
    """The report's opening paragraph: drop layers, validity gates, the claim-patching effect."""
    gates = result.base_gates
    text = "; ".join(_drop_sentences(drops, result.layers)) + ". Validity gate (held-out and counterpart AUROC >= " \
        f"{next(iter(gates.values())).threshold}): " + "; ".join(_gate_sentences(result)) + "."
    if not any(g.passed.any() for g in gates.values()):
        text += " No truth readout is a finding here; annotation decodability and patching do not depend on it."
    else:
        text += f" Readouts in the figures and the belief join use {result.primary}, the reader that transfers best."
    return text + _patching_sentence(result.causal)


def _gate_rows(result: LocalizeResult) -> str:
    layers = result.layers
    return "".join(
        f"<tr><td>{html.escape(model.label)}</td><td>{html.escape(label)}</td>"
        f"<td>{html.escape(result.readers[label].heldout_what)}</td>"
        f"<td>{g.heldout_topic_auroc.max():.2f}</td><td>{g.counterpart_auroc.max():.2f}</td>"
        f"<td>{np.minimum(g.heldout_topic_auroc, g.counterpart_auroc).max():.2f}</td>"
        f"<td>{', '.join(str(layers[i]) for i in np.flatnonzero(g.passed)) or 'none (uninformative)'}</td></tr>"
        for model, model_gates in result.gates.items() for label, g in model_gates.items())


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
        "n_boot": config.n_boot, "truth datasets": TRUTH_DATASETS, "versions": versions}, indent=1)


def page(result: LocalizeResult, drops: pd.DataFrame, figures: list[Figure], belief_html: str, rho_text: str) -> str:
    """The whole self-contained report page."""
    body = [
        f"<h1>negprobe localize: {html.escape(result.model_name)}</h1>",
        f"<p>{html.escape(findings(drops, result))}</p>", f"<p>{html.escape(rho_text)}</p>" if rho_text else "",
        "<h2>Drop layers</h2>", drops.to_html(index=False),
        f"<h2>Validity gate (threshold AUROC {result.primary_gate.threshold})</h2>",
        "<table><tr><th>readers fitted on</th><th>reader</th><th>held out</th><th>max held-out AUROC</th><th>max counterpart AUROC</th>"
        "<th>max of the smaller</th><th>layers that pass</th></tr>", _gate_rows(result), "</table>",
        "<p>Per-layer values: gates.csv. A readout is a finding only at layers where its reader passes.</p>",
        *[f"<h2>{f.title}</h2><p>{html.escape(f.caption)}</p><img src='data:image/png;base64,{f.png_base64}'/>"
          for f in figures],
        "<p>Every readout curve, interactive: readouts.html.</p>",
        "<h2>Belief beside readout</h2>", belief_html or "<p>No belief table given (negprobe belief --out FILE).</p>",
        "<h2>Provenance</h2><pre>", html.escape(_provenance(result)), "</pre>",
    ]
    return ("<html><head><meta charset='utf-8'><title>negprobe localize</title><style>" + STYLE
            + "</style></head><body>" + "\n".join(body) + "</body></html>")
