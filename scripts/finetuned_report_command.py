"""``negprobe finetuned-report``: the per-layer overlay of the fine-tuned analyses, from files other commands wrote.

Reads any of ``--localize DIR`` (``negprobe localize``'s report folder), ``--signal DIR`` (``negprobe
signal``), ``--cross-patching FILE`` and ``--weights FILE`` (``negprobe cross-patch``'s
``cross_patching.json`` and ``lora_norms.csv``), ``--contrasts FILE`` (``negprobe cross-patch --in-context``'s
``contrasts_by_model.csv``) and ``--layer-sweep DIR`` (``layer_gaps.csv``); every input is read and checked before anything is
written, and a folder the command created is removed again when it fails
(:mod:`negprobe.analysis.finetuned_report`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from negprobe.errors import NegprobeError

from . import runs

CURVE_CHOICES = {"all": "tuned -> base, all positions", "claim": "tuned -> base, claim tokens"}


def finetuned_report(
    localize: Path | None = typer.Option(None, "--localize", help="negprobe localize report folder (claim_patching.csv)."),
    signal: Path | None = typer.Option(None, "--signal", help="negprobe signal output folder (signal_claims.csv)."),
    cross_patching: Path | None = typer.Option(None, "--cross-patching", help="cross_patching.json (negprobe cross-patch)."),
    weights: Path | None = typer.Option(None, "--weights", help="lora_norms.csv (negprobe cross-patch)."),
    contrasts: Path | None = typer.Option(None, "--contrasts", help="contrasts_by_model.csv (cross-patch --in-context)."),
    layer_sweep: Path | None = typer.Option(None, "--layer-sweep", help="negprobe layer-sweep folder (layer_gaps.csv)."),
    measure: str = typer.Option("questions", help="Belief measure of the layer-sweep gaps: questions | mcq | cloze."),
    annotation: str = typer.Option("notice", help="The in-context annotation to show: notice | dense | local."),
    curve: str = typer.Option("all", help="Cross-model patching curve: all (positions) | claim (tokens)."),
    out: Path = typer.Option(Path("negprobe-out/finetuned"), "--out", "-o", help="Output folder."),
    seed: int = typer.Option(0, help="Bootstrap seed of the training-signal divergence (as negprobe signal's)."),
) -> None:
    """Per layer, side by side: in-context annotation use, training-signal divergence, cross-model patching
    recovery, LoRA update norm and the fine-tuned models' in-context decodability change, with a findings
    paragraph from gated numbers only."""
    from negprobe.activations.config import removed_on_error
    from negprobe.analysis.finetuned_report import findings_paragraph, write_finetuned_report
    from negprobe.analysis.finetuned_series import (
        CONTRASTS,
        IN_CONTEXT,
        PATCHING,
        SIGNAL,
        WEIGHTS,
        contrasts_series,
        in_context_series,
        patching_series,
        signal_series,
        weight_series,
    )
    from negprobe.analysis.finetuned_windows import read_window_gaps

    if curve not in CURVE_CHOICES:
        raise NegprobeError(f"--curve {curve!r}: use one of {', '.join(CURVE_CHOICES)}")
    if localize is signal is cross_patching is weights is contrasts is layer_sweep is None:
        raise NegprobeError("give at least one of --localize, --signal, --cross-patching, --weights, --contrasts,"
                            " --layer-sweep")
    runs.check_inputs((localize, "--localize", "folder"), (signal, "--signal", "folder"),
                      (cross_patching, "--cross-patching", "file"), (weights, "--weights", "file"),
                      (contrasts, "--contrasts", "file"),
                      (layer_sweep, "--layer-sweep", "folder"))
    runs.check_outputs((out, "--out", "folder"))
    patching = None if cross_patching is None else patching_series(cross_patching.expanduser(), CURVE_CHOICES[curve])[0]
    series = {IN_CONTEXT: None if localize is None else in_context_series(localize.expanduser(), annotation),
              SIGNAL: None if signal is None else signal_series(signal.expanduser(), seed=seed),
              PATCHING: patching, WEIGHTS: None if weights is None else weight_series(weights.expanduser(), patching),
              CONTRASTS: None if contrasts is None else contrasts_series(contrasts.expanduser(), annotation)}
    windows = None if layer_sweep is None else read_window_gaps(layer_sweep.expanduser(), measure)
    folder = out.expanduser()
    with removed_on_error(folder):
        write_finetuned_report(series, folder, windows)
    print(findings_paragraph(series, windows))
    print(folder.resolve())
