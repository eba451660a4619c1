"""The commands that live in modules of their own, registered on the ``negprobe`` app (see :mod:`.cli`)."""

from __future__ import annotations

import typer

from . import (
    answer_shift_command,
    belief_table_command,
    cross_patch_command,
    finetuned_report_command,
    organism_command,
    signal_command,
)


def register(app: typer.Typer) -> None:
    """Add each module command to ``app`` under its name."""
    app.command(name="belief-table")(belief_table_command.belief_table)
    app.command(name="signal")(signal_command.signal)
    app.command(name="organism")(organism_command.organism)
    app.command(name="cross-patch")(cross_patch_command.cross_patch)
    app.command(name="answer-shift")(answer_shift_command.answer_shift)
    app.command(name="finetuned-report")(finetuned_report_command.finetuned_report)
