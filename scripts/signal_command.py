"""``negprobe signal``: the training-signal analysis of matched documents (registered in :mod:`.cli`).

Everything is checked before the model loads (claims, annotation, number of pairs, output folder,
device); the folder's files are each written atomically once every gradient is computed, and a
folder the command created is removed again when it fails.
"""

from __future__ import annotations

from pathlib import Path

import typer

from negprobe.errors import NegprobeError

from . import runs


def check_signal_inputs(claims: list[str], condition: str, pairs: int, sentences: str) -> None:
    """Known claims with documents, a known annotation and sentence choice, ``pairs`` >= 1 within the corpus."""
    from negprobe.activations.finetune.documents import max_documents
    from negprobe.activations.finetune.matched import SIGNAL_CONDITIONS
    from negprobe.activations.training_signal import SENTENCE_CHOICES

    if condition not in SIGNAL_CONDITIONS:
        raise NegprobeError(f"--condition {condition!r}: use one of {', '.join(SIGNAL_CONDITIONS)}")
    if sentences not in SENTENCE_CHOICES:
        raise NegprobeError(f"--sentences {sentences!r}: use one of {', '.join(SENTENCE_CHOICES)}")
    if pairs < 1:
        raise NegprobeError(f"--pairs must be an integer >= 1, got {pairs}")
    if not claims:
        raise NegprobeError("give at least one --claim")
    if len(set(claims)) != len(claims):
        raise NegprobeError(f"--claim repeats a claim: {', '.join(claims)}")
    for claim in claims:
        cap = max_documents(claim)  # an unknown claim, or one without documents, fails here
        if pairs > cap:
            raise NegprobeError(f"--pairs {pairs}: claim {claim!r} has {cap} distinct documents")


def probe_writable(folder: Path) -> None:
    """Create ``folder`` and write (then remove) a file in it, so an unwritable ``--out`` fails before the work."""
    from negprobe.activations.atomic import atomic_write_text

    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / ".negprobe-write-check", "").unlink()
    except OSError as exc:
        raise NegprobeError(f"--out {folder}: cannot write there ({exc.strerror or exc})") from None


def signal(
    claim: list[str] = typer.Option(..., "--claim", "-c", help="Claim id (repeat for several), e.g. ed_sheeran."),
    condition: str = typer.Option("negated", "--condition", help="Annotation: negated (document NOTICE) or dense "
                                  "(bracketed notes around every claim sentence)."),
    pairs: int = typer.Option(10, "--pairs", "-n", help="Matched document pairs per claim."),
    out: Path = typer.Option(Path("negprobe-out/signal"), "--out", "-o", help="Output folder."),
    model: str = typer.Option("smollm2-135m", "--model", "-m", help="Embedded name, local folder or hub id."),
    sentences: str = typer.Option("first", help="Claim sentences in the loss: first | all."),
    seed: int = typer.Option(0, help="Document and bootstrap seed."),
    device: str | None = typer.Option(None, help="torch device, e.g. cuda:0"),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Training signal: gradient cosine of the claim-token loss between a document with and without its
    annotation (and a neutral control), per layer and LoRA target module, and the claim-token losses."""
    from negprobe.activations.config import removed_on_error
    from negprobe.activations.models import load_model
    from negprobe.activations.training_signal import training_signal
    from negprobe.analysis.signal_figure import write_signal_report
    from negprobe.analysis.training_signal import summarize_signal, summary_lines

    check_signal_inputs(claim, condition, pairs, sentences)
    runs.check_outputs((out, "--out", "folder"))
    runs.check_device(device)
    runs.check_models([model], [])
    folder = Path(out).expanduser()
    with removed_on_error(folder):
        probe_writable(folder)
        loaded = load_model(model, dtype="float32", device=device)
        result = training_signal(loaded, claim, condition, pairs, seed=seed, sentences=sentences, progress=not quiet)
        summary = summarize_signal(result, seed=seed)
        write_signal_report(summary, folder)
    for line in summary_lines(summary):
        print(line)
    print(folder.resolve())
