"""A short markdown summary of a sweep: best layer per probe and affirmed -> negated generalisation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from negprobe.activations.atomic import atomic_write_text


def _fmt(row) -> str:
    return f"{row['value']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"


def sweep_summary(results: pd.DataFrame, out_dir: Path, title: str = "negprobe sweep") -> Path:
    """Write ``summary.md``: per train set, each probe's validation-chosen layer and held-out accuracy
    on every test set (fold means, group-bootstrap 95% CIs)."""
    lines = [f"# {title}", ""]
    selected = results[results["metric"] == "accuracy@selected_layer"]
    for (model, adapter, position, train), sub in selected.groupby(["model", "adapter", "position", "train"], sort=False):
        lines += [f"## {model}{' + ' + adapter if adapter else ''}, position `{position}`, trained on `{train}`", ""]
        tests = list(dict.fromkeys(sub["test"]))
        lines.append("| probe | layer (validation-chosen) | " + " | ".join(f"acc on {t}" for t in tests) + " |")
        lines.append("|---|---|" + "---|" * len(tests))
        for probe, rows in sub.groupby("probe", sort=False):
            cells = [_fmt(rows[rows["test"] == t].iloc[0]) if (rows["test"] == t).any() else "-" for t in tests]
            lines.append(f"| {probe} | {int(rows['layer'].iloc[0])} | " + " | ".join(cells) + " |")
        lines.append("")
        curves = results[(results["metric"] == "auroc") & (results["train"] == train) & (results["model"] == model)
                         & (results["adapter"] == adapter) & (results["position"] == position)]
        best = curves.loc[curves.groupby(["probe", "test"])["value"].idxmax()]
        lines.append("Peak AUROC over layers (not a held-out estimate: the layer is chosen on the test rows):")
        lines.append("")
        for probe, rows in best.groupby("probe", sort=False):
            parts = [f"{t} {v:.2f} @L{int(l)}" for t, v, l in zip(rows["test"], rows["value"], rows["layer"])]
            lines.append(f"- {probe}: " + ", ".join(parts))
        lines.append("")
    affirmed_only = selected[~selected["train"].str.contains(r"(?:^|\+)neg_", regex=True)]
    negated_tests = affirmed_only[affirmed_only["test"].str.startswith("neg_")]
    if len(negated_tests):
        lines += ["## Affirmed -> negated generalisation", "",
                  "Probes trained on affirmed statements only, tested on held-out negated twins "
                  "(accuracy below 0.5 means the probe reads negated statements inverted):", ""]
        for (train, probe), rows in negated_tests.groupby(["train", "probe"], sort=False):
            parts = [f"{t}: {_fmt(r)}" for t, (_, r) in zip(rows["test"], rows.iterrows())]
            lines.append(f"- `{train}` / {probe} (layer {int(rows['layer'].iloc[0])}): " + "; ".join(parts))
        lines.append("")
    path = out_dir / "summary.md"
    atomic_write_text(path, "\n".join(lines))
    return path
