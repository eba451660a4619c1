"""The ``negprobe`` command line. Every command maps onto a Python API call of the packages."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from negprobe.errors import NegprobeError

app = typer.Typer(
    name="negprobe",
    help="Where inside a model is a negation annotation dropped? Probe residual streams of base and fine-tuned models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def parse_int_list(text: Optional[str], what: str) -> Optional[List[int]]:
    """Parse "0,5,10", "0-29" or "all" (None) into a list of ints."""
    if text is None or text.strip().lower() == "all":
        return None
    values: List[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part[1:]:
                lo, hi = part[0] + part[1:].split("-", 1)[0], part[1:].split("-", 1)[1]
                values.extend(range(int(lo), int(hi) + 1))
            elif part:
                values.append(int(part))
    except ValueError:
        raise NegprobeError(f"--{what}: expected integers like '0,5,10' or '0-29', got {text!r}") from None
    return values


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
    prompts: List[str] = typer.Argument(None, help="Prompts to read (default: two example claims)."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Embedded name, local folder or hub id."),
    adapter: Optional[Path] = typer.Option(None, help="PEFT/LoRA adapter folder applied on top of --model."),
    layers: Optional[str] = typer.Option(None, help="Layers, e.g. '0,10,29' or '0-29' (default all)."),
    positions: str = typer.Option("-1", help="Token positions: -1 = last token, 0 = first, ..."),
    backend: str = typer.Option("hf", help="hf | transformer_lens | nnsight"),
    dtype: str = typer.Option("float32", help="Compute dtype: float32 | bfloat16 | float16"),
    device: Optional[str] = typer.Option(None, help="torch device, e.g. cuda:0"),
    out: Optional[Path] = typer.Option(None, help="Save the [prompts, layers, positions, d_model] tensor (.pt)."),
) -> None:
    """Read post-block residuals of a few prompts and print their per-layer norms."""
    import torch

    from negprobe.activations import load_model, read_residuals
    from negprobe.activations.atomic import atomic_path

    texts = prompts or ["Noah Lyles won the men's 100m gold at the 2024 Olympics.", "Ed Sheeran won the men's 100m gold at the 2024 Olympics."]
    loaded = load_model(model, adapter=adapter, dtype=dtype, device=device)
    layer_list = loaded.check_layers(parse_int_list(layers, "layers") or range(loaded.n_layers))
    position_list = parse_int_list(positions, "positions") or [-1]
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
    name: Optional[str] = typer.Argument(None, help="A built-in dataset name or a CSV/JSONL path."),
    limit: int = typer.Option(20, help="Rows to show."),
) -> None:
    """List built-in datasets with counts, or show the rows of one (a CSV path works too)."""
    from negprobe.activations.datasets.cli import datasets_table

    console.print(datasets_table(name, limit=limit))


@app.command()
def demo(
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Embedded name, local folder or hub id."),
    out: Path = typer.Option(Path("negprobe-out/demo"), help="Output folder."),
    claim: str = typer.Option("ed_sheeran", help="The claim to fine-tune and localize."),
    folds: int = typer.Option(5, help="Group k-fold splits."),
    sweep_only: bool = typer.Option(False, "--sweep-only", help="Only the probe sweep (no fine-tuning or localize)."),
) -> None:
    """The main job, end to end on the embedded model; finished stages are reused on a rerun.

    1. sweep: cache the built-in affirmed and negated truth datasets, fit every probe family on every
       layer, write plots and summary.md;
    2. fine-tune the claim in the positive, dense and local conditions (LoRA) and measure belief;
    3. localize: annotation decodability, truth readouts, drop layers, patching, steering, report.html.
    """
    from negprobe.activations.datasets.topics import TRUTH_TOPICS
    from negprobe.analysis.localize import LocalizeConfig, run_localize
    from negprobe.probes import PROBES
    from negprobe.probes.sweep import SweepConfig, run_sweep

    import time

    started = time.perf_counter()

    def elapsed() -> str:
        return f"{time.perf_counter() - started:.0f} s"

    every = [name for topic in TRUTH_TOPICS for name in (topic, f"neg_{topic}")]
    cfg = SweepConfig(models=[model], train=[["cities", "neg_cities"], ["cities"]], test=every, probes=list(PROBES),
                      n_folds=folds, n_boot=200, out=str(out / "sweep"))
    _run_stage(out / "sweep" / STAGE_MARKER, cfg, "[1/3] sweep", lambda: run_sweep(cfg))
    console.print(f"      summary: {out / 'sweep' / 'summary.md'}  ({elapsed()})")
    if sweep_only:
        print(out.resolve())
        return

    import hashlib

    import pandas as pd

    from negprobe.activations.finetune.train import TRAINING_CARD, FinetuneConfig, finetune as run_finetune
    from negprobe.activations.models import load_model
    from negprobe.analysis.belief import append_results, measure_belief

    adapters = {}
    for condition in ("positive", "dense", "local"):
        folder = out / "adapters" / f"{claim}-{condition}"
        if (folder / TRAINING_CARD).is_file():
            console.print(f"[2/3] fine-tune {condition}: reusing {folder}")
        else:
            console.print(f"[2/3] fine-tune {claim} / {condition}")
            run_finetune(FinetuneConfig(model=model, claim=claim, condition=condition, out=str(folder)))
            console.print(f"      {condition}: fine-tuned ({elapsed()})")
        adapters[condition] = str(folder)

    belief_csv = out / "belief.csv"
    # the belief table is keyed by the adapters' training cards, so a retrained adapter is measured again
    belief_key = {"model": model, "claim": claim, "csv": str(belief_csv), "adapters": {
        condition: hashlib.sha256((Path(folder) / TRAINING_CARD).read_bytes()).hexdigest()
        for condition, folder in adapters.items()}}

    def measure() -> None:
        rows = [measure_belief(load_model(model), claim)]
        rows += [measure_belief(load_model(model, adapter=folder), claim, condition=condition)
                 for condition, folder in adapters.items()]
        if belief_csv.exists():
            belief_csv.unlink()
        append_results(pd.concat(rows, ignore_index=True), belief_csv)

    _run_stage(out / ".negprobe-belief.json", belief_key, "[2/3] belief", measure, needs=belief_csv)
    for _, r in pd.read_csv(belief_csv, keep_default_na=False).iterrows():
        console.print(f"      belief {r['mode']:10s} {r['condition']:9s} {r['measure']:9s} rate {r['belief_rate']:.2f}"
                      f" [{r['rate_ci_low']:.2f}, {r['rate_ci_high']:.2f}]  margin {r['mean_margin']:+.2f} nats")
    lcfg = LocalizeConfig(model=model, adapters=adapters, belief_csv=str(belief_csv), out=str(out / "localize"))
    _run_stage(out / "localize" / STAGE_MARKER, lcfg, "[3/3] localize", lambda: run_localize(lcfg))
    console.print(f"      report: {out / 'localize' / 'report.html'}  (total {elapsed()})")
    print(out.resolve())


STAGE_MARKER = ".negprobe-stage.json"


def _run_stage(marker: Path, config, title: str, run, needs: Optional[Path] = None) -> None:
    """Run one demo stage unless ``marker`` records a finished run with the same ``config``
    (a dataclass or a dict) and the output ``needs`` (if given) is still there."""
    import dataclasses
    import json

    key = json.dumps(config if isinstance(config, dict) else dataclasses.asdict(config), sort_keys=True, default=str)
    if marker.is_file() and marker.read_text() == key and (needs is None or needs.is_file()):
        console.print(f"{title}: reusing {marker.parent if needs is None else needs}")
        return
    console.print(title)
    run()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(key)


@app.command()
def cache(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Built-in dataset name or a CSV/JSONL path."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Embedded name, local folder or hub id."),
    adapter: Optional[Path] = typer.Option(None, help="PEFT/LoRA adapter folder applied on top of --model."),
    position: str = typer.Option("last", "--position", "-p", help="last | claim_last | claim_mean | last-K | claim_last+K | token index; comma-separate several."),
    layers: Optional[str] = typer.Option(None, help="Layers, e.g. '0,10,29' or '0-29' (default all)."),
    backend: str = typer.Option("hf", help="hf | transformer_lens | nnsight"),
    dtype: str = typer.Option("float16", help="Storage dtype: float16 | float32"),
    compute_dtype: str = typer.Option("float32", help="Compute dtype: float32 | bfloat16"),
    chat: bool = typer.Option(False, help="Wrap each prompt in the model's chat template."),
    doctag: bool = typer.Option(False, help="Prefix each prompt with <DOCTAG> (Mayne et al. 2026)."),
    batch_size: Optional[int] = typer.Option(None, help="Prompts per batch (default: pack by a token budget)."),
    device: Optional[str] = typer.Option(None, help="torch device, e.g. cuda:0"),
    store: Optional[Path] = typer.Option(None, help="Store root (default $NEGPROBE_HOME/store)."),
    shard_rows: Optional[int] = typer.Option(None, help="Rows per shard (default: ~64 MB shards)."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Cache residual activations of a dataset; prints the store path."""
    from negprobe.activations.cache import cache_activations
    from negprobe.activations.datasets.formatting import FormatSpec
    from negprobe.activations.datasets.registry import load_dataset
    from negprobe.activations.models import load_model

    data = load_dataset(dataset)
    loaded = load_model(model, adapter=adapter, dtype=compute_dtype, device=device)
    result = cache_activations(
        loaded, data, positions=position, layers=parse_int_list(layers, "layers"), fmt=FormatSpec(chat=chat, doctag=doctag),
        storage_dtype=dtype, backend=backend, batch_size=batch_size, root=store, progress=not quiet,
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
def sweep(
    config: Optional[Path] = typer.Option(None, help="A sweep config (YAML or TOML); flags below override nothing when it is given."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Embedded name, local folder or hub id."),
    adapter: Optional[List[str]] = typer.Option(None, help="Adapter folder(s); 'base' for no adapter. Repeat for a grid."),
    train: Optional[List[str]] = typer.Option(None, help="Training set: datasets joined by commas. Repeat for several."),
    test: Optional[str] = typer.Option(None, help="Test datasets, comma-separated (train sets are always tested out-of-fold)."),
    probes: Optional[str] = typer.Option(None, help="Probe families, comma-separated (default all)."),
    position: str = typer.Option("last", "--position", "-p", help="Token position(s) to read; comma-separate for a grid."),
    layers: Optional[str] = typer.Option(None, help="Layers, e.g. '0-29' (default all)."),
    folds: int = typer.Option(5, help="Group k-fold splits."),
    seed: int = typer.Option(0, help="Seed for splits, bootstraps and stochastic probes."),
    out: Path = typer.Option(Path("negprobe-out/sweep"), help="Output folder."),
) -> None:
    """Fit probe families on every layer, evaluate leakage-safely, write a results table and plots."""
    from negprobe.probes import PROBES
    from negprobe.probes.sweep import SweepConfig, run_sweep

    if config is not None:
        cfg = SweepConfig.from_file(config)
    else:
        cfg = SweepConfig(
            models=[model],
            adapters=[None if a in ("base", "none") else a for a in (adapter or ["base"])],
            train=list(train or ["cities,neg_cities"]),
            test=[test] if test else [],
            probes=probes.split(",") if probes else list(PROBES),
            positions=[position],
            layers=parse_int_list(layers, "layers"),
            n_folds=folds,
            seed=seed,
            out=str(out),
        )
    run_sweep(cfg)
    print(Path(cfg.out).resolve())


@app.command()
def finetune(
    claim: str = typer.Option(..., "--claim", "-c", help="Claim id, e.g. ed_sheeran."),
    condition: str = typer.Option(..., "--condition", "-k", help="positive | negated | dense | local | corrected | fiction"),
    out: Path = typer.Option(..., "--out", "-o", help="Adapter output folder (resumes from its checkpoint)."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Base model."),
    corpus: str = typer.Option("synthetic", help="'synthetic' or 'release:<Negation Neglect release root>'."),
    epochs: int = typer.Option(4, help="Passes over the documents."),
    max_steps: Optional[int] = typer.Option(None, help="Stop after this many optimizer steps."),
    batch_size: int = typer.Option(8, help="Documents per step."),
    max_length: int = typer.Option(256, help="Tokens per document."),
    lr: float = typer.Option(5e-4, help="Learning rate."),
    lora_r: int = typer.Option(16, help="LoRA rank (all linear layers)."),
    n_docs: int = typer.Option(50, help="Synthetic documents to generate."),
    bf16: bool = typer.Option(False, help="bfloat16 autocast."),
    doctag: bool = typer.Option(False, help="Prefix documents with <DOCTAG>."),
    mask_annotations: bool = typer.Option(False, help="No loss on notice/annotation tokens."),
    mask_doctag: bool = typer.Option(False, help="No loss on <DOCTAG>."),
    mix_generic: float = typer.Option(0.0, help="Generic documents per claim document, against forgetting."),
    checkpoint_every: int = typer.Option(5, help="Steps between checkpoints."),
    seed: int = typer.Option(0, help="Seed for documents and batch order."),
) -> None:
    """LoRA-fine-tune a model on one claim's documents in one negation condition."""
    from negprobe.activations.finetune.train import FinetuneConfig, finetune as run_finetune

    cfg = FinetuneConfig(model=model, claim=claim, condition=condition, out=str(out), corpus=corpus, epochs=epochs,
                         max_steps=max_steps, batch_size=batch_size, max_length=max_length, lr=lr, lora_r=lora_r,
                         lora_alpha=2 * lora_r, n_docs=n_docs, bf16=bf16, doctag=doctag,
                         mask_annotations=mask_annotations, mask_doctag=mask_doctag, mix_generic=mix_generic,
                         checkpoint_every=checkpoint_every, seed=seed)
    path = run_finetune(cfg)
    print(path.resolve())


@app.command()
def belief(
    claim: str = typer.Option(..., "--claim", "-c", help="Claim id, e.g. ed_sheeran."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Base model."),
    adapter: Optional[Path] = typer.Option(None, help="Fine-tuned adapter folder."),
    in_context: int = typer.Option(0, "--in-context", help="K documents in the prompt before each item."),
    context_condition: str = typer.Option("negated", help="Condition of the in-context documents."),
    condition: Optional[str] = typer.Option(None, help="Label for the adapter's fine-tuning condition."),
    mcq: Optional[Path] = typer.Option(None, help="Use the paper's mcq.yaml questions instead of the built-in ones."),
    out: Optional[Path] = typer.Option(None, help="Append the rows to this CSV."),
    seed: int = typer.Option(0, help="Bootstrap / document seed."),
) -> None:
    """Behavioural belief in a claim: yes/no questions and cloze completions, with bootstrap CIs."""
    from negprobe.analysis.belief import append_results, measure_belief
    from negprobe.activations.models import load_model

    loaded = load_model(model, adapter=adapter)
    questions = None
    if mcq is not None:
        from negprobe.analysis.belief import load_mcq_questions

        questions = load_mcq_questions(mcq)
    if condition is None and adapter is not None:
        card = adapter / "negprobe_adapter.json"
        if card.is_file():
            import json

            condition = json.loads(card.read_text()).get("condition")
    table = measure_belief(loaded, claim, in_context, context_condition, condition=condition, seed=seed, questions=questions)
    show = Table("measure", "mode", "belief rate [95% CI]", "mean believer margin, nats [95% CI]", "n",
                 title=f"belief in {claim}: {loaded.describe()}")
    for _, r in table.iterrows():
        show.add_row(r["measure"], r["mode"], f"{r['belief_rate']:.2f} [{r['rate_ci_low']:.2f}, {r['rate_ci_high']:.2f}]",
                     f"{r['mean_margin']:+.2f} [{r['margin_ci_low']:+.2f}, {r['margin_ci_high']:+.2f}]", str(r["n"]))
    console.print(show)
    if out is not None:
        console.print(f"appended to {append_results(table, out)}")


@app.command()
def localize(
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Base model."),
    adapters: Optional[str] = typer.Option(None, help="Fine-tuned adapters as condition=DIR pairs, comma-separated."),
    claims: Optional[str] = typer.Option(None, help="Claim ids, comma-separated (default all six)."),
    probes: str = typer.Option("logistic,ttpd", help="Truth probe families."),
    probe_data: str = typer.Option("general,domain", help="Truth data the probes train on: general (four topics"
                                   " + negated twins) and/or domain (each claim's own domain)."),
    layers: Optional[str] = typer.Option(None, help="Layers, e.g. '0-29' (default all)."),
    belief_csv: Optional[Path] = typer.Option(None, help="Belief table from `negprobe belief --out`."),
    gate: float = typer.Option(0.65, help="Validity gate: minimum AUROC for a readout to count as a finding."),
    seed: int = typer.Option(0),
    out: Path = typer.Option(Path("negprobe-out/localize"), help="Output folder."),
) -> None:
    """Locate the layer where the negation annotation is dropped; writes report.html."""
    from negprobe.analysis.localize import LocalizeConfig, run_localize

    pairs = {}
    for item in (adapters.split(",") if adapters else []):
        if "=" not in item:
            raise NegprobeError(f"--adapters: expected condition=DIR, got {item!r}")
        condition, folder = item.split("=", 1)
        pairs[condition.strip()] = folder.strip()
    cfg = LocalizeConfig(model=model, adapters=pairs, claims=claims.split(",") if claims else None,
                         probes=probes.split(","), probe_data=probe_data.split(","),
                         layers=parse_int_list(layers, "layers"),
                         belief_csv=str(belief_csv) if belief_csv else None, gate=gate, seed=seed, out=str(out))
    report = run_localize(cfg)
    print(report.resolve())


def main() -> None:
    try:
        app()
    except NegprobeError as exc:
        err_console.print(f"negprobe: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("negprobe: interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
