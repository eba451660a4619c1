"""``negprobe demo``: the main job end to end; a finished stage is reused when its config is unchanged."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from negprobe.activations.datasets.topics import TRUTH_TOPICS
from negprobe.activations.progress import StageClock, timing_table

from . import runs

STAGE_MARKER = ".negprobe-stage.json"
DEMO_CONDITIONS = ("positive", "negated", "dense", "local")
#: The demo's localize grid, smaller than ``negprobe localize``'s default so the whole demo fits its CPU
#: budget: one probe family and the general truth readers (all layers, claims, paraphrases and the
#: full causal grid stay). The report's subtitle names every field that differs from the default.
DEMO_LOCALIZE_GRID: dict[str, Any] = {"probes": ["logistic"], "probe_data": ["general"], "n_boot": 100}
#: ``demo --organism`` fine-tunes a claim the embedded models know is false (the paper's claims are not known
#: false by them, so no truth reader of those claims passes its gate) and localizes that claim alone, read
#: with the claim-domain readers (trained without any claim's entities), which pass their gate on the organism.
ORGANISM_DEMO_CLAIM = "capital_france_berlin"
ORGANISM_LOCALIZE_GRID: dict[str, Any] = {**DEMO_LOCALIZE_GRID, "probe_data": ["domain"]}


def demo_claim(claim: str | None, organism: bool) -> str:
    """The claim the demo fine-tunes: ``claim`` when given, else ed_sheeran (the paper's example), or
    :data:`ORGANISM_DEMO_CLAIM` on the organism."""
    return claim or (ORGANISM_DEMO_CLAIM if organism else "ed_sheeran")


def stage_fields(config: Any) -> dict[str, Any]:
    """A stage's identity: the config's fields, less those marked ``omit_default`` while they hold their default
    (fields added later, e.g. where the model runs, so a finished stage's key stays what it was)."""
    if isinstance(config, dict):
        return config
    values = dataclasses.asdict(config)
    for f in dataclasses.fields(config):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if f.metadata.get("omit_default") and values[f.name] == default:
            del values[f.name]
    return values


def run_stage(console: Console, marker: Path, config: Any, title: str, run: Callable[[], Any],
              needs: Path | None = None) -> bool:
    """Run one stage unless ``marker`` records a finished run with the same ``config``
    (a dataclass or a dict) and the output ``needs`` (if given) is still there; True when reused."""
    key = json.dumps(stage_fields(config), sort_keys=True, default=str)
    if marker.is_file() and marker.read_text() == key and (needs is None or needs.is_file()):
        console.print(f"{title}: reusing {marker.parent if needs is None else needs}")
        return True
    console.print(title)
    run()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(key)
    return False


def timed(clock: StageClock, stage: str, run: Callable[[], bool]) -> None:
    """Run one stage (``run`` returns whether it was reused) and add its wall time to ``clock``."""
    start = time.perf_counter()
    reused = run()
    clock.add(stage, time.perf_counter() - start, reused)


def sweep_stage(console: Console, model: str, out: Path, folds: int) -> bool:
    """[1/3] cache the built-in truth datasets and their negated twins, sweep every probe family."""
    from negprobe.probes import PROBES
    from negprobe.probes.sweep import SweepConfig

    every = [name for topic in TRUTH_TOPICS for name in (topic, f"neg_{topic}")]
    cfg = SweepConfig(models=[model], train=[["cities", "neg_cities"], ["cities"]], test=every, probes=list(PROBES),
                      n_folds=folds, n_boot=200, out=str(out / "sweep"))
    return run_stage(console, out / "sweep" / STAGE_MARKER, cfg, "[1/3] sweep", lambda: runs.sweep(cfg))


def organism_stage(console: Console, model: str, clock: StageClock) -> str:
    """[0/3] train the notice-reading organism of ``model`` (reused when one with the same config exists);
    returns its model name, on which every later stage runs."""
    from negprobe.activations.organism import OrganismConfig, train_organism
    from negprobe.activations.organism.train import finished_organism

    config = OrganismConfig(model=model)

    def one() -> bool:
        if (folder := finished_organism(config)) is not None:
            console.print(f"[0/3] organism: reusing {folder}")
            return True
        console.print(f"[0/3] organism: training on {model} (notice reading on invented entities)")
        train_organism(config)
        return False

    timed(clock, "organism", one)
    return f"organism:{model}"


def finetune_stage(console: Console, model: str, claim: str, out: Path, clock: StageClock,
                   mix_organism: float = 0.0) -> dict[str, str]:
    """[2/3] LoRA adapters of ``claim`` in each demo condition; an adapter with a training card is reused.
    ``mix_organism``: organism questions per claim document (continued training of an organism)."""
    from negprobe.activations.finetune.train import TRAINING_CARD, FinetuneConfig

    adapters = {}
    for condition in DEMO_CONDITIONS:
        folder = out / "adapters" / f"{claim}-{condition}"

        def one(condition: str = condition, folder: Path = folder) -> bool:
            if (folder / TRAINING_CARD).is_file():
                console.print(f"[2/3] fine-tune {condition}: reusing {folder}")
                return True
            console.print(f"[2/3] fine-tune {claim} / {condition}")
            runs.finetune(FinetuneConfig(model=model, claim=claim, condition=condition, out=str(folder),
                                         mix_organism=mix_organism))
            return False

        timed(clock, f"fine-tune {condition}", one)
        adapters[condition] = str(folder)
    return adapters


def belief_stage(console: Console, model: str, claim: str, adapters: dict[str, str], out: Path,
                 clock: StageClock) -> Path:
    """[2/3] belief of the base model and of every adapter, one CSV keyed by the adapters' training cards."""
    import pandas as pd

    from negprobe.activations.finetune.train import TRAINING_CARD
    from negprobe.activations.models import load_model
    from negprobe.analysis.belief import read_belief_csv

    belief_csv = out / "belief.csv"
    key = {"model": model, "claim": claim, "csv": str(belief_csv), "measures": 3, "adapters": {
        condition: hashlib.sha256((Path(folder) / TRAINING_CARD).read_bytes()).hexdigest()
        for condition, folder in adapters.items()}}

    def measure() -> None:
        rows = [runs.measure_belief(load_model(model), claim)]
        rows += [runs.measure_belief(load_model(model, adapter=folder), claim, condition=condition)
                 for condition, folder in adapters.items()]
        if belief_csv.exists():
            belief_csv.unlink()
        runs.append_belief(pd.concat(rows, ignore_index=True), belief_csv)

    timed(clock, "belief", lambda: run_stage(console, out / ".negprobe-belief.json", key, "[2/3] belief", measure,
                                             needs=belief_csv))
    table = read_belief_csv(belief_csv)
    for r in table.to_dict("records"):
        value = float(str(r["rise_vs_base"]))
        rise = "" if math.isnan(value) else f"  rise vs base {value:+.2f}"
        console.print(f"      belief {r['mode']:10s} {r['condition']:9s} {r['measure']:16s} rate {r['belief_rate']:.2f}"
                      f" [{r['rate_ci_low']:.2f}, {r['rate_ci_high']:.2f}]  margin {r['mean_margin']:+.2f} nats{rise}"
                      f"  controls {r['controls']}")
    for line in runs.belief_notes(table, claim):
        console.print(f"      {line}")
    return belief_csv


def localize_stage(console: Console, model: str, adapters: dict[str, str], belief_csv: Path, out: Path,
                   grid: dict[str, Any] | None = None) -> bool:
    """[3/3] annotation decodability, truth readouts, drop layers, patching, steering, report.html
    (on ``grid``, default :data:`DEMO_LOCALIZE_GRID`)."""
    from negprobe.analysis.localize import LocalizeConfig

    cfg = LocalizeConfig(model=model, adapters=adapters, belief_csv=str(belief_csv), out=str(out / "localize"),
                         **(DEMO_LOCALIZE_GRID if grid is None else grid))
    return run_stage(console, out / "localize" / STAGE_MARKER, cfg, "[3/3] localize", lambda: runs.localize(cfg))


def run_demo(console: Console, model: str, out: Path, claim: str, folds: int, sweep_only: bool,
             organism: bool = False) -> Path:
    """Every stage in order (only the sweep with ``sweep_only``); returns the output folder. With
    ``organism``, the stages run on the notice-reading organism of ``model`` (trained first, or reused).
    Ends with the per-stage timing table (:func:`timing_table`)."""
    started = time.perf_counter()
    clock = StageClock()
    if organism:
        model = organism_stage(console, model, clock)

    def elapsed() -> str:
        return f"{time.perf_counter() - started:.0f} s"

    timed(clock, "sweep", lambda: sweep_stage(console, model, out, folds))
    console.print(f"      summary: {out / 'sweep' / 'summary.md'}  ({elapsed()})")
    if not sweep_only:
        adapters = finetune_stage(console, model, claim, out, clock, mix_organism=1.0 if organism else 0.0)
        console.print(f"      adapters: {', '.join(adapters)} ({elapsed()})")
        belief_csv = belief_stage(console, model, claim, adapters, out, clock)
        grid = {**ORGANISM_LOCALIZE_GRID, "claims": [claim]} if organism else DEMO_LOCALIZE_GRID
        timed(clock, "localize", lambda: localize_stage(console, model, adapters, belief_csv, out, grid))
        console.print(f"      report: {out / 'localize' / 'report.html'}  (total {elapsed()})")
    console.print(timing_table(clock.stages), markup=False, highlight=False)
    return out
