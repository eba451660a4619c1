"""The fine-tuning step loop and what it reports after every step (step, loss, tokens/s, ETA).

:func:`train_steps` runs optimizer steps (optionally under bfloat16 autocast on the model's device, see
:func:`autocast_for`) and hands a
:class:`StepReport` to ``on_step`` after each one; :func:`step_display` is the default consumer: a
rich bar on a terminal, a plain line every tenth of the run elsewhere (a log file, a pipe), so a
long fine-tune is never silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch


@dataclass
class TrainingState:
    """Progress of one run: the step reached, its loss curve, and tokens seen this run."""

    total: int  # steps to reach
    step: int = 0
    losses: list[float] = field(default_factory=list)
    tokens: int = 0


@dataclass(frozen=True)
class StepReport:
    """One finished optimizer step: where the run stands and how fast this process trains."""

    step: int  # steps done (1-based, counting steps resumed from a checkpoint)
    total: int
    loss: float
    tokens_per_s: float  # non-padding tokens of this process's steps / their wall time
    steps_per_s: float
    eta_s: float  # seconds to ``total`` at this process's rate so far

    def line(self, title: str) -> str:
        return (f"{title}: step {self.step}/{self.total}  loss {self.loss:.3f}  {self.tokens_per_s:,.0f} tok/s"
                f"  ETA {self.eta_s:.0f} s")


def model_device(model) -> torch.device:
    """Where a (possibly PEFT-wrapped, possibly device-mapped) model takes its inputs: its embedding's device."""
    embeddings = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    weight = getattr(embeddings, "weight", None)
    return weight.device if weight is not None else next(model.parameters()).device


def autocast_for(model, bf16: bool) -> tuple[str, torch.dtype, bool]:
    """``torch.autocast`` arguments (device type, dtype, enabled) for training ``model``: the autocast follows
    the model's device (cuda for a model on a GPU, else cpu, as before); ``bf16`` asks for bfloat16 mixed
    precision, refused on a GPU without bfloat16 rather than silently run in float32."""
    device = model_device(model)
    if device.type == "cuda":
        if bf16 and not torch.cuda.is_bf16_supported():
            from negprobe.errors import NegprobeError

            raise NegprobeError(f"--bf16: {torch.cuda.get_device_name(device)} has no bfloat16; train without --bf16")
        return "cuda", torch.bfloat16, bf16
    return "cpu", torch.bfloat16, bf16


def train_steps(model, optimizer, batch_at: Callable[[int], dict[str, torch.Tensor]],
                save: Callable[[int, list[float]], None], state: TrainingState, checkpoint_every: int, bf16: bool,
                on_step: Callable[[StepReport], None]) -> None:
    """Optimizer steps until ``state.total``, checkpointing (``save``) every ``checkpoint_every`` steps."""
    started, first_step, first_tokens = time.perf_counter(), state.step, state.tokens
    device_type, dtype, enabled = autocast_for(model, bf16)
    device = model_device(model)
    while state.step < state.total:
        batch = {name: value.to(device) for name, value in batch_at(state.step).items()}  # no copy when already there
        with torch.autocast(device_type, dtype=dtype, enabled=enabled):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        state.step += 1
        state.losses.append(float(loss.detach()))
        state.tokens += int(batch["attention_mask"].sum())
        elapsed = max(time.perf_counter() - started, 1e-9)
        steps_per_s = (state.step - first_step) / elapsed
        on_step(StepReport(state.step, state.total, state.losses[-1], (state.tokens - first_tokens) / elapsed,
                           steps_per_s, (state.total - state.step) / steps_per_s))
        if state.step % checkpoint_every == 0 or state.step == state.total:
            save(state.step, state.losses)


@contextmanager
def step_display(title: str, total: int, done: int, enabled: bool = True) -> Iterator[Callable[[StepReport], None]]:
    """Yield the ``on_step`` that shows each report: a rich bar on a terminal, else a plain line at
    every tenth of the run and at its end (nothing when not ``enabled``)."""
    if not enabled:
        yield lambda _report: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console()
    if not console.is_terminal:
        every = max(1, total // 10)

        def plain(report: StepReport) -> None:
            if report.step % every == 0 or report.step == report.total or report.step == done + 1:
                print(report.line(title), flush=True)

        yield plain
        return
    with Progress(TextColumn(title), BarColumn(), TextColumn("{task.completed}/{task.total} loss {task.fields[loss]}"
                                                             "  {task.fields[rate]} tok/s"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("train", total=total, completed=done, loss="-", rate="-")

        def rich_update(report: StepReport) -> None:
            bar.update(task, completed=report.step, loss=f"{report.loss:.3f}", rate=f"{report.tokens_per_s:,.0f}")

        yield rich_update
