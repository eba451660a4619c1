"""``negprobe organism``: train (or reuse) the notice-reading organism and evaluate it against its base
(issue 16; registered in :mod:`.cli`).

Inputs are checked before any model loads. The organism folder is written all at once by
:func:`~negprobe.activations.organism.train_organism`; the report files are each written atomically,
and a report folder this command created is removed again when it fails.
"""

from __future__ import annotations

from pathlib import Path

import typer

from negprobe.errors import NegprobeError

from . import runs


def organism(
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Base model: embedded name, local folder or hub id."),
    steps: int | None = typer.Option(None, help="Optimizer steps of supervised fine-tuning [default: the recipe's]."),
    n_examples: int | None = typer.Option(None, "--examples", help="Training questions (plus base-model replies)."),
    seed: int = typer.Option(0, help="Data, LoRA and sampling seed."),
    lr: float | None = typer.Option(None, help="AdamW learning rate."),
    method: str | None = typer.Option(None, help="lora (an adapter on every linear layer, merged) or full."),
    replay: str | None = typer.Option(None, help="How the base's replies keep its language: kl (KL to the frozen "
                                      "base at every token) or tokens (cross-entropy on the sampled replies)."),
    kl_weight: float | None = typer.Option(None, help="Weight of the KL replay term (--replay kl)."),
    data_version: int | None = typer.Option(None, help="Training data design: 3, or 4 (contrastive pairs and "
                                            "notices scoped to their document)."),
    folder: Path | None = typer.Option(None, "--organism-dir", help="Where the organism is saved "
                                       "[default: $NEGPROBE_HOME/organisms/<model>, loadable as organism:<model>]."),
    out: Path = typer.Option(Path("negprobe-out/organism"), "--out", "-o", help="Report folder."),
    evaluate: bool = typer.Option(True, "--evaluate/--no-evaluate", help="Measure the organism against its base."),
    control_units: int = typer.Option(40, help="Held-out entity pairs per shortcut control."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Train a model that reads notices in context (claims never in its data), then check it: bare questions,
    in-context notice gap, shortcut controls, known facts, held-out prose perplexity."""
    from negprobe.activations.config import removed_on_error
    from negprobe.activations.models import load_model
    from negprobe.activations.organism import OrganismConfig, train_organism
    from negprobe.analysis.organism_report import check_model, compare, markdown, write_report

    if control_units < 2:
        raise NegprobeError(f"--control-units must be >= 2 (a CI needs two units), got {control_units}")
    chosen = {"n_examples": n_examples, "steps": steps, "lr": lr, "method": method, "replay": replay,
              "kl_weight": kl_weight, "data_version": data_version}  # unset options keep OrganismConfig's recipe
    config = OrganismConfig(model=model, seed=seed, **{k: v for k, v in chosen.items() if v is not None})  # checks
    runs.check_models([model], [])
    runs.check_outputs((out, "--out", "folder"), (folder, "--organism-dir", "folder"))
    trained = train_organism(config, folder, progress=not quiet)
    print(f"organism: {trained}")
    if not evaluate:
        return
    with removed_on_error(out):
        base = check_model(load_model(model), n_control_units=control_units, echo=print)
        tuned = check_model(load_model(str(trained)), n_control_units=control_units, echo=print)
        report = compare(base, tuned)
        paths = write_report(report, out)
    print(markdown(report))
    print(paths[0].parent.resolve())
