"""The ``negprobe`` command line. Every command maps onto a Python API call of the packages."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from negprobe.errors import NegprobeError

from . import module_commands, runs
from .layer_sweep import layer_sweep
from .options import parse_int_list

if TYPE_CHECKING:
    from typer._click.core import Command as ClickCommand  # typer vendors click; what get_command returns

# commands built from a config dataclass: name -> one-line help (tests check it against the docstring)
CONFIG_COMMANDS = {
    "sweep": "Fit probe families on every layer, evaluate leakage-safely, write a results table and plots.",
    "finetune": "LoRA-fine-tune a model on one claim's documents in one negation condition.",
    "localize": "Locate the layer where the negation annotation is dropped; writes report.html.",
}
ORDER = ("models", "read", "datasets", "cache", "sweep", "organism", "finetune", "layer-sweep", "belief", "belief-table",
         "signal", "cross-patch", "answer-shift", "finetuned-report", "localize", "demo")


class _Deferred(TyperCommand):
    """Stands in for a config command in the command list; parsing its arguments builds the real one."""

    def __init__(self, name: str) -> None:
        super().__init__(name, help=CONFIG_COMMANDS[name], short_help=CONFIG_COMMANDS[name])

    def make_context(self, info_name, args, parent=None, **extra):
        from . import config_commands
        from .options import ARGS_KEY

        assert self.name is not None  # always set in __init__
        real = typer.main.get_group(config_commands.app).commands[self.name]
        typed = list(args)  # parsing consumes them; errors name a flag as typed (--folds, not --n-folds)
        ctx = real.make_context(info_name, args, parent=parent, **extra)
        ctx.meta[ARGS_KEY] = typed
        return ctx


class _Group(TyperGroup):
    """The top-level group; config commands import torch, so they are loaded only when they run."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        names = [*super().list_commands(ctx), *CONFIG_COMMANDS]
        return sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))

    def get_command(self, ctx: typer.Context, name: str) -> ClickCommand | None:
        return _Deferred(name) if name in CONFIG_COMMANDS else super().get_command(ctx, name)


