"""Benchmark: the training-signal analysis for 6 claims x 10 matched document pairs (not a timed test).

    python -m negprobe.scripts.bench_signal [--model smollm2-135m] [--pairs 10] [--threads 2] [--out DIR]

Times each stage (model load, matched documents, claim-token gradients of the plain, annotated and
neutral document of every pair, the claim-bootstrap aggregation, the report) and prints them with the
findings: the gradient cosine per layer (mean [95% CI] over claims) of each comparison, the
annotation-specific divergence and the claim-token losses. Target: <= 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from negprobe.activations.datasets.claims import CLAIM_IDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--claims", default=",".join(CLAIM_IDS[:6]), help="Comma-separated claim ids.")
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--condition", default="negated")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="Report folder (default: a temporary one).")
    args = parser.parse_args()

    import torch

    from negprobe.activations.finetune.matched import matched_documents
    from negprobe.activations.models import load_model
    from negprobe.activations.progress import StageClock, timing_table
    from negprobe.activations.training_signal import training_signal
    from negprobe.analysis.signal_figure import write_signal_report
    from negprobe.analysis.training_signal import summarize_signal, summary_lines

    torch.set_num_threads(args.threads)
    claims = [c.strip() for c in args.claims.split(",") if c.strip()]
    clock = StageClock(echo=print)
    with clock("load model"):
        model = load_model(args.model, dtype="float32")
    with clock("matched documents"):
        for claim in claims:
            matched_documents(claim, args.condition, args.pairs)
    with clock(f"gradients ({len(claims)} claims x {args.pairs} pairs x 3 documents)"):
        signal = training_signal(model, claims, args.condition, args.pairs)
    with clock("aggregate (claim bootstrap)"):
        summary = summarize_signal(signal)
    with tempfile.TemporaryDirectory() as tmp, clock("report (figure, html, tables)"):
        write_signal_report(summary, Path(args.out) if args.out else Path(tmp))
    print(f"{model.describe()}; torch threads {torch.get_num_threads()}")
    print(timing_table(clock.stages))
    tokens = signal.n_tokens.sum()
    print(f"{len(signal.claims)} pairs, {tokens} document tokens; {signal.seconds / len(signal.claims):.1f} s per pair")
    for line in summary_lines(summary):
        print(line)


if __name__ == "__main__":
    main()
