"""Benchmark: the localize step's patching, naive vs prefix reuse + batching, and attribution patching vs exact.

    python -m negprobe.scripts.bench_localize [--claims 6] [--paraphrases 10] [--layers-stride 1] [--threads 1]
                                              [--grid-pairs N] [--top-k 10] [--model smollm2-135m]

On the in-context question records (the ``notice`` document against the ``plain`` one, same claim
and paraphrase), target = plain run, source = annotated run, metric = the belief margin at the
last position (as the localize step's patching reads it), side by side in one process:

(a) exact patching of every claim token (claim sentence + question, aligned by
    :func:`~negprobe.analysis.token_alignment.claim_alignment`) x every layer, one cell at a time:
    *naive* (one full forward pass per cell with a hook) vs *prefix reuse + batching*
    (:func:`~negprobe.activations.tracing.run_layer_patches`, as the localize step runs it): both
    times, their ratio (target >= 3x) and the max abs difference of the patched margins (<= 1e-4);
(b) attribution patching (:mod:`negprobe.activations.attribution_patching`) over the full layer x
    aligned position grid (:func:`~negprobe.analysis.token_alignment.grid_alignment`) vs exact
    patching of the same grid (prefix reuse + batching) on the first ``--grid-pairs`` pairs: time
    ratio (target >= 20x), Spearman rank correlation and top-k agreement of the effects on the
    cells the exact sweeps cover (the full grid there, the claim-token cells of (a) on every pair).

Traces and the one-time prefix-reuse check run once before timing. ``torch.set_num_threads``
defaults to 1 (other jobs share the cores); ratios are measured side by side in one run.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class Totals:
    naive: float = 0.0
    reuse: float = 0.0
    max_diff: float = 0.0
    claim_cells: int = 0
    atp: float = 0.0  # attribution patching over the full grid, grid pairs only
    exact_grid: float = 0.0
    grid_cells: int = 0
    atp_all: float = 0.0  # attribution patching over the full grid, every pair
    claim_pairs: list = field(default_factory=list)  # (estimate, exact) on the claim cells, per pair
    grid_pairs: list = field(default_factory=list)  # (estimate, exact) on the full grid, per grid pair


def pairs_of(n_claims: int, n_paraphrases: int):
    """(annotated, plain) question records: notice vs plain, the first claims and paraphrases."""
    from negprobe.activations.datasets.claims import list_claims
    from negprobe.activations.datasets.in_context import build_in_context

    out = []
    for claim in list_claims()[:n_claims]:
        records = {(r.get_extra("paraphrase"), r.get_extra("kind")): r for r in build_in_context(claim.id)
                   if r.get_extra("probe") == "question"}
        paraphrases = sorted({str(p) for p, _ in records}, key=int)[:n_paraphrases]
        out += [(records[(p, "notice")], records[(p, "plain")]) for p in paraphrases]
    return out


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def naive_margins(model, target_ids, source_ids, cells, readout) -> np.ndarray:
    """One full forward pass per (layer, target, source) cell, the patch applied by a hook."""
    from negprobe.activations.interventions import cache_residuals, run_with_patch

    source = cache_residuals(model, source_ids)[:, 0]
    return np.array([float(readout(run_with_patch(model, target_ids, None, {layer: ([t], source[layer, [s]])},
                                                  last_only=True)[:, -1])[0]) for layer, t, s in cells])


def reuse_margins(model, target_ids, source_ids, layers, src_pos, tgt_pos, readout, max_rows: int) -> np.ndarray:
    """Prefix reuse + batching: one cached clean run per prompt, every (position, layer) variant batched."""
    from negprobe.activations.prefix_reuse import trace_prompt
    from negprobe.activations.tracing import LayerPatch, run_layer_patches

    target, source = trace_prompt(model, target_ids), trace_prompt(model, source_ids)
    patches = [LayerPatch.from_trace(source, layers, [s], [t]) for s, t in zip(src_pos, tgt_pos)]
    return run_layer_patches(model, target, layers, patches, readout, max_rows).T.numpy().ravel()  # layer-major


def exact_grid(model, target_ids, source_ids, cells, readout, max_rows: int) -> np.ndarray:
    from negprobe.activations.attribution_patching import exact_patching
    from negprobe.activations.prefix_reuse import trace_prompt

    target, source = trace_prompt(model, target_ids), trace_prompt(model, source_ids)
    return exact_patching(model, target, source, cells, readout, max_rows)


# long: one pair's three timed measurements side by side, and their bookkeeping
def bench_pair(model, annotated, plain, layers, totals: Totals, on_grid: bool, max_rows: int) -> str:
    from negprobe.activations.attribution_patching import attribution_patching
    from negprobe.activations.interventions import prompt_ids
    from negprobe.analysis.prerequisite import belief_readout, believer_sign
    from negprobe.analysis.token_alignment import claim_alignment, grid_alignment

    tok = model.tokenizer
    readout = belief_readout(model, believer_sign(plain) > 0)
    target, source = prompt_ids(model, plain.text), prompt_ids(model, annotated.text)
    claim_src, claim_tgt = claim_alignment(tok, annotated, plain)
    claim_cells = [(layer, t, s) for layer in layers for t, s in zip(claim_tgt, claim_src)]
    naive, t_naive = _timed(naive_margins, model, target, source, claim_cells, readout)
    reuse, t_reuse = _timed(reuse_margins, model, target, source, layers, claim_src, claim_tgt, readout, max_rows)
    totals.naive, totals.reuse, totals.claim_cells = totals.naive + t_naive, totals.reuse + t_reuse, \
        totals.claim_cells + len(claim_cells)
    totals.max_diff = max(totals.max_diff, float(np.abs(naive - reuse).max()))
    grid_src, grid_tgt = grid_alignment(tok, annotated, plain)
    grid, t_atp = _timed(attribution_patching, model, target, source, grid_tgt, grid_src, readout, layers)
    totals.atp_all += t_atp
    column = {t: j for j, t in enumerate(grid.target_positions)}
    clean = grid.clean_metric
    estimate = np.array([grid.effects[i, column[t]] for i, layer in enumerate(layers) for t in claim_tgt])
    totals.claim_pairs.append((estimate, reuse - clean))
    line = (f"{plain.claim}/{plain.get_extra('paraphrase')}: {len(claim_cells)} claim cells naive {t_naive:.1f}s, "
            f"reuse {t_reuse:.1f}s; AtP {len(grid.cells())} cells {t_atp:.2f}s")
    if on_grid:
        exact, t_exact = _timed(exact_grid, model, target, source, grid.cells(), readout, max_rows)
        totals.atp, totals.exact_grid, totals.grid_cells = totals.atp + t_atp, totals.exact_grid + t_exact, \
            totals.grid_cells + len(exact)
        totals.grid_pairs.append((grid.effects.ravel(), exact))
        line += f", exact grid {t_exact:.1f}s"
    return line


def warm_up(model, annotated, plain) -> None:
    """The one-time costs outside the timings: first forward passes, the prefix-reuse exactness check."""
    from negprobe.activations.interventions import prompt_ids, run_with_patch
    from negprobe.activations.prefix_reuse import trace_prompt, verify_prefix_reuse

    ids = prompt_ids(model, plain.text)
    run_with_patch(model, ids, last_only=True)
    verify_prefix_reuse(model, trace_prompt(model, ids))
    trace_prompt(model, prompt_ids(model, annotated.text))


def agreement_text(pairs, k: int) -> str:
    """Pooled Spearman / top-k over every covered cell, and the median per-pair Spearman."""
    from negprobe.activations.attribution_patching import compare_with_exact

    pooled = compare_with_exact(np.concatenate([e for e, _ in pairs]), np.concatenate([x for _, x in pairs]), k)
    per_pair = [compare_with_exact(e, x, k).spearman for e, x in pairs]
    return (f"Spearman {pooled.spearman:.2f} pooled over {pooled.n_cells:,} cells (median per pair "
            f"{np.nanmedian(per_pair):.2f}), top-{pooled.k} overlap {pooled.top_k:.0%}")


def report(totals: Totals, args, n_pairs: int, n_layers: int, model_name: str, k: int) -> None:
    speedup = totals.naive / totals.reuse
    print(f"\n(a) exact patching, claim tokens x {n_layers} layers, {n_pairs} pairs ({totals.claim_cells:,} cells): "
          f"naive {totals.naive:.1f}s, prefix reuse + batching {totals.reuse:.1f}s -> {speedup:.1f}x "
          f"(target >= 3x); max abs margin diff {totals.max_diff:.1e} (target <= 1e-4)")
    claim_agree = agreement_text(totals.claim_pairs, k)
    print(f"(b) attribution patching vs exact on the claim-token cells of (a): {claim_agree}")
    grid_row = ""
    if totals.grid_pairs:
        ratio = totals.exact_grid / totals.atp
        grid_agree = agreement_text(totals.grid_pairs, k)
        print(f"(b) full grid, {len(totals.grid_pairs)} pairs ({totals.grid_cells:,} cells): exact {totals.exact_grid:.1f}s,"
              f" attribution patching {totals.atp:.2f}s -> {ratio:.0f}x (target >= 20x); {grid_agree}")
        grid_row = (f"exact full grid ({len(totals.grid_pairs)} pairs, {totals.grid_cells:,} cells) "
                    f"{totals.exact_grid:.0f}s vs AtP {totals.atp:.1f}s: {ratio:.0f}x faster; {grid_agree}; ")
    command = (f"`python -m negprobe.scripts.bench_localize --claims {args.claims} --paraphrases {args.paraphrases} "
               f"--layers-stride {args.layers_stride}" + (f" --grid-pairs {args.grid_pairs}" if args.grid_pairs
                                                          is not None else "") + "`")
    print("\n| benchmark | command | result |\n|---|---|---|")
    print(f"| exact patching, claim tokens x layers, naive vs prefix reuse + batching ({model_name}, {n_pairs} "
          f"notice/plain pairs, {n_layers} layers, {totals.claim_cells:,} cells) | {command} | {speedup:.1f}x faster "
          f"({totals.naive:.0f}s vs {totals.reuse:.0f}s), max abs margin diff {totals.max_diff:.1e} |")
    print(f"| attribution patching vs exact patching, layer x aligned-position grid ({model_name}) | {command} | "
          f"{grid_row}claim-token cells of all {n_pairs} pairs: {claim_agree} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--claims", type=int, default=6)
    parser.add_argument("--paraphrases", type=int, default=10)
    parser.add_argument("--layers-stride", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--grid-pairs", type=int, default=None, help="pairs with the exact full-grid sweep (all)")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--max-rows", type=int, default=64, help="patched variants per batch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from negprobe.activations.models import load_model

    model = load_model(args.model)
    pairs = pairs_of(args.claims, args.paraphrases)
    layers = list(range(0, model.n_layers, max(1, args.layers_stride)))
    n_grid = len(pairs) if args.grid_pairs is None else args.grid_pairs
    print(f"{model.describe()}: {len(pairs)} pairs, {len(layers)} layers, {torch.get_num_threads()} thread(s)",
          flush=True)
    warm_up(model, *pairs[0])
    totals = Totals()
    for i, (annotated, plain) in enumerate(pairs):
        print(bench_pair(model, annotated, plain, layers, totals, i < n_grid, args.max_rows), flush=True)
    report(totals, args, len(pairs), len(layers), args.model, args.top_k)


if __name__ == "__main__":
    main()
