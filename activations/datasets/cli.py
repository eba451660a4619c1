"""Renderables for ``negprobe datasets [NAME] [--limit N]`` (wired up in scripts/cli.py)."""

from __future__ import annotations

from rich.table import Table

from negprobe.activations.datasets.registry import list_datasets, load_dataset
from negprobe.errors import NegprobeError

_MAX_TEXT = 160


def _short(text: str, width: int = _MAX_TEXT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def datasets_table(name: str | None = None, limit: int = 20, drop_conflicts: bool = False) -> Table:
    """No name: every built-in dataset with its row count.  A name or path: its first
    ``limit`` rows (text, label, polarity, condition, group)."""
    if limit < 0:
        raise NegprobeError(f"--limit must be >= 0, got {limit}")
    if name is None:
        table = Table(title="Built-in datasets (or pass a .csv/.jsonl path)")
        table.add_column("name")
        table.add_column("rows", justify="right")
        table.add_column("description")
        for info in list_datasets():
            table.add_row(info.name, str(info.n_rows), info.description)
        return table
    ds = load_dataset(name, drop_conflicts=drop_conflicts)
    shown = min(limit, len(ds))
    table = Table(
        title=f"{ds.name}: {len(ds)} rows (showing {shown}), sha256 {ds.content_hash()[:12]}",
    )
    table.add_column("#", justify="right")
    table.add_column("text", overflow="fold")
    table.add_column("label", justify="right")
    table.add_column("polarity")
    table.add_column("condition")
    table.add_column("group")
    for i, r in enumerate(ds.records[:shown]):
        table.add_row(str(i), _short(r.text), "-" if r.label is None else str(r.label), r.polarity, r.condition, r.group)
    return table
