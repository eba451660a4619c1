"""``negprobe belief-table``: a belief CSV pooled over fine-tuning seeds (CIs over seeds and items)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from negprobe.errors import NegprobeError

from . import runs


def _ci(row, name: str, low: str, high: str, sign: str = "+") -> str:
    value = row[name]
    if value != value:  # NaN: no base row to compare with
        return "-"
    return f"{value:{sign}.2f} [{row[low]:{sign}.2f}, {row[high]:{sign}.2f}]"


def _markdown(pooled) -> str:
    lines = ["| model | claim | condition | mode | measure | seeds | n | belief rate [95% CI] | mean margin, nats [95% CI] "
             "| rise vs base [95% CI] | controls |", "|" + "---|" * 11]
    for r in pooled.to_dict("records"):
        lines.append(f"| {r['model']} | {r['claim']} | {r['condition']} | {r['mode']} | {r['measure']} | {r['n_seeds']} "
                     f"| {r['n']} | {_ci(r, 'belief_rate', 'rate_ci_low', 'rate_ci_high', '')} "
                     f"| {_ci(r, 'mean_margin', 'margin_ci_low', 'margin_ci_high')} "
                     f"| {_ci(r, 'rise_vs_base', 'rise_ci_low', 'rise_ci_high')} | {r['controls']} |")
    return "\n".join(lines) + "\n"


def belief_table(
    csv: Path = typer.Argument(..., help="A belief CSV written by `negprobe belief --out`."),
    claim: str | None = typer.Option(None, "--claim", "-c", help="Only this claim."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the pooled rows to this CSV."),
    markdown: Path | None = typer.Option(None, help="Write the pooled table as Markdown to this file."),
    n_boot: int = typer.Option(2000, help="Bootstrap draws."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
) -> None:
    """Pool a belief CSV over fine-tuning seeds: one row per model, claim, condition and measure, with
    CIs that resample seeds and items, the rise over the base paired by item, and the controls."""
    import pandas as pd

    from negprobe.activations.atomic import atomic_path
    from negprobe.analysis.belief import read_belief_csv
    from negprobe.analysis.belief.controls import pooled_with_controls
    from negprobe.analysis.belief.pooled import rows_without_margins

    runs.check_inputs((csv, "CSV", "file"))
    runs.check_outputs((out, "--out", "file"), (markdown, "--markdown", "file"))
    if n_boot < 1:
        raise NegprobeError(f"--n-boot must be >= 1, got {n_boot}")
    table = read_belief_csv(csv)
    if claim is not None:
        table = pd.DataFrame(table[table["claim"] == claim]).reset_index(drop=True)
    pooled = pooled_with_controls(table, n_boot=n_boot, seed=seed)
    if len(pooled) == 0:
        raise NegprobeError(f"{csv}: no rows with per-unit margins{f' for claim {claim}' if claim else ''} "
                            "(rows written before unit_margins existed cannot be pooled; score them again)")
    show = Table("model", "claim", "condition", "measure", "seeds", "n", "belief rate [95% CI]",
                 "mean margin [95% CI]", "rise vs base [95% CI]", "controls",
                 title=f"belief pooled over seeds: {csv.name} (CIs resample seeds and items)")
    for r in pooled.to_dict("records"):
        k = int(r["in_context_k"])
        show.add_row(str(r["model"]), str(r["claim"]), f"{r['condition']} ({r['mode']}{f', k={k}' if k else ''})",
                     str(r["measure"]), str(r["n_seeds"]), str(r["n"]), _ci(r, "belief_rate", "rate_ci_low", "rate_ci_high", ""),
                     _ci(r, "mean_margin", "margin_ci_low", "margin_ci_high"),
                     _ci(r, "rise_vs_base", "rise_ci_low", "rise_ci_high"), str(r["controls"]))
    console = Console()
    console.print(show)
    if skipped := rows_without_margins(table):
        console.print(f"{skipped} rows without per-unit margins left out (written by an earlier version)")
    for path, write in ((out, lambda p: pooled.to_csv(p, index=False)), (markdown, lambda p: Path(p).write_text(_markdown(pooled)))):
        if path is not None:
            with atomic_path(Path(path).expanduser()) as tmp:
                write(tmp)
            console.print(f"wrote {path}")
