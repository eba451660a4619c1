"""``negprobe answer-shift``: how far fine-tuning moves the yes/no answer itself, on the claim's questions
and on every other claim's (:mod:`negprobe.analysis.answer_shift`; registered in :mod:`.module_commands`).

Inputs are checked before a model loads; ``answer_shift.csv`` is written atomically and a folder this
command created is removed again when it fails.
"""

from __future__ import annotations

from pathlib import Path

import typer

from negprobe.errors import NegprobeError

from . import runs


def answer_shift(
    adapter: list[str] = typer.Option(..., "--adapter", "-a", help="Adapter folder (repeat: seeds or conditions)."),
    claim: list[str] = typer.Option(..., "--claim", "-c", help="The claim(s) the adapters were trained on."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="The adapters' base model."),
    off_claim: list[str] | None = typer.Option(None, "--off-claim", help="Claims whose questions serve as the"
                                               " off-claim control [default: every other paper claim]."),
    out: Path = typer.Option(Path("negprobe-out/answer-shift"), "--out", "-o", help="Output folder."),
    n_boot: int = typer.Option(2000, help="Bootstrap draws."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
) -> None:
    """Answer shift toward "yes" and balanced belief rise of each fine-tuned model over its base, on the claim's
    yes/no questions and on other claims' (a global yes bias vs a change specific to the claim); and the rise of
    the claim's name over its distractor after its own and other claims' name prefixes (a token prior vs an
    association)."""
    import pandas as pd

    from negprobe.activations.atomic import atomic_write_text
    from negprobe.activations.config import removed_on_error
    from negprobe.activations.datasets.claims import CLAIM_IDS
    from negprobe.activations.models import load_model
    from negprobe.analysis.answer_shift import answer_shift as measure
    from negprobe.analysis.answer_shift import name_prefixes, name_prior_shift, prior_table, shift_table
    from negprobe.analysis.belief import check_belief_inputs

    others = list(off_claim) if off_claim else [c for c in CLAIM_IDS if c not in claim]
    for c in [*claim, *others]:
        check_belief_inputs(c)
    if n_boot < 1:
        raise NegprobeError(f"--n-boot must be >= 1, got {n_boot}")
    if len(set(adapter)) != len(adapter):
        raise NegprobeError(f"--adapter repeats a value: {', '.join(adapter)}")
    runs.check_outputs((out, "--out", "folder"))
    runs.check_models([model], adapter)
    folder = out.expanduser()
    with removed_on_error(folder):
        base = load_model(model)
        names = [Path(a).name or a for a in adapter]
        labels = names if len(set(names)) == len(names) else list(adapter)
        tuned = {label: load_model(model, adapter=a) for label, a in zip(labels, adapter)}
        off = [c for c in others if c not in claim]
        shifts = measure(base, tuned, claim, off, n_boot, seed)
        priors = [p for c in claim if name_prefixes(c) for p in name_prior_shift(base, tuned, c, off, n_boot, seed)]
        table = pd.concat([shift_table(shifts), prior_table(priors)], ignore_index=True)
        atomic_write_text(folder / "answer_shift.csv", table.to_csv(index=False))
    for result in [*shifts, *priors]:
        print(result.line())
    print(folder.resolve())
