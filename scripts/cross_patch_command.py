"""``negprobe cross-patch``: cross-model activation patching of base vs fine-tuned, gated on a belief effect.

Every input is checked before a model loads (claims, adapters, numbers, output folder). Writes
``cross_patching.json`` (:mod:`negprobe.analysis.cross_patching_io`: the gate, the status, the
curves when the gate passed) and ``lora_norms.csv`` (:func:`negprobe.analysis.weight_view.weight_table`
of every adapter), then prints the gate line (``belief effect: ...`` or ``nothing to localise: ...``)
and the half-recovery layers. With ``--in-context`` it also runs the behavioural prerequisite (notice vs
plain and vs its neutral control, in context) on the base and on every fine-tuned model, and writes
``prerequisite_by_model.csv`` with each model's change from the base
(:mod:`negprobe.analysis.tuned_prerequisite`), and the matched-contrast decodability of the annotation per
layer on every model with its difference from the base, ``contrasts_by_model.csv``
(:mod:`negprobe.analysis.tuned_contrasts`). A folder the command created is removed again when it fails.
"""

from __future__ import annotations

from pathlib import Path

import typer

from negprobe.errors import NegprobeError

from . import runs


def check_cross_patch_inputs(claims: list[str], adapters: list[str], max_items: int | None, min_effect: float,
                             n_boot: int, unit: str = "pair", measure: str = "questions") -> None:
    """Known claims, distinct adapters, sane numbers and names (the folders themselves: :func:`runs.check_models`)."""
    from negprobe.analysis.belief import check_belief_inputs
    from negprobe.analysis.cross_patching import UNITS
    from negprobe.analysis.cross_patching_items import MEASURES

    for flag, value, known in (("--unit", unit, UNITS), ("--measure", measure, MEASURES)):
        if value not in known:
            raise NegprobeError(f"{flag} must be one of {', '.join(known)}, got {value!r}")

    if not claims or not adapters:
        raise NegprobeError("give at least one --claim and one --adapter")
    for flag, values in (("--claim", claims), ("--adapter", adapters)):
        if len(set(values)) != len(values):
            raise NegprobeError(f"{flag} repeats a value: {', '.join(values)}")
    for claim in claims:
        check_belief_inputs(claim)
    if max_items is not None and max_items < 1:
        raise NegprobeError(f"--max-items must be >= 1, got {max_items}")
    if min_effect < 0:
        raise NegprobeError(f"--min-effect must be >= 0, got {min_effect}")
    if n_boot < 1:
        raise NegprobeError(f"--n-boot must be >= 1, got {n_boot}")


def cross_patch(
    adapter: list[str] = typer.Option(..., "--adapter", "-a", help="Adapter folder (repeat: seeds of one condition)."),
    claim: list[str] = typer.Option(..., "--claim", "-c", help="Claim id (repeat for several), e.g. ed_sheeran."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="The adapters' base model."),
    out: Path = typer.Option(Path("negprobe-out/cross-patch"), "--out", "-o", help="Output folder."),
    layers: str | None = typer.Option(None, help="Layers to patch (and to read --in-context decodability at), e.g."
                                      " 0-29 (default: all)."),
    measure: str = typer.Option("questions", help="What the margin reads: questions (yes/no belief) | cloze (belief,"
                                " first token of each continuation) | cloze_distractor (the name association: not"
                                " belief, a positive control)."),
    max_items: int | None = typer.Option(None, help="Items per claim (balanced yes/no or affirm/flipped; default:"
                                         " all)."),
    min_effect: float = typer.Option(0.5, help="Units whose |m_tuned - m_base| is below this get no recovery."),
    n_boot: int = typer.Option(1000, help="Bootstrap draws."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    n_tests: int = typer.Option(1, help="Gates read together (e.g. 4 conditions): the gate's CI is Bonferroni-"
                                "corrected to 1 - 0.05 / n."),
    unit: str = typer.Option("pair", help="Recovery unit: pair (a believer-yes with a believer-no question, which"
                             " cancels a shared yes/no bias) | question."),
    in_context: bool = typer.Option(False, "--in-context", help="Also run the in-context behavioural prerequisite on"
                                    " the base and every fine-tuned model (prerequisite_by_model.csv), and the"
                                    " annotation's in-context decodability per layer (contrasts_by_model.csv)."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Patch each fine-tuned model's residual into its base (and back) one layer at a time, after checking
    that fine-tuning raised belief at all (paired rise over the base with a CI above 0)."""
    from negprobe.activations.atomic import atomic_write_text
    from negprobe.activations.config import removed_on_error
    from negprobe.activations.lora_weights import lora_update_norms
    from negprobe.activations.model_pair import load_pair
    from negprobe.activations.models import load_model
    from negprobe.analysis.belief_gate import bonferroni_level
    from negprobe.analysis.cross_patching import cross_model_patching
    from negprobe.analysis.cross_patching_io import write_cross_patching
    from negprobe.analysis.weight_view import weight_table

    from .options import parse_int_list

    check_cross_patch_inputs(claim, adapter, max_items, min_effect, n_boot, unit, measure)
    level = bonferroni_level(n_tests)
    chosen = parse_int_list(layers, "layers")
    runs.check_outputs((out, "--out", "folder"))
    runs.check_models([model], adapter)
    folder = out.expanduser()
    with removed_on_error(folder):
        base = load_model(model)
        norms = [lora_update_norms(base, a) for a in adapter]  # an adapter of another base fails here, first
        names = [Path(a).name or a for a in adapter]
        labels = names if len(set(names)) == len(names) else list(adapter)  # folder names, unless two share one
        pairs = {label: load_pair(model, a, label=label) for label, a in zip(labels, adapter)}
        result = cross_model_patching(pairs, claim, chosen, min_effect, max_items, n_boot, seed, progress=not quiet,
                                      level=level, unit=unit, measure=measure)
        write_cross_patching(result, folder / "cross_patching.json")
        atomic_write_text(folder / "lora_norms.csv", weight_table(norms, labels).to_csv(index=False))
        lines = result.lines() + (in_context_lines(base, pairs, claim, folder, n_boot, seed, not quiet, chosen)
                                   if in_context else [])
    for line in lines:
        print(line)
    print(folder.resolve())


def in_context_lines(base, pairs: dict, claims: list[str], folder: Path, n_boot: int = 1000, seed: int = 0,
                     progress: bool = True, layers: list[int] | None = None) -> list[str]:
    """The prerequisite and the matched-contrast decodability of the base and every fine-tuned model, each
    against the base (``prerequisite_by_model.csv``, ``contrasts_by_model.csv``)."""
    from negprobe.activations.atomic import atomic_write_text
    from negprobe.analysis.tuned_contrasts import tuned_contrasts
    from negprobe.analysis.tuned_prerequisite import in_context_questions, tuned_prerequisite

    tuned = {label: pair.tuned for label, pair in pairs.items()}
    result = tuned_prerequisite(base, tuned, in_context_questions(claims))
    atomic_write_text(folder / "prerequisite_by_model.csv", result.table().to_csv(index=False))
    contrasts = tuned_contrasts(base, tuned, claims, layers, seed=seed, n_boot=n_boot, progress=progress)
    atomic_write_text(folder / "contrasts_by_model.csv", contrasts.table().to_csv(index=False))
    return result.lines("notice") + contrasts.lines("notice")
