"""``negprobe layer-sweep``: positive and negated adapters per window of layers, and the belief gap per window.

For every window (default: thirds of the network), condition and seed it fine-tunes one adapter
with ``--layers`` set to the window (:mod:`negprobe.activations.finetune.layer_window`; a finished
adapter is reused, an interrupted one resumes), measures belief with the adapter
(:func:`negprobe.analysis.belief.measure_belief`) and writes

- ``<out>/adapters/w<a>-<b>/<condition>-seed<k>/``: the adapters;
- ``<out>/layer_sweep.csv``: one row per window, condition, seed and belief measure;
- ``<out>/layer_belief.csv``: every belief row (base model and adapters) with per-item margins and
  its window (empty for the base);
- ``<out>/layer_gaps.csv``: per window and measure, negated - positive (and negated - local with
  ``--conditions positive,negated,local``) paired by seed, with a t CI over seeds
  (:func:`negprobe.analysis.layer_windows.window_gaps`), read only where the window's positive
  adapters raise belief over the base (CI over seeds x items above 0); other rows say
  ``nothing_to_localise`` and why (:func:`~negprobe.analysis.layer_windows.window_gates`).

Costs one fine-tune per (window, condition, seed): on 2 CPU cores that is hours for smollm2 at the
default document count, so try it with ``--max-steps`` first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer

from negprobe.errors import NegprobeError


@dataclass(frozen=True)
class LayerSweepConfig:
    """What a layer sweep trains and measures; ``finetune`` holds extra FinetuneConfig fields (n_docs, lr, ...)."""

    model: str
    claim: str
    out: str
    windows: tuple[str, ...] = ()  # empty: thirds of the network
    conditions: tuple[str, ...] = ("positive", "negated")
    seeds: tuple[int, ...] = (0,)
    finetune: dict = field(default_factory=dict)


def adapter_folder(out: str | Path, window: str, condition: str, seed: int) -> Path:
    """Where the sweep keeps one adapter: ``<out>/adapters/w<a>-<b>/<condition>-seed<k>``."""
    from negprobe.activations.finetune.layer_window import parse_window

    first, last = parse_window(window)
    return Path(out) / "adapters" / f"w{first}-{last}" / f"{condition}-seed{seed}"


def _n_layers(model: str) -> int:
    """The model's number of decoder blocks, from its config alone (no weights loaded)."""
    from transformers import AutoConfig

    from negprobe.activations.models import resolve_source

    config = AutoConfig.from_pretrained(resolve_source(model)[1])
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return int(text.num_hidden_layers)


def plan(config: LayerSweepConfig) -> list[str]:
    """The windows to train, every input checked before any work (claim, conditions, windows, seeds)."""
    from negprobe.activations.finetune.documents import generate_documents
    from negprobe.activations.finetune.layer_window import parse_window
    from negprobe.analysis.belief import check_belief_inputs
    from negprobe.analysis.layer_windows import thirds

    check_belief_inputs(config.claim)
    for condition in config.conditions:
        generate_documents(config.claim, condition, n=1)  # an unknown condition fails here
    if not config.seeds or len(set(config.seeds)) != len(config.seeds):
        raise NegprobeError(f"--seeds: expected distinct integers like '0,1,2', got {list(config.seeds)!r}")
    n_layers = _n_layers(config.model)
    windows = list(config.windows) or thirds(n_layers)
    for window in windows:
        if parse_window(window, "--windows")[1] >= n_layers:
            raise NegprobeError(f"--windows {window}: {config.model} has decoder blocks 0..{n_layers - 1}")
    return windows


def run_layer_sweep(config: LayerSweepConfig) -> Path:
    """Train, measure and tabulate (see the module docstring); returns ``<out>/layer_gaps.csv``."""
    import pandas as pd

    from negprobe.activations.atomic import atomic_write_text
    from negprobe.activations.config import config_source, validate_config
    from negprobe.activations.finetune.train import FinetuneConfig
    from negprobe.activations.models import load_model
    from negprobe.analysis.belief import measure_belief
    from negprobe.analysis.layer_windows import SWEEP_COLUMNS, gap_lines, window_gaps, window_gates

    from . import runs

    runs.check_outputs((config.out, "--out", "folder"))
    jobs = [(window, FinetuneConfig(model=config.model, claim=config.claim, condition=condition, seed=seed,
                                    out=str(adapter_folder(config.out, window, condition, seed)), layers=window,
                                    **config.finetune))
            for window in plan(config) for condition in config.conditions for seed in config.seeds]
    with config_source("", {name: "--" + name.replace("_", "-") for name in runs.FINETUNE_LIMITS}):
        for _, job in jobs:  # every adapter's settings are checked before the first one trains
            validate_config(job, runs.FINETUNE_LIMITS)
    rows, belief = [], [measure_belief(load_model(config.model), config.claim).assign(window="")]
    for window, job in jobs:
        folder = runs.finetune(job)
        table = measure_belief(load_model(config.model, adapter=folder), config.claim, condition=job.condition,
                               seed=job.seed)
        belief.append(table.assign(window=window))
        rows += [(window, job.condition, job.seed, r["measure"], r["mean_margin"], r["belief_rate"], str(folder))
                 for r in table.to_dict("records")]
    sweep, beliefs = pd.DataFrame(rows, columns=list(SWEEP_COLUMNS)), pd.concat(belief, ignore_index=True)
    gaps = window_gaps(sweep, gates=window_gates(beliefs))
    out = Path(config.out)
    atomic_write_text(out / "layer_sweep.csv", sweep.to_csv(index=False))
    atomic_write_text(out / "layer_belief.csv", beliefs.to_csv(index=False))
    atomic_write_text(out / "layer_gaps.csv", gaps.to_csv(index=False))
    for line in gap_lines(gaps):
        print(line)
    return out / "layer_gaps.csv"


def layer_sweep(
    claim: str = typer.Option(..., "--claim", "-c", help="Claim id, e.g. ed_sheeran."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the adapters and the two CSV tables."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Base model."),
    windows: str | None = typer.Option(None, help="Windows of decoder blocks, e.g. '0-9,10-19,20-29' (default: thirds)."),
    conditions: str = typer.Option("positive,negated", help="Fine-tuning conditions (gaps: negated - positive, and"
                                                            " negated - local when local is among them)."),
    seeds: str = typer.Option("0", help="Seeds, e.g. '0-2': one adapter per window, condition and seed."),
    n_docs: int = typer.Option(50, help="Synthetic documents per adapter."),
    max_steps: int | None = typer.Option(None, help="Stop each fine-tune after this many steps."),
    max_length: int = typer.Option(512, help="Tokens per document."),
    lora_r: int = typer.Option(16, help="LoRA rank."),
) -> None:
    """Fine-tune positive and negated adapters per window of layers; write the belief gap per window."""
    from .options import parse_int_list

    knobs = {"n_docs": n_docs, "max_steps": max_steps, "max_length": max_length, "lora_r": lora_r}
    config = LayerSweepConfig(model, claim, str(out), tuple(w.strip() for w in (windows or "").split(",") if w.strip()),
                              tuple(c.strip() for c in conditions.split(",") if c.strip()),
                              tuple(parse_int_list(seeds, "seeds") or []), knobs)
    print(run_layer_sweep(config).resolve())
