"""The pipeline calls the command line makes, one place each (``cli.py`` and ``demo.py`` share them).

Each function runs one stage and writes its outputs under the config's ``out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from negprobe.activations.finetune.train import FinetuneConfig
    from negprobe.activations.models import LoadedModel
    from negprobe.analysis.localize import LocalizeConfig
    from negprobe.probes.sweep import SweepConfig


def sweep(config: SweepConfig) -> Path:
    """Run a probe sweep and write its table, plots and summary; returns the output folder."""
    from negprobe.analysis.sweep_report import write_sweep_report
    from negprobe.probes.sweep import run_sweep

    write_sweep_report(run_sweep(config), Path(config.out))
    return Path(config.out)


def localize(config: LocalizeConfig) -> Path:
    """Localize the annotation drop and write the report; returns report.html."""
    from negprobe.analysis.localize import run_localize
    from negprobe.analysis.report import write_report

    return write_report(run_localize(config), config.out)


def finetune(config: FinetuneConfig) -> Path:
    """Fine-tune one adapter; returns its folder."""
    from negprobe.activations.finetune.train import finetune as run_finetune

    return run_finetune(config)


def measure_belief(model: LoadedModel, claim: str, in_context_k: int = 0, in_context_condition: str = "negated",
                   condition: str | None = None, seed: int = 0, questions=None) -> pd.DataFrame:
    """Belief rates of one claim (questions and cloze) with bootstrap CIs, one row per measure."""
    from negprobe.analysis.belief import measure_belief as measure

    return measure(model, claim, in_context_k, in_context_condition, condition=condition, seed=seed,
                   questions=questions)


def append_belief(table: pd.DataFrame, path: str | Path) -> Path:
    """Append belief rows to a CSV (created when missing)."""
    from negprobe.analysis.belief import append_results

    return append_results(table, path)


def load_mcq_questions(path: str | Path):
    """The paper's mcq.yaml questions, in place of the built-in ones."""
    from negprobe.analysis.belief import load_mcq_questions as load

    return load(path)
