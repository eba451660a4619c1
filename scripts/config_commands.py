"""The commands whose options are generated from a config dataclass (``sweep``, ``finetune``, ``localize``).

They live apart from ``cli.py`` because importing the configs imports torch: ``cli.py`` loads this
module only when one of them runs or shows its help.
"""

from __future__ import annotations

from pathlib import Path

import typer

from negprobe.activations.finetune.train import FinetuneConfig
from negprobe.analysis.localize import LocalizeConfig
from negprobe.errors import NegprobeError
from negprobe.probes.sweep import SweepConfig

from . import runs
from .flags import FINETUNE_FLAGS, LOCALIZE_FLAGS, SWEEP_FLAGS
from .options import Parsed, config_options, parse_int_list

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)


@app.command()
@config_options(SweepConfig, SWEEP_FLAGS)
def sweep(
    options: Parsed,
    config: Path | None = typer.Option(None, help="A sweep config (YAML or TOML); flags given beside it override its fields."),
) -> None:
    """Fit probe families on every layer, evaluate leakage-safely, write a results table and plots."""
    cfg = options.config(SweepConfig, SweepConfig.from_file(config) if config is not None else None)
    print(runs.sweep(cfg).resolve())


@app.command()
@config_options(FinetuneConfig, FINETUNE_FLAGS)
def finetune(
    options: Parsed,
    seeds: str | None = typer.Option(None, help="Several seeds, e.g. '0,1,2' or '0-2': one adapter per seed, in"
                                                " <out>-seed<k> (instead of --seed)."),
) -> None:
    """LoRA-fine-tune a model on one claim's documents in one negation condition."""
    config = options.config(FinetuneConfig)
    if seeds is None:
        print(runs.finetune(config).resolve())
        return
    if "seed" in options.given:
        raise NegprobeError("--seed and --seeds: give one of them")
    for folder in runs.finetune_seeds(config, parse_int_list(seeds, "seeds") or []):
        print(folder.resolve())


@app.command()
@config_options(LocalizeConfig, LOCALIZE_FLAGS)
def localize(options: Parsed) -> None:
    """Locate the layer where the negation annotation is dropped; writes report.html."""
    print(runs.localize(options.config(LocalizeConfig)).resolve())
