"""The localize report: one self-contained HTML file (figures inlined) plus PNGs, CSVs and an
interactive plotly page of every readout curve.

Files: ``report.html``, ``readouts.csv`` (mean readout per model x condition x reader x layer, CI
over claims, inversion rate), ``paired_readouts.csv`` (claim minus true counterpart, affirmed minus
local negation), ``gates.csv`` (validity gate per reader and layer), ``drop_layers.csv``,
``patching.csv``, ``claim_patching.csv``, ``patched_readouts.csv``, ``steering.csv``,
``belief_vs_readout.csv`` and ``readouts.html``.
"""

from __future__ import annotations

import base64
import html
import io
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from negprobe.probes.bootstrap import bootstrap_mean

from .drop_layer import bootstrap_layer_ci, decodability_drop_layer, flip_layer
from .patching import normalized_indirect_effect
from .plots import pyplot, write_html
from .readout import inversion_rate, paired_difference
from negprobe.activations.atomic import atomic_path, atomic_write_bytes, atomic_write_text

TRUTH = {"plain": 0, "true_counterpart": 1, "local_negation": 1, "in_context_plain": 0, "in_context_notice": 0,
         "in_context_dense": 0, "in_context_local": 0}  # the truth of each readout condition's statement


def _resampling_units(claims: np.ndarray) -> np.ndarray:
    """Bootstrap units: whole claims (paraphrases move together), or single rows when there is one claim
    (a fine-tuned model is read on its own claim only; its uncertainty is over paraphrases)."""
    claims = np.asarray(claims).astype(str)
    return claims if len(np.unique(claims)) > 1 else np.arange(len(claims)).astype(str)


