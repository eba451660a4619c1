"""One rich progress bar for every long loop (silent when disabled).

It lives in the lowest layer so fine-tuning (``activations``), probe sweeps (``probes``) and the
causal checks (``analysis``) share it; ``negprobe.analysis.progress`` re-exports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(description: str, total: int, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; shows done/total, elapsed and remaining time on the terminal."""
    if not enabled or total <= 0:
        yield lambda _n: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn(description), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), transient=False) as bar:
        task = bar.add_task(description, total=total)
        start = time.perf_counter()

        def advance(n: int) -> None:
            bar.update(task, advance=n)

        yield advance
        bar.update(task, description=f"{description} ({time.perf_counter() - start:.0f} s)")