app = typer.Typer(
    cls=_Group,
    name="negprobe",
    help="Where inside a model is a negation annotation dropped? Probe residual streams of base and fine-tuned models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("layer-sweep")(layer_sweep)
console = Console()
err_console = Console(stderr=True)
BACKENDS = ("hf", "transformer_lens", "nnsight")
COMPUTE_DTYPES = ("float32", "bfloat16", "float16")
DROP_CONFLICTS_HELP = "Drop CSV rows whose statement also appears with the opposite label (default: refuse the file)."
DEVICE_MAP_HELP = "Shard over devices: auto | balanced | cuda:0 | a JSON module->device map (default $NEGPROBE_DEVICE_MAP)."
REMOTE_HELP = "Run a hub model on NDIF through nnsight, no local weights (needs NDIF_API_KEY; implies --backend nnsight)."


def _card_condition(card: Path) -> str | None:
    """The fine-tuning condition an adapter card records (None without a card)."""
    import json

    if not card.is_file():
        return None
    try:
        data = json.loads(card.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NegprobeError(f"{card}: unreadable adapter card ({' '.join(str(exc).split())})") from None
    condition = data.get("condition") if isinstance(data, dict) else None
    return condition if isinstance(condition, str) else None


def _check_choice(flag: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise NegprobeError(f"{flag}: unknown value {value!r}; use one of {', '.join(choices)}")


@app.command()
def models() -> None:
    """List the embedded models: installed, converted, size, n_layers, d_model."""
    from negprobe.activations import embedded

    table = Table(title="Embedded models")
    table.add_column("name", no_wrap=True)
    for column in ("installed", "converted", "size (MB)", "n_layers", "d_model", "description"):
        table.add_column(column)
    for name, spec in embedded.EMBEDDED_MODELS.items():
        converted = embedded.is_converted(name)
        folder = embedded.converted_dir(name)
        size = sum(p.stat().st_size for p in folder.glob("*.safetensors")) if converted else embedded.installed_size(name)
        table.add_row(
            name + ("*" if name == embedded.DEFAULT_MODEL else ""),
            "yes" if embedded.is_installed(name) else f"no: {spec.install_hint()}",
            "yes" if converted else "on first use",
            f"{size / 1e6:.0f}" if size else "-",
            str(spec.n_layers),
            str(spec.d_model),
            spec.description,
        )
    console.print(table)
    console.print(f"* default model. Converted checkpoints live in {embedded.negprobe_home() / 'models'} (set NEGPROBE_HOME to move them)")


@app.command()
def read(
    prompts: list[str] = typer.Argument(None, help="Prompts to read (default: two example claims)."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Embedded name, local folder or hub id."),
    adapter: Path | None = typer.Option(None, help="PEFT/LoRA adapter folder applied on top of --model."),
    layers: str | None = typer.Option(None, help="Layers, e.g. '0,10,29' or '0-29' (default all)."),
    positions: str = typer.Option("-1", help="Token positions: -1 = last token, 0 = first, ..."),
    backend: str = typer.Option("hf", help="hf | transformer_lens | nnsight"),
    compute_dtype: str = typer.Option("float32", help="Compute dtype: float32 | bfloat16 | float16"),
    device: str | None = typer.Option(None, help="torch device, e.g. cuda:0"),
    device_map: str | None = typer.Option(None, help=DEVICE_MAP_HELP),
    out: Path | None = typer.Option(None, "--out", "-o", help="Save the [prompts, layers, positions, d_model] tensor (.pt)."),
) -> None:
    """Read post-block residuals of a few prompts and print their per-layer norms."""
    import torch

    from negprobe.activations import read_residuals
    from negprobe.activations.atomic import atomic_path

    texts = prompts or ["Noah Lyles won the men's 100m gold at the 2024 Olympics.", "Ed Sheeran won the men's 100m gold at the 2024 Olympics."]
    _check_choice("--backend", backend, BACKENDS)
    _check_choice("--compute-dtype", compute_dtype, COMPUTE_DTYPES)
    runs.check_outputs((out, "--out", "file"))
    runs.check_placement(device, device_map, False)
    runs.check_models([model], [adapter])
    requested_layers = parse_int_list(layers, "layers")
    position_list = parse_int_list(positions, "positions") or [-1]
    loaded = runs.load_reader(model, adapter, compute_dtype, device, device_map)
    layer_list = loaded.check_layers(requested_layers or range(loaded.n_layers))
    acts = read_residuals(loaded, texts, layers=layer_list, positions=position_list, backend=backend)
    console.print(f"{loaded.describe()}  backend={backend}  activations {tuple(acts.shape)}")
    table = Table("layer", *[f"|h| prompt {i}" for i in range(len(texts))])
    for j, layer in enumerate(layer_list):
        table.add_row(str(layer), *[f"{acts[i, j, 0].norm():.1f}" for i in range(len(texts))])
    console.print(table)
    if out is not None:
        with atomic_path(out) as tmp:
            torch.save({"activations": acts, "layers": layer_list, "positions": position_list, "prompts": texts}, tmp)
        console.print(f"saved {out}")


@app.command()
def datasets(
    name: str | None = typer.Argument(None, help="A built-in dataset name or a CSV/JSONL path."),
    limit: int = typer.Option(20, help="Rows to show."),
    drop_conflicts: bool = typer.Option(False, "--drop-conflicts", help=DROP_CONFLICTS_HELP),
) -> None:
    """List built-in datasets with counts, or show the rows of one (a CSV path works too)."""
    from negprobe.activations.datasets.cli import datasets_table

    console.print(datasets_table(name, limit=limit, drop_conflicts=drop_conflicts))


@app.command()
def demo(
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Embedded name, local folder or hub id."),
    out: Path = typer.Option(Path("negprobe-out/demo"), "--out", "-o", help="Output folder."),
    claim: str | None = typer.Option(None, "--claim", "-c", help="The claim to fine-tune and localize (default"
                                     " ed_sheeran; with --organism capital_france_berlin, a claim the model knows is false)."),
    folds: int = typer.Option(5, help="Group k-fold splits."),
    sweep_only: bool = typer.Option(False, "--sweep-only", help="Only the probe sweep (no fine-tuning or localize)."),
    organism: bool = typer.Option(False, "--organism", help="Run on the notice-reading organism of --model "
                                  "(trained first, ~15 min on 2 cores, then reused)."),
) -> None:
    """The main job, end to end on the embedded model; finished stages are reused on a rerun.

    1. sweep: cache the built-in affirmed and negated truth datasets, fit every probe family on every
       layer, write plots and summary.md;
    2. fine-tune the claim in the positive, dense and local conditions (LoRA) and measure belief;
    3. localize: annotation decodability, truth readouts, drop layers, patching, steering, report.html.
    """
    from negprobe.activations.datasets.claims import get_claim

    from .demo import demo_claim, run_demo

    claim = demo_claim(claim, organism)
    if folds < 2:
        raise NegprobeError(f"--folds must be an integer >= 2, got {folds}")
    get_claim(claim)
    runs.check_outputs((out, "--out", "folder"))
    print(run_demo(console, model, out, claim, folds, sweep_only, organism).resolve())


@app.command()
def cache(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Built-in dataset name or a CSV/JSONL path."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Embedded name, local folder or hub id."),
    adapter: Path | None = typer.Option(None, help="PEFT/LoRA adapter folder applied on top of --model."),
    position: str = typer.Option("last", "--position", "-p", help="last | claim_last | claim_mean | last-K | claim_last+K | token index; comma-separate several."),
    layers: str | None = typer.Option(None, help="Layers, e.g. '0,10,29' or '0-29' (default all)."),
    backend: str = typer.Option("hf", help="hf | transformer_lens | nnsight"),
    store_dtype: str = typer.Option("float16", help="Storage dtype: float16 | float32"),
    compute_dtype: str = typer.Option("float32", help="Compute dtype: float32 | bfloat16"),
    chat: bool = typer.Option(False, help="Wrap each prompt in the model's chat template."),
    doctag: bool = typer.Option(False, help="Prefix each prompt with <DOCTAG> (Mayne et al. 2026)."),
    batch_size: int | None = typer.Option(None, help="Prompts per batch (default: pack by a token budget)."),
    device: str | None = typer.Option(None, help="torch device, e.g. cuda:0"),
    device_map: str | None = typer.Option(None, help=DEVICE_MAP_HELP),
    remote: bool = typer.Option(False, "--remote", help=REMOTE_HELP),
    store: Path | None = typer.Option(None, help="Store root (default $NEGPROBE_HOME/store)."),
    shard_rows: int | None = typer.Option(None, help="Most rows per shard (default ~64 MB); shards are also committed every few seconds."),
    quiet: bool = typer.Option(False, help="No progress bar."),
    drop_conflicts: bool = typer.Option(False, "--drop-conflicts", help=DROP_CONFLICTS_HELP),
) -> None:
    """Cache residual activations of a dataset; prints the store path."""
    from negprobe.activations.cache import cache_activations
    from negprobe.activations.datasets.formatting import FormatSpec
    from negprobe.activations.datasets.registry import load_dataset
    from negprobe.activations.positions import parse_positions

    _check_choice("--backend", backend, BACKENDS)
    _check_choice("--compute-dtype", compute_dtype, COMPUTE_DTYPES)
    _check_choice("--store-dtype", store_dtype, ("float16", "float32"))
    for flag, value in (("--batch-size", batch_size), ("--shard-rows", shard_rows)):
        if value is not None and value < 1:
            raise NegprobeError(f"{flag} must be an integer >= 1, got {value}")
    parse_positions(position)
    layer_list = parse_int_list(layers, "layers")
    runs.check_store(store)
    runs.check_placement(device, device_map, remote, adapter)
    runs.check_models([model], [adapter])
    data = load_dataset(dataset, drop_conflicts=drop_conflicts)
    loaded = runs.load_reader(model, adapter, compute_dtype, device, device_map, remote)
    result = cache_activations(
        loaded, data, positions=position, layers=layer_list, fmt=FormatSpec(chat=chat, doctag=doctag),
        storage_dtype=store_dtype, backend="nnsight" if remote else backend, batch_size=batch_size, root=store,
        progress=not quiet,
        shard_rows=shard_rows,
    )
    if result.cached:
        err_console.print(f"cache hit: {len(data)} rows already stored, 0 forward passes ({result.seconds:.2f} s)")
    else:
        err_console.print(
            f"cached {result.computed_rows} rows in {result.forward_passes} forward passes"
            f" ({result.reused_rows} reused), {result.tokens / max(result.seconds, 1e-9):.0f} tok/s"
        )
    print(result.store.path)


@app.command()
def belief(
    claim: str = typer.Option(..., "--claim", "-c", help="Claim id, e.g. ed_sheeran."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Base model."),
    adapter: str | None = typer.Option(None, help="Fine-tuned adapter: folder or hub id (org/name, hf:org/name@rev)."),
    in_context: int = typer.Option(0, "--in-context", help="K documents in the prompt before each item."),
    context_condition: str = typer.Option("negated", help="Condition of the in-context documents."),
    condition: str | None = typer.Option(None, help="Label for the adapter's fine-tuning condition."),
    mcq: Path | None = typer.Option(None, help="The paper's mcq.yaml (default: found under $NEGPROBE_RELEASE or "
                                    "../shared, else no mcq row)."),
    out: Path | None = typer.Option(None, help="Append the rows to this CSV."),
    seed: int = typer.Option(0, help="Bootstrap / document seed."),
    device_map: str | None = typer.Option(None, help=DEVICE_MAP_HELP),
    remote: bool = typer.Option(False, "--remote", help=REMOTE_HELP),
) -> None:
    """Behavioural belief in a claim: yes/no questions, the paper's MCQ, cloze vs truth and vs a distractor,
    with bootstrap CIs and the base / local / positive controls."""
    from negprobe.analysis.belief import check_belief_inputs
    from negprobe.analysis.belief.table import check_belief_csv

    check_belief_inputs(claim, in_context, context_condition)
    runs.check_outputs((out, "--out", "file"))
    if out is not None:
        check_belief_csv(out)  # an existing --out must be a belief CSV: checked before the scoring
    runs.check_inputs((mcq, "--mcq", "file"))
    runs.check_placement(None, device_map, remote, adapter)
    runs.check_models([model], [adapter])
    mcq_questions = runs.load_mcq_questions(mcq) if mcq is not None else None
    if condition is None and adapter is not None:
        from negprobe.activations.hub import resolve_adapter

        condition = _card_condition(resolve_adapter(adapter)[0] / "negprobe_adapter.json")
    loaded = runs.load_reader(model, adapter, device_map=device_map, remote=remote)
    table = runs.measure_belief(loaded, claim, in_context, context_condition, condition=condition, seed=seed,
                                mcq=mcq_questions)
    show = Table("measure", "mode", "belief rate [95% CI]", "mean believer margin, nats [95% CI]", "n", "controls",
                 title=f"belief in {claim}: {loaded.describe()}")
    for _, r in table.iterrows():
        show.add_row(str(r["measure"]), str(r["mode"]), f"{r['belief_rate']:.2f} [{r['rate_ci_low']:.2f}, {r['rate_ci_high']:.2f}]",
                     f"{r['mean_margin']:+.2f} [{r['margin_ci_low']:+.2f}, {r['margin_ci_high']:+.2f}]", str(r["n"]),
                     str(r["controls"]))
    console.print(show)
    if out is not None:
        console.print(f"appended to {runs.append_belief(table, out)}")
        from negprobe.analysis.belief import read_belief_csv

        table = read_belief_csv(out)  # the controls over every row of the file (base, local, positive)
    for line in runs.belief_notes(table, claim):
        console.print(line)


module_commands.register(app)


def _quiet_libraries() -> None:
    """No third-party progress bars, warnings or advisory logging: an error must be the only line on stderr."""
    import warnings

    warnings.simplefilter("ignore")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "transformers" in sys.modules:  # imported already (in-process callers): the variables were read
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()


def _fail(message: str, code: int = 2) -> NoReturn:
    sys.stdout.flush()
    err_console.print(f"negprobe: error: {' '.join(message.split())}", markup=False, highlight=False, emoji=False,
                      soft_wrap=True)
    sys.exit(code)


def _notices(show: bool) -> None:
    """The --drop-conflicts notices the run kept: printed after a success, dropped after an error."""
    os.environ.pop("NEGPROBE_DEFER_NOTICES", None)
    loaders = sys.modules.get("negprobe.activations.datasets.loaders")  # not imported: nothing to print
    while loaders is not None and loaders.NOTICES:
        notice = loaders.NOTICES.pop(0)
        if show:
            err_console.print(notice, markup=False, highlight=False, emoji=False, soft_wrap=True)


def main() -> None:
    """Run the CLI: a bad input or usage error is one ``negprobe: error:`` line on stderr and exit status 2."""
    os.environ["NEGPROBE_DEFER_NOTICES"] = "1"
    try:
        _main()
    finally:
        _notices(show=False)  # a success printed them already


def _main() -> None:
    """The run and its error lines: OSError and out-of-memory are one line with exit status 1, other
    unexpected exceptions keep their traceback (a bug stays visible)."""
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
    from typer.exceptions import Abort

    _quiet_libraries()
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UsageError as exc:
        command = f"{exc.ctx.info_name}: " if exc.ctx is not None and exc.ctx.parent is not None else ""
        _fail(command + exc.format_message())
    except NegprobeError as exc:
        _fail(str(exc), exc.exit_code)
    except (KeyboardInterrupt, Abort):
        err_console.print("negprobe: interrupted")
        sys.exit(130)
    except OSError as exc:  # ENOSPC, EACCES, EISDIR, ... while working: the file and the reason
        name = exc.filename or exc.filename2
        _fail(f"{name}: {exc.strerror or exc}" if name else str(exc.strerror or exc), 1)
    except MemoryError as exc:
        _fail(f"out of memory ({exc or 'host'}); a resumable fine-tune keeps its checkpoint", 1)
    except RuntimeError as exc:
        if type(exc).__name__ != "OutOfMemoryError":  # torch.OutOfMemoryError; anything else is a bug: traceback
            raise
        _fail(f"out of GPU memory ({str(exc).splitlines()[0] if str(exc) else ''}); try a smaller batch", 1)
    _notices(show=True)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
