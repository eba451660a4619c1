"""One rich progress bar for every long loop (silent when disabled), and one stage clock.

They live in the lowest layer so fine-tuning (``activations``), probe sweeps (``probes``), the
causal checks and localize (``analysis``) and the demo (``scripts``) share them;
``negprobe.analysis.progress`` re-exports them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StageTime:
    """One stage's wall time, and whether its output was reused from an earlier run."""

    stage: str
    seconds: float
    reused: bool = False


@dataclass
class StageClock:
    """Wall time per stage: ``with clock("readers"): ...``; ``clock.stages`` in the order they ran.
    ``echo`` (e.g. ``print``) is told ``"<stage>: <s> s"`` as each stage ends."""

    echo: Callable[[str], None] | None = None
    stages: list[StageTime] = field(default_factory=list)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.add(stage, time.perf_counter() - start)

    def add(self, stage: str, seconds: float, reused: bool = False) -> None:
        self.stages.append(StageTime(stage, seconds, reused))
        if self.echo is not None:
            self.echo(f"{stage}: {seconds:.0f} s" + (" (reused)" if reused else ""))


def timing_table(stages: Sequence[StageTime]) -> str:
    """A markdown table of the stages (stage, seconds, reused or run) and their total."""
    lines = ["| stage | seconds | reused or run |", "|---|---:|---|"]
    lines += [f"| {s.stage} | {s.seconds:.1f} | {'reused' if s.reused else 'run'} |" for s in stages]
    ran = sum(not s.reused for s in stages)
    lines.append(f"| total | {sum(s.seconds for s in stages):.1f} | {ran} run, {len(stages) - ran} reused |")
    return "\n".join(lines)


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
