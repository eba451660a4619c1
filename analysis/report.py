"""The localize report: one self-contained HTML file (figures inlined) plus PNGs and CSVs."""

from __future__ import annotations

import base64
import html
import io
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from .drop_layer import bootstrap_layer_ci, decodability_drop_layer, flip_layer
from .plots import pyplot


def _curve_ci(values: np.ndarray, claims: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over rows per layer with a CI from resampling claims (paraphrases move together)."""
    mean = values.mean(1)
    uniq = np.unique(claims)
    members = [np.flatnonzero(claims == c) for c in uniq]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        rows = np.concatenate([members[i] for i in rng.integers(0, len(uniq), len(uniq))])
        draws.append(values[:, rows].mean(1))
    draws = np.array(draws)
    return mean, np.quantile(draws, 0.025, 0), np.quantile(draws, 0.975, 0)


def readout_table(rows, layers, n_boot: int, seed: int) -> pd.DataFrame:
    records = []
    for r in rows:
        mean, low, high = _curve_ci(r["readout"], r["claims"], n_boot, seed)
        inv = inversion_rate_for(r)
        for slot, layer in enumerate(layers):
            records.append({"model": r["model"], "kind": r["kind"], "condition": r["condition"], "probe": r["probe"],
                            "layer": layer, "readout": mean[slot], "ci_low": low[slot], "ci_high": high[slot],
                            "inversion_rate": inv[slot] if inv is not None else np.nan, "n": r["readout"].shape[1]})
    return pd.DataFrame(records)


def inversion_rate_for(r):
    from .readout import inversion_rate

    truth = {"plain": 0, "true_counterpart": 1, "local_negation": 1, "in_context_plain": 0, "in_context_notice": 0,
             "in_context_dense": 0, "in_context_local": 0}.get(r["condition"])
    return None if truth is None else inversion_rate(r["readout"], np.full(r["readout"].shape[1], truth))


def _png(fig, path: Path) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    path.write_bytes(buf.getvalue())
    return base64.b64encode(buf.getvalue()).decode()


def write_report(out: Path, config, base, rows, gates, curves, causal, belief, layers) -> Path:
    plt = pyplot()
    figures: list[tuple[str, str]] = []
    table = readout_table(rows, layers, config.n_boot, config.seed)
    table.to_csv(out / "readouts.csv", index=False)
    probe = "logistic" if "logistic" in gates else next(iter(gates))
    gate = gates[probe]

    # 1. annotation decodability
    fig, ax = plt.subplots(figsize=(7, 4))
    drops = []
    for cond, curve in curves.items():
        line, = ax.plot(layers, curve.auroc.value, label=cond)
        ax.fill_between(layers, curve.auroc.ci_low, curve.auroc.ci_high, color=line.get_color(), alpha=0.15)
        if curve.drop_layer is None:  # never decodable: nothing was dropped
            drops.append({"statistic": f"annotation drop layer ({cond})", "layer": None, "ci_low": None, "ci_high": None,
                          "note": "annotation not decodable at any layer"})
            continue
        # the range of drop layers over the AUROC curve's 95% band
        lo = decodability_drop_layer(curve.auroc.ci_low, 0.5) if curve.auroc.ci_low.max() > 0.5 else 0
        hi = decodability_drop_layer(curve.auroc.ci_high, 0.5)
        drops.append({"statistic": f"annotation drop layer ({cond})", "layer": _layer(layers, curve.drop_layer),
                      "ci_low": _layer(layers, min(lo, hi)), "ci_high": _layer(layers, max(lo, hi)), "note": ""})
    ax.axhline(0.5, color="grey", ls=":")
    ax.set(xlabel="layer", ylabel="AUROC annotated vs plain (held-out claims)", title="Annotation decodability at the claim's last token")
    ax.legend(fontsize=7)
    figures.append(("Annotation decodability", _png(fig, out / "annotation_decodability.png")))
    plt.close(fig)

    # 2. truth readouts (base bare, in context, fine-tuned), gated
    fig, ax = plt.subplots(figsize=(8, 4.5))
    sub = table[(table["probe"] == probe) & (table["condition"].isin(["plain", "true_counterpart", "in_context_plain",
                                                                      "in_context_notice", "in_context_dense", "in_context_local"]))]
    passed = gate.passed
    for (model, kind, cond), curve in sub.groupby(["model", "kind", "condition"], sort=False):
        label = f"{model} / {cond}"
        values = curve["readout"].to_numpy()
        line, = ax.plot(layers, np.where(passed, values, np.nan), label=label)
        ax.plot(layers, np.where(passed, np.nan, values), color=line.get_color(), alpha=0.25, ls="--")
    ax.axhline(0.5, color="grey", ls=":")
    ax.set_ylim(-2.0, 3.0)  # out-of-topic claims can sit far outside the training scale; see readouts.csv
    ax.set(xlabel="layer", ylabel="truth readout (0 false .. 1 true)",
           title=f"{probe} truth readout of the claim (dashed: gate failed, uninformative)")
    ax.legend(fontsize=6, ncol=2)
    figures.append(("Truth readouts", _png(fig, out / "truth_readouts.png")))
    plt.close(fig)

    # flip layer of the in-context notice-annotated claim (last layer it still reads false = flip - 1)
    for r in rows:
        if r["model"] == "base" and r["condition"] == "in_context_notice" and r["probe"] == probe:
            per_item = r["readout"].T
            value, low, high = bootstrap_layer_ci(per_item, lambda c: flip_layer(c, 0.5, direction="up"),
                                                  n_boot=config.n_boot, seed=config.seed, groups=r["claims"])
            drops.append({"statistic": "flip layer of the notice-annotated claim in context (reads true from here)",
                          "layer": _layer(layers, value), "ci_low": _layer(layers, low), "ci_high": _layer(layers, high),
                          "note": "gated out: truth probe fails validity" if not gate.passed.any() else ""})
    drop_table = pd.DataFrame(drops)
    drop_table.to_csv(out / "drop_layers.csv", index=False)

    # 3. patching heatmap and steering
    if causal.get("heatmap") is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        im = ax.imshow(causal["heatmap"], aspect="auto", cmap="RdBu_r", origin="lower")
        ax.set_yticks(range(len(causal["patch_layers"])), causal["patch_layers"], fontsize=6)
        ax.set(xlabel=f"position (last {config.patch_positions} tokens of the question)", ylabel="layer",
               title=f"Belief margin after patching notice -> plain (clean {causal['clean']:+.2f}, corrupt {causal['corrupt']:+.2f})")
        fig.colorbar(im, ax=ax, label="log P(yes) - log P(no)")
        figures.append(("Activation patching", _png(fig, out / "patching.png")))
        plt.close(fig)
        np.savetxt(out / "patching.csv", causal["heatmap"], delimiter=",")
    if causal.get("steer") is not None:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(causal["steer_alphas"], causal["steer"], marker="o")
        ax.set(xlabel="alpha (x truth direction, std units)", ylabel="belief margin",
               title=f"Steering at layer {causal['steer_layer']}")
        figures.append(("Steering", _png(fig, out / "steering.png")))
        plt.close(fig)

    # 4. behaviour beside representation
    belief_html, rho_text = "", ""
    if belief is not None and len(belief):
        joined = _join_belief(belief, table, probe, gate, layers)
        joined.to_csv(out / "belief_vs_readout.csv", index=False)
        belief_html = joined.to_html(index=False, float_format=lambda v: f"{v:.3f}")
        if len(joined) >= 3:
            from scipy.stats import spearmanr

            rho, p = spearmanr(joined["belief_rate"], joined["readout"])
            rho_text = f"Spearman rank correlation of belief rate and readout across conditions: {rho:+.2f} (p = {p:.2f}, n = {len(joined)})."

    paragraph = _findings(drop_table, gate, table, probe, layers)
    versions = {}
    for pkg in ("negprobe", "torch", "transformers"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    gate_rows = "".join(f"<tr><td>{l}</td><td>{gate.heldout_topic_auroc[i]:.2f}</td><td>{gate.counterpart_auroc[i]:.2f}</td>"
                        f"<td>{'valid' if gate.passed[i] else 'uninformative'}</td></tr>" for i, l in enumerate(layers))
    body = [
        f"<h1>negprobe localize: {html.escape(base.name)}</h1>",
        f"<p>{html.escape(paragraph)}</p>", f"<p>{html.escape(rho_text)}</p>" if rho_text else "",
        "<h2>Drop layers</h2>", drop_table.to_html(index=False),
        *[f"<h2>{t}</h2><img src='data:image/png;base64,{b64}'/>" for t, b64 in figures],
        f"<h2>Validity gate ({probe}, threshold {gate.threshold})</h2>",
        "<table><tr><th>layer</th><th>held-out-topic AUROC</th><th>counterpart AUROC</th><th>readout</th></tr>", gate_rows, "</table>",
        "<h2>Belief beside readout</h2>", belief_html or "<p>No belief table given (negprobe belief --out FILE).</p>",
        "<h2>Provenance</h2><pre>", html.escape(json.dumps({
            "model": base.name, "fingerprint": base.fingerprint, "adapters": config.adapters, "claims": config.claims,
            "probes": config.probes, "seed": config.seed, "truth datasets": "cities, elements, animals, larger_than + neg_*",
            "versions": versions}, indent=1)), "</pre>",
    ]
    page = "<html><head><meta charset='utf-8'><title>negprobe localize</title><style>body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>" + "\n".join(body) + "</body></html>"
    path = out / "report.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page)
    tmp.replace(path)
    return path


def _layer(layers, slot) -> int:
    slot = int(slot)
    return layers[slot] if slot < len(layers) else layers[-1] + 1  # len(layers) means "never"


def _join_belief(belief: pd.DataFrame, table: pd.DataFrame, probe: str, gate, layers) -> pd.DataFrame:
    best = int(np.argmax(np.minimum(gate.heldout_topic_auroc, gate.counterpart_auroc)))
    rows = []
    cloze = belief[belief["measure"] == "cloze"]
    for _, b in cloze.iterrows():
        model = "base" if b["mode"] == "base" else (f"fine-tuned:{b['condition']}" if b["mode"] == "fine_tuned" else None)
        if model is None:
            continue
        r = table[(table["model"] == model) & (table["probe"] == probe) & (table["condition"] == "plain")
                  & (table["layer"] == layers[best])]
        if len(r):
            rows.append({"model": model, "claim": b["claim"], "belief_rate": b["belief_rate"],
                         "mean_margin": b["mean_margin"], "readout": float(r["readout"].iloc[0]), "layer": layers[best],
                         "gate": "valid" if gate.passed[best] else "uninformative"})
    return pd.DataFrame(rows)


def _findings(drops: pd.DataFrame, gate, table: pd.DataFrame, probe: str, layers) -> str:
    parts = []
    for _, d in drops.iterrows():
        if d["layer"] is None or pd.isna(d["layer"]):
            parts.append(f"{d['statistic']}: {d['note']}")
            continue
        never = d["layer"] > layers[-1]
        parts.append(f"{d['statistic']}: {'never within the network' if never else 'layer ' + str(d['layer'])}"
                     f" (95% CI {d['ci_low']}-{d['ci_high']})")
    valid = [layers[i] for i in np.flatnonzero(gate.passed)]
    gate_text = (f"The {probe} truth probe passes the validity gate at layers {valid}." if valid else
                 f"The {probe} truth probe fails the validity gate (held-out-topic and counterpart AUROC >= {gate.threshold})"
                 " at every layer, so its readouts of the claims are reported but are not findings.")
    return "; ".join(parts) + ". " + gate_text