def _curve_ci(values: np.ndarray, claims: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over rows per layer with a CI from resampling claims (see :func:`_resampling_units`)."""
    return bootstrap_mean(values, _resampling_units(claims), n_boot=n_boot, seed=seed)


def readout_table(rows, layers, n_boot: int, seed: int) -> pd.DataFrame:
    records = []
    for r in rows:
        mean, low, high = _curve_ci(r["readout"], r["claims"], n_boot, seed)
        truth = TRUTH.get(r["condition"])
        inv = None if truth is None else inversion_rate(r["readout"], np.full(r["readout"].shape[1], truth))
        for slot, layer in enumerate(layers):
            records.append({"model": r["model"], "kind": r["kind"], "condition": r["condition"], "probe": r["probe"],
                            "layer": layer, "readout": mean[slot], "ci_low": low[slot], "ci_high": high[slot],
                            "inversion_rate": inv[slot] if inv is not None else np.nan, "n": r["readout"].shape[1]})
    return pd.DataFrame(records)


def paired_table(rows, layers, n_boot: int, seed: int) -> pd.DataFrame:
    """Paired readouts per model and reader: claim minus its true counterpart, and the affirmed
    claim minus its local negation (rows aligned by pair id; robust to an out-of-topic offset)."""
    by_key = {(r["model"], r["kind"], r["probe"], r["condition"]): r for r in rows}
    records = []
    for (model, kind, probe, cond), r in by_key.items():
        if kind != "bare" or cond != "plain":
            continue
        for other, name in (("true_counterpart", "claim - true counterpart"), ("local_negation", "affirmed - local negation")):
            o = by_key.get((model, kind, probe, other))
            if o is None:
                continue
            common = sorted(set(r["pair"]) & set(o["pair"]))
            if not common:
                continue
            rows_a = [list(r["pair"]).index(p) for p in common]
            a, b = r["readout"][:, rows_a], o["readout"][:, [list(o["pair"]).index(p) for p in common]]
            mean, low, high = paired_difference(a, b, n_boot=n_boot, seed=seed,
                                                groups=_resampling_units(r["claims"][rows_a]))
            for slot, layer in enumerate(layers):
                records.append({"model": model, "probe": probe, "pair": name, "layer": layer, "difference": mean[slot],
                                "ci_low": low[slot], "ci_high": high[slot], "n_pairs": len(common)})
    return pd.DataFrame(records)


def gate_table(gates_by_model, readers, layers) -> pd.DataFrame:
    return pd.DataFrame([{"model": model, "probe": label, "layer": layer, "heldout_auroc": gate.heldout_topic_auroc[i],
                          "heldout": readers[label].heldout_what if label in readers else "",
                          "counterpart_auroc": gate.counterpart_auroc[i], "threshold": gate.threshold,
                          "passed": bool(gate.passed[i])}
                         for model, gates in gates_by_model.items() for label, gate in gates.items()
                         for i, layer in enumerate(layers)])


def _png(fig, path: Path) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    return base64.b64encode(buf.getvalue()).decode()


def _csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def _layer(layers, slot) -> int:
    slot = int(slot)
    return layers[slot] if slot < len(layers) else layers[-1] + 1  # len(layers) means "never"


def _annotation_drop(cond: str, position: str, curve, layers) -> dict:
    what = f"annotation drop layer ({cond}, {position})"
    if curve.drop_layer is None:  # never decodable: nothing was dropped
        return {"statistic": what, "layer": None, "ci_low": None, "ci_high": None,
                "note": "annotation not decodable at any layer"}
    # the range of drop layers over the AUROC curve's 95% band
    lo = decodability_drop_layer(curve.auroc.ci_low, 0.5) if curve.auroc.ci_low.max() > 0.5 else 0
    hi = decodability_drop_layer(curve.auroc.ci_high, 0.5)
    return {"statistic": what, "layer": _layer(layers, curve.drop_layer), "ci_low": _layer(layers, min(lo, hi)),
            "ci_high": _layer(layers, max(lo, hi)), "note": f"peak AUROC {curve.auroc.value.max():.2f}"}


def write_report(out: Path, config, base, rows, gates_by_model, readers, primary, primary_slot, curves, causal,
                 belief, layers) -> Path:
    """``gates_by_model``: ``{"base": {reader: gate}, "<fine-tuned model> (refit)": {reader: gate}, ...}``;
    every readout is drawn solid only where the reader it came from passes its own model's gate."""
    from .localize import ANNOTATION_POSITIONS

    plt = pyplot()
    figures: list[tuple[str, str, str]] = []  # (title, caption, base64 png)
    table = readout_table(rows, layers, config.n_boot, config.seed)
    _csv(table, out / "readouts.csv")
    paired = paired_table(rows, layers, config.n_boot, config.seed)
    _csv(paired, out / "paired_readouts.csv")
    _csv(gate_table(gates_by_model, readers, layers), out / "gates.csv")
    gates = gates_by_model["base"]
    gate = gates[primary]

    # 1. annotation decodability, at the claim's last token and at the prompt's last token
    drops = []
    fig, axes = plt.subplots(1, len(ANNOTATION_POSITIONS), figsize=(12, 4), sharey=True, squeeze=False)
    for (cond, position), curve in curves.items():
        ax = axes[0, list(ANNOTATION_POSITIONS).index(position)]
        line, = ax.plot(layers, curve.auroc.value, label=cond)
        ax.fill_between(layers, curve.auroc.ci_low, curve.auroc.ci_high, color=line.get_color(), alpha=0.15)
        drops.append(_annotation_drop(cond, position, curve, layers))
    for ax, (position, where) in zip(axes[0], ANNOTATION_POSITIONS.items()):
        ax.axhline(0.5, color="grey", ls=":")
        ax.set(xlabel="layer", title=f"at {where}")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("AUROC annotated vs plain (held-out claims)")
    figures.append(("Annotation decodability", "A probe for annotated vs plain versions of the same claims, split by "
                    "claim; 95% CIs resample claims. Needs no truth probe.", _png(fig, out / "annotation_decodability.png")))
    plt.close(fig)

    # 2. truth readouts per reader (dashed where the reader fails the validity gate)
    labels = list(gates)
    fig, axes = plt.subplots(len(labels), 1, figsize=(8, 3.6 * len(labels)), squeeze=False, sharex=True)
    for ax, label in zip(axes[:, 0], labels):
        sub = table[(table["probe"] == label) & table["condition"].isin(list(TRUTH))]
        for (model, cond), curve in sub.groupby(["model", "condition"], sort=False):
            own = gates_by_model.get(model, {}).get(label)  # refitted readers: their own model's gate
            passed = (own or gates[label]).passed
            values = curve["readout"].to_numpy()
            line, = ax.plot(layers, np.where(passed, values, np.nan), label=f"{model} / {cond}")
            ax.plot(layers, np.where(passed, np.nan, values), color=line.get_color(), alpha=0.3, ls="--")
        ax.axhline(0.5, color="grey", ls=":")
        ax.set_ylim(-2.0, 3.0)  # out-of-topic claims can sit far outside the training scale; see readouts.csv
        ax.set(ylabel="readout (0 false .. 1 true)",
               title=f"{label}: {int(gates[label].passed.sum())}/{len(layers)} layers pass the validity gate (base)")
        ax.legend(fontsize=5, ncol=3)
    axes[-1, 0].set_xlabel("layer")
    figures.append(("Truth readouts", "Claim readouts per reader (general = four topics + negated twins; @domain = the "
                    "claim's own domain). Solid where the reader passes the validity gate, dashed where it is "
                    "uninformative.", _png(fig, out / "truth_readouts.png")))
    plt.close(fig)
    _interactive_readouts(table, out / "readouts.html")

    # 2b. paired readouts of the primary reader
    sub = paired[paired["probe"] == primary] if len(paired) else paired
    if len(sub):
        fig, ax = plt.subplots(figsize=(8, 4))
        for (model, pair), curve in sub.groupby(["model", "pair"], sort=False):
            line, = ax.plot(layers, curve["difference"], label=f"{model}: {pair}")
            ax.fill_between(layers, curve["ci_low"], curve["ci_high"], color=line.get_color(), alpha=0.12)
        ax.axhline(0, color="grey", ls=":")
        ax.set(xlabel="layer", ylabel="paired readout difference", title=f"Paired readouts ({primary})")
        ax.legend(fontsize=6)
        figures.append(("Paired readouts", "Claim minus its true counterpart (negative: the claim reads less true) and "
                        "affirmed minus locally negated claim, per pair of aligned paraphrases; 95% CIs resample pairs.",
                        _png(fig, out / "paired_readouts.png")))
        plt.close(fig)

    # flip layers (first layer from which the claim reads true through the last layer; the last layer it
    # still reads false is flip - 1): the notice-annotated claim in context, beside the bare claim in
    # the base model and in every fine-tuned model, all with the primary reader
    for r in rows:
        in_context_notice = r["model"] == "base" and r["condition"] == "in_context_notice"
        bare_plain = r["kind"] == "bare" and r["condition"] == "plain" and not r["model"].endswith("(refit)")
        if r["probe"] != primary or not (in_context_notice or bare_plain):
            continue
        value, low, high = bootstrap_layer_ci(r["readout"].T, lambda c: flip_layer(c, 0.5, direction="up"),
                                              n_boot=config.n_boot, seed=config.seed,
                                              groups=_resampling_units(r["claims"]))
        what = "notice-annotated claim in context" if in_context_notice else f"bare claim, {r['model']}"
        drops.append({"statistic": f"flip layer: {what} ({primary}; reads true from here)",
                      "layer": _layer(layers, value), "ci_low": _layer(layers, low), "ci_high": _layer(layers, high),
                      "note": "" if gate.passed.any() else "gated out: the truth probe fails validity at every layer"})
    drops += _causal_drop_layers(causal, config)
    drop_table = pd.DataFrame(drops)
    for column in ("layer", "ci_low", "ci_high"):
        drop_table[column] = pd.array(drop_table[column], dtype="Int64")
    _csv(drop_table, out / "drop_layers.csv")

    figures += _causal_figures(plt, out, config, causal, primary, layers, steer_valid=bool(gate.passed[primary_slot]))

    # 4. behaviour beside representation
    belief_html, rho_text = "", ""
    best = primary_slot
    if belief is not None and len(belief):
        joined = _join_belief(belief, rows, primary, gate, layers, best, config.n_boot, config.seed)
        _csv(joined, out / "belief_vs_readout.csv")
        belief_html = joined.to_html(index=False, float_format=lambda v: f"{v:.3f}")
        if len(joined) >= 3 and joined["readout"].nunique() > 1 and joined["belief_rate"].nunique() > 1:
            from scipy.stats import spearmanr

            rho, p = spearmanr(joined["belief_rate"], joined["readout"])
            rho_text = (f"Spearman rank correlation of belief rate and {primary} readout (layer {layers[best]}) across "
                        f"conditions and claims: {rho:+.2f} (p = {p:.2f}, n = {len(joined)}).")

    paragraph = _findings(drop_table, gates_by_model, primary, layers, causal)
    versions = {}
    for pkg in ("negprobe", "torch", "transformers"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    gate_rows = "".join(
        f"<tr><td>{html.escape(model)}</td><td>{html.escape(label)}</td><td>{html.escape(readers[label].heldout_what)}</td>"
        f"<td>{g.heldout_topic_auroc.max():.2f}</td><td>{g.counterpart_auroc.max():.2f}</td>"
        f"<td>{np.minimum(g.heldout_topic_auroc, g.counterpart_auroc).max():.2f}</td>"
        f"<td>{', '.join(str(layers[i]) for i in np.flatnonzero(g.passed)) or 'none (uninformative)'}</td></tr>"
        for model, model_gates in gates_by_model.items() for label, g in model_gates.items())
    body = [
        f"<h1>negprobe localize: {html.escape(base.name)}</h1>",
        f"<p>{html.escape(paragraph)}</p>", f"<p>{html.escape(rho_text)}</p>" if rho_text else "",
        "<h2>Drop layers</h2>", drop_table.to_html(index=False),
        f"<h2>Validity gate (threshold AUROC {gate.threshold})</h2>",
        "<table><tr><th>readers fitted on</th><th>reader</th><th>held out</th><th>max held-out AUROC</th><th>max counterpart AUROC</th>"
        "<th>max of the smaller</th><th>layers that pass</th></tr>", gate_rows, "</table>",
        "<p>Per-layer values: gates.csv. A readout is a finding only at layers where its reader passes.</p>",
        *[f"<h2>{t}</h2><p>{html.escape(c)}</p><img src='data:image/png;base64,{b64}'/>" for t, c, b64 in figures],
        "<p>Every readout curve, interactive: readouts.html.</p>",
        "<h2>Belief beside readout</h2>", belief_html or "<p>No belief table given (negprobe belief --out FILE).</p>",
        "<h2>Provenance</h2><pre>", html.escape(json.dumps({
            "model": base.name, "fingerprint": base.fingerprint, "adapters": config.adapters, "claims": config.claims,
            "probes": config.probes, "probe data": config.probe_data, "seed": config.seed, "n_boot": config.n_boot,
            "truth datasets": "general: cities, elements, animals, larger_than + neg_*; domain: domain_<claim's domain> + neg_",
            "versions": versions}, indent=1)), "</pre>",
    ]
    page = ("<html><head><meta charset='utf-8'><title>negprobe localize</title><style>body{font-family:sans-serif;"
            "max-width:1000px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
            "img{max-width:100%}</style></head><body>" + "\n".join(body) + "</body></html>")
    path = out / "report.html"
    atomic_write_text(path, page)
    return path


def _causal_drop_layers(causal, config) -> list[dict]:
    """Where the annotation's effect stops flowing through the claim's tokens (claim-position patching).

    Per claim, the patched margin's shift toward the source run (notice -> plain: toward the notice
    run's margin; plain -> notice: toward the plain run's) is a curve over patched layers; the
    statistic is :func:`decodability_drop_layer` of its claim-mean with chance at 0 (the first patched
    layer after the peak from which the shift stays below half its peak), CI over claims.
    """
    items, patch_layers = causal.get("claim_patch_shift") or {}, causal["patch_layers"]
    never = causal["read_layers"][-1] + 1  # past the model's last layer, as for every other drop layer

    def at(slot) -> int:
        return patch_layers[int(slot)] if int(slot) < len(patch_layers) else never

    rows = []
    for direction, shifts in items.items():
        def statistic(curve):  # a draw with no shift toward the source at any layer: absent from the start
            return decodability_drop_layer(curve, 0.0) if curve.max() > 0 else 0

        if np.asarray(shifts).mean(0).max() <= 0:
            rows.append({"statistic": f"causal drop layer ({direction}, claim tokens -> belief margin)", "layer": None,
                         "ci_low": None, "ci_high": None, "note": "patching the claim tokens never moves the margin "
                         "toward the source run"})
            continue
        value, low, high = bootstrap_layer_ci(np.asarray(shifts), statistic, n_boot=config.n_boot, seed=config.seed)
        rows.append({"statistic": f"causal drop layer ({direction}, claim tokens -> belief margin)",
                     "layer": at(value), "ci_low": at(low), "ci_high": at(high),
                     "note": f"patched every {config.patch_layer_stride} layers; {len(shifts)} claims"})
    return rows


def _causal_figures(plt, out: Path, config, causal, primary, layers, steer_valid: bool) -> list[tuple[str, str, str]]:
    figures = []
    patch_layers = causal["patch_layers"]
    if causal.get("heatmap") is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        im = ax.imshow(causal["heatmap"], aspect="auto", cmap="RdBu_r", origin="lower")
        ax.set_yticks(range(len(patch_layers)), patch_layers, fontsize=6)
        ax.set(xlabel=f"position (last {config.patch_positions} tokens of the question)", ylabel="layer",
               title=f"Belief margin after patching notice -> plain (clean {causal['clean']:+.2f}, corrupt {causal['corrupt']:+.2f})")
        fig.colorbar(im, ax=ax, label="log P(yes) - log P(no)")
        figures.append(("Activation patching", "One question token at a time, notice-annotated run -> plain run.",
                        _png(fig, out / "patching.png")))
        plt.close(fig)
        frame = pd.DataFrame(causal["heatmap"], columns=[f"pos{p}" for p in range(-config.patch_positions, 0)])
        frame.insert(0, "layer", patch_layers)
        _csv(frame, out / "patching.csv")
    if causal.get("claim_patch_margin"):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        frame = pd.DataFrame({"layer": patch_layers})
        for direction, curve in causal["claim_patch_margin"].items():
            ax.plot(patch_layers, curve, marker="o", label=direction)
            frame[direction] = curve
            clean, corrupt = causal["claim_patch_clean"], causal["claim_patch_corrupt"]  # same claims as the curve
            source, target = (clean, corrupt) if direction.startswith("notice") else (corrupt, clean)
            frame[f"{direction} NIE"] = normalized_indirect_effect(source, np.asarray(curve), target)
        ax.axhline(causal["claim_patch_clean"], color="tab:red", ls=":", label="notice run (unpatched)")
        ax.axhline(causal["claim_patch_corrupt"], color="tab:blue", ls=":", label="plain run (unpatched)")
        ax.set(xlabel="patched layer", ylabel="belief margin", title="Patching every claim token")
        ax.legend(fontsize=7)
        figures.append(("Claim-position patching: behaviour", "All tokens of the claim (in the document and in the "
                        "question) patched after one layer; both directions.", _png(fig, out / "claim_patching.png")))
        plt.close(fig)
        _csv(frame, out / "claim_patching.csv")
    if causal.get("patched_readout"):
        long = []
        for item in causal["patched_readout"]:
            for i, pl in enumerate(patch_layers):
                for j, rl in enumerate(layers):
                    long.append({"reader": item["reader"], "direction": item["direction"], "claim": item["claim"],
                                 "patch_layer": pl, "read_layer": rl, "readout_change": item["change"][i, j]})
        long = pd.DataFrame(long)
        _csv(long, out / "patched_readouts.csv")
        sub = long[long["reader"] == primary]
        if len(sub):
            directions = list(dict.fromkeys(sub["direction"]))
            fig, axes = plt.subplots(1, len(directions), figsize=(6 * len(directions), 4), squeeze=False)
            for ax, direction in zip(axes[0], directions):
                mat = (sub[sub["direction"] == direction].groupby(["patch_layer", "read_layer"])["readout_change"].mean()
                       .unstack().reindex(index=patch_layers, columns=layers).to_numpy())
                bound = float(np.nanmax(np.abs(mat))) or 1.0
                im = ax.imshow(mat, aspect="auto", cmap="RdBu_r", origin="lower", vmin=-bound, vmax=bound)
                ax.set_yticks(range(len(patch_layers)), patch_layers, fontsize=6)
                ax.set_xticks(range(0, len(layers), max(1, len(layers) // 10)), layers[:: max(1, len(layers) // 10)])
                ax.set(xlabel="read layer", ylabel="patched layer", title=direction)
                fig.colorbar(im, ax=ax, label="readout change")
            figures.append(("Claim-position patching: truth readout", f"Change of the {primary} readout of the claim's "
                            "last token at every layer after patching all claim tokens at one layer (in-context "
                            "statements). Only meaningful where the reader passes the gate.",
                            _png(fig, out / "patched_readouts.png")))
            plt.close(fig)
    if causal.get("steer") is not None:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(causal["steer_alphas"], causal["steer"], marker="o")
        ax.set(xlabel="alpha (readout units along the truth direction)", ylabel="belief margin",
               title=f"Steering with {causal['steer_reader']} at layer {causal['steer_layer']}")
        validity = "" if steer_valid else (" The reader fails the validity gate at this layer, so the direction is not "
                                           "shown to be a truth direction: uninformative.")
        figures.append(("Steering", "alpha = +1 moves the reader's readout from a typical false to a typical true "
                        "statement at that layer; normalised indirect effect in steering.csv." + validity,
                        _png(fig, out / "steering.png")))
        plt.close(fig)
        _csv(pd.DataFrame({"alpha": causal["steer_alphas"], "belief_margin": causal["steer"],
                           "normalized_indirect_effect": causal["steer_nie"], "notice_run_margin": causal["steer_clean"],
                           "plain_run_margin": causal["steer_corrupt"]}), out / "steering.csv")
    return figures


def _interactive_readouts(table: pd.DataFrame, path: Path) -> None:
    import plotly.express as px

    frame = table.assign(curve=table["model"] + " / " + table["condition"])
    fig = px.line(frame, x="layer", y="readout", color="curve", facet_row="probe", hover_data=["ci_low", "ci_high", "n"],
                  height=320 * max(1, frame["probe"].nunique()))
    write_html(fig, path)


def _join_belief(belief: pd.DataFrame, rows, probe: str, gate, layers, best: int, n_boot: int, seed: int) -> pd.DataFrame:
    """Each belief row (cloze) beside the same model's mean readout of *that* claim's bare statement
    at layer slot ``best``, with a CI over its paraphrases."""
    readouts = {(r["model"], claim): r["readout"][best, r["claims"] == claim] for r in rows
                if r["probe"] == probe and r["kind"] == "bare" and r["condition"] == "plain"
                for claim in np.unique(r["claims"])}
    out = []
    for _, b in belief[belief["measure"] == "cloze"].iterrows():
        model = "base" if b["mode"] == "base" else (f"fine-tuned:{b['condition']}" if b["mode"] == "fine_tuned" else None)
        values = readouts.get((model, b["claim"]))
        if values is None or not len(values):
            continue
        mean, low, high = bootstrap_mean(values, n_boot=n_boot, seed=seed)
        out.append({"model": model, "claim": b["claim"], "belief_rate": b["belief_rate"],
                    "rate_ci_low": b["rate_ci_low"], "rate_ci_high": b["rate_ci_high"], "mean_margin": b["mean_margin"],
                    "readout": float(mean), "readout_ci_low": float(low), "readout_ci_high": float(high), "layer": layers[best],
                    "gate": "valid" if gate.passed[best] else "uninformative"})
    return pd.DataFrame(out)


def _findings(drops: pd.DataFrame, gates_by_model, primary: str, layers, causal) -> str:
    gates = gates_by_model["base"]
    parts = []
    for _, d in drops.iterrows():
        if d["layer"] is None or pd.isna(d["layer"]):
            parts.append(f"{d['statistic']}: {d['note']}")
            continue
        never = d["layer"] > layers[-1]
        parts.append(f"{d['statistic']}: {'never within the network' if never else 'layer ' + str(d['layer'])}"
                     f" (95% CI {d['ci_low']}-{d['ci_high']})")
    gate_parts = []
    for model, model_gates in gates_by_model.items():
        for label, gate in model_gates.items():
            valid = [layers[i] for i in np.flatnonzero(gate.passed)]
            name = label if model == "base" else f"{label} refitted on {model.removesuffix(' (refit)')}"
            gate_parts.append(f"{name} passes at layers {valid}" if valid else f"{name} fails at every layer")
    text = "; ".join(parts) + ". Validity gate (held-out and counterpart AUROC >= " \
        f"{next(iter(gates.values())).threshold}): " + "; ".join(gate_parts) + "."
    if not any(g.passed.any() for g in gates.values()):
        text += " No truth readout is a finding here; annotation decodability and patching do not depend on it."
    else:
        text += f" Readouts in the figures and the belief join use {primary}, the reader that transfers best."
    margins = causal.get("claim_patch_margin") or {}
    if "notice -> plain" in margins:
        curve = np.asarray(margins["notice -> plain"])
        clean, corrupt = causal["claim_patch_clean"], causal["claim_patch_corrupt"]
        nie = normalized_indirect_effect(clean, curve, corrupt)
        peak = int(np.nanargmax(nie)) if np.isfinite(nie).any() else 0
        text += (f" Patching every claim token notice -> plain moves the belief margin from {corrupt:+.2f} (plain run)"
                 f" toward the notice run's {clean:+.2f} by at most NIE {np.nanmax(nie):+.2f}, at layer"
                 f" {causal['patch_layers'][peak]}.")
    return text
