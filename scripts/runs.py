"""The pipeline calls the command line makes, one place each (``cli.py`` and ``demo.py`` share them).

Each function runs one stage and writes its outputs under the config's ``out``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from negprobe.activations.finetune.train import FinetuneConfig
    from negprobe.activations.models import LoadedModel
    from negprobe.analysis.localize import LocalizeConfig
    from negprobe.probes.sweep import SweepConfig

#: Ranges of the fine-tuning hyperparameters (FinetuneConfig itself checks only types).
_AT_LEAST_ONE = ("n_docs", "epochs", "max_steps", "batch_size", "max_length", "lora_r", "lora_alpha", "checkpoint_every")
FINETUNE_LIMITS: dict[str, dict[str, float]] = {name: {"min": 1.0} for name in _AT_LEAST_ONE} | {
    "lr": {"above": 0.0}, "mix_generic": {"min": 0.0}, "mix_organism": {"min": 0.0}, "corrected_share": {"min": 0.0, "max": 1.0}}


def check_outputs(*paths: tuple[str | Path | None, str, str]) -> None:
    """(path, flag, "folder"|"file") triples: each must be writable, checked before any work."""
    from negprobe.activations.config import check_output_path

    for path, flag, kind in paths:
        if path is not None:
            check_output_path(path, flag, kind)


def check_store(store: str | Path | None, flag: str = "--store") -> None:
    """The activation store (``--store``, else the default under $NEGPROBE_HOME) must be writable."""
    from negprobe.activations.embedded import negprobe_home

    check_outputs((store if store is not None else negprobe_home() / "store",
                   flag if store is not None else "store (default $NEGPROBE_HOME/store)", "folder"))


def check_device(device: str | None, flag: str = "--device") -> None:
    """A --device torch can parse and that this machine has, checked before any model loads."""
    if device is None:
        return
    import torch

    from negprobe.errors import NegprobeError

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise NegprobeError(f"{flag} {device!r}: not a torch device (e.g. cpu, cuda, cuda:0, mps)") from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if parsed.index is None and not count or parsed.index is not None and parsed.index >= count:
            raise NegprobeError(f"{flag} {device!r}: this machine has {count} CUDA device(s)")
    elif parsed.type == "mps" and not torch.backends.mps.is_available():
        raise NegprobeError(f"{flag} {device!r}: MPS is not available on this machine")
    elif parsed.type not in ("cpu", "cuda", "mps"):
        raise NegprobeError(f"{flag} {device!r}: unsupported device type; use cpu, cuda[:N] or mps")


def check_placement(device: str | None, device_map: str | None, remote: bool, adapter=None) -> None:
    """--device, --device-map and --remote, checked together before any model loads."""
    from negprobe.activations.backends.remote_model import check_remote
    from negprobe.activations.models import parse_device_map
    from negprobe.errors import NegprobeError

    check_device(device)
    parse_device_map(device_map)
    if device is not None and device_map is not None:
        raise NegprobeError("--device and --device-map: give one of them")
    check_remote(remote, device_map, (adapter,), device)


def load_reader(model: str, adapter=None, compute_dtype: str = "float32", device: str | None = None,
                device_map: str | None = None, remote: bool = False) -> LoadedModel:
    """The model a command reads: loaded here (``device`` or ``device_map``), or with ``remote`` a
    weightless nnsight handle run on NDIF (``$NEGPROBE_REMOTE=simulate`` or ``here`` runs that same
    path on this machine: nnsight's serialising dry run, or a plain trace)."""
    from negprobe.activations.backends.remote_model import open_model

    return open_model(model, adapter, compute_dtype, device_map, remote, device)


def check_models(models: list[str], adapters: list, adapter_flag: str = "--adapter") -> None:
    """Every model and adapter folder of a run, checked before the first one loads."""
    from negprobe.activations import embedded
    from negprobe.activations.hub import parse_hub_ref, resolve_adapter
    from negprobe.activations.models import check_adapter_folder, resolve_source

    for model in models:
        if model not in embedded.EMBEDDED_MODELS:  # embedded models are converted on first use: not here
            resolve_source(model)
    for adapter in adapters:
        if adapter is None:
            continue
        if Path(adapter).expanduser().is_dir() or parse_hub_ref(str(adapter)) is None:
            check_inputs((adapter, adapter_flag, "folder"))
        check_adapter_folder(resolve_adapter(adapter)[0])  # a hub id: from the cache, else downloaded


def check_inputs(*paths: tuple[str | Path | None, str, str]) -> None:
    """(path, flag, "folder"|"file") triples: each must exist as that kind."""
    from negprobe.errors import NegprobeError

    for path, flag, kind in paths:
        if path is not None and not (Path(path).is_dir() if kind == "folder" else Path(path).is_file()):
            raise NegprobeError(f"{flag}{'' if flag.endswith('=') else ' '}{path}: {kind} not found")


def sweep(config: SweepConfig) -> Path:
    """Run a probe sweep and write its table, plots and summary; returns the output folder."""
    from negprobe.activations.config import removed_on_error
    from negprobe.analysis.sweep_report import write_sweep_report
    from negprobe.probes.sweep import run_sweep

    check_outputs((config.out, "--out", "folder"))
    check_store(config.store)
    check_models(config.models, config.adapters)
    with removed_on_error(config.out):
        write_sweep_report(run_sweep(config), Path(config.out))
    return Path(config.out)


def localize(config: LocalizeConfig) -> Path:
    """Localize the annotation drop and write the report; returns report.html."""
    from negprobe.activations.config import removed_on_error
    from negprobe.analysis.localize import run_localize
    from negprobe.analysis.report import write_report

    check_outputs((config.out, "--out", "folder"))
    check_store(config.store)
    check_inputs((config.belief_csv, "--belief-csv", "file"))
    for condition, adapter in config.adapters.items():
        check_models([], [adapter], f"--adapters {condition}=")
    check_models([config.model], [])
    from negprobe.analysis.causal_findings import causal_findings

    with removed_on_error(config.out):
        result = run_localize(config, echo=lambda line: print(f"  {line}", flush=True))
        path = write_report(result, config.out)
    for line in causal_findings(result.causal):  # the behavioural verdict, "nothing to localise ..." included
        print(line)
    return path


def finetune(config: FinetuneConfig) -> Path:
    """Fine-tune one adapter; returns its folder (removed again when this run created it and it fails)."""
    from negprobe.activations.config import config_source, removed_on_error, validate_config
    from negprobe.activations.finetune.train import finetune as run_finetune
    from negprobe.activations.finetune.train import load_corpus

    with config_source("", {name: "--" + name.replace("_", "-") for name in FINETUNE_LIMITS}):
        validate_config(config, FINETUNE_LIMITS)
    if str(config.out).startswith("~"):  # FinetuneConfig keeps out as given: write where the checks looked
        config = dataclasses.replace(config, out=str(Path(config.out).expanduser()))
    check_outputs((config.out, "--out", "folder"))
    check_device(config.device)
    load_corpus(config)  # an unknown claim, condition or corpus fails here, before anything is created
    with removed_on_error(config.out):
        return run_finetune(config)


def seed_folder(out: str | Path, seed: int) -> str:
    """The adapter folder of one seed of a multi-seed fine-tune: ``<out>-seed<k>``."""
    return f"{str(out).rstrip('/')}-seed{seed}"


def finetune_seeds(config: FinetuneConfig, seeds: list[int]) -> list[Path]:
    """One adapter per seed (documents, LoRA init and batch order all follow the seed), in
    :func:`seed_folder` ``(config.out, k)``; every folder is checked before the first run starts."""
    from negprobe.errors import NegprobeError

    if not seeds or len(set(seeds)) != len(seeds):
        raise NegprobeError(f"--seeds: expected distinct integers like '0,1,2', got {seeds!r}")
    configs = [dataclasses.replace(config, seed=k, out=seed_folder(config.out, k)) for k in seeds]
    check_outputs(*((c.out, "--out", "folder") for c in configs))
    return [finetune(c) for c in configs]


def measure_belief(model: LoadedModel, claim: str, in_context_k: int = 0, in_context_condition: str = "negated",
                   condition: str | None = None, seed: int = 0, questions=None, mcq=None) -> pd.DataFrame:
    """Belief in one claim (questions, mcq where found, cloze vs truth, cloze vs distractor) with
    bootstrap CIs and the controls, one row per measure."""
    from negprobe.analysis.belief import measure_belief as measure

    return measure(model, claim, in_context_k, in_context_condition, condition=condition, seed=seed,
                   questions=questions, mcq=mcq)


def append_belief(table: pd.DataFrame, path: str | Path) -> Path:
    """Append belief rows to a CSV (created when missing); the controls are recomputed over the file."""
    from negprobe.analysis.belief import append_results

    return append_results(table, path)


def belief_notes(table: pd.DataFrame, claim: str) -> list[str]:
    """Lines to print under a belief table: where the mcq of ``claim`` came from (or that it is
    unavailable) and one line per failed control of ``claim``."""
    from negprobe.analysis.belief import control_lines, default_mcq_path

    path = default_mcq_path(claim)
    has_mcq = any(r["measure"] == "mcq" and r["claim"] == claim for r in table.to_dict("records"))
    source = ("mcq: the paper's mcq.yaml" + (f" ({path})" if path else "")) if has_mcq else (
        "mcq: unavailable (no mcq.yaml: pass --mcq FILE or set NEGPROBE_RELEASE to the release root)")
    return [source, *control_lines(table, claim)]


def load_mcq_questions(path: str | Path):
    """The paper's mcq.yaml questions (the ``mcq`` measure, beside the built-in yes/no ones)."""
    from negprobe.analysis.belief import load_mcq_questions as load

    return load(path)
