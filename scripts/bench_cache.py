"""Benchmark: negprobe's activation cache against the physical limit and the usual alternatives.

    python -m negprobe.scripts.bench_cache [--model smollm2-135m] [--batch-size 32] [--rss-rows 10000]

On the same length-sorted batches of the built-in truth datasets (>= 2,000 prompts), times
(a) a bare HF forward returning logits only (the physical limit of any cache),
(b) negprobe cold cache, all layers, last token, written to disk,
(c) TransformerLens ``run_with_cache`` filtered to ``hook_resid_post``, stacked and saved,
(d) an nnsight trace saving every layer's last token, stacked and saved,
then prints throughput ratios b/a, b/c, b/d, bytes on disk against rows x layers x d_model x 2,
and, in a fresh child process, peak RSS while caching ``--rss-rows`` prompts and the time of a
rerun of the same key.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from negprobe.activations.datasets.records import PromptRecord


def _prefixed(record: PromptRecord, prefix: str) -> PromptRecord:
    """``record`` with ``prefix`` before its text (its claim span shifted alike)."""
    from dataclasses import replace

    span = record.claim_span
    assert span is not None  # the truth datasets mark every claim
    return replace(record, text=prefix + record.text, claim_span=(span[0] + len(prefix), span[1] + len(prefix)))


def truth_prompts(n_min: int):
    from negprobe.activations.datasets.dataset import PromptDataset
    from negprobe.activations.datasets.registry import load_dataset
    from negprobe.activations.datasets.topics import TRUTH_TOPICS

    names = [name for topic in TRUTH_TOPICS for name in (topic, f"neg_{topic}")]
    data = PromptDataset.concat(*[load_dataset(n) for n in names], name="truth-bench")
    copies = -(-n_min // len(data))
    if copies > 1:  # distinct prompts: vary a short prefix
        prefixes = ["", "Fact: ", "Note: ", "Claim: ", "Statement: ", "Consider: ", "Read: ", "Check: "]
        records = []
        for k in range(copies):
            p = prefixes[k % len(prefixes)] + ("" if k < len(prefixes) else f"({k}) ")
            records += [_prefixed(r, p) for r in data]
        data = PromptDataset("truth-bench", tuple(records[: max(n_min, len(data))]))
    return data


def length_sorted_batches(model, texts, batch_size):
    from negprobe.activations.tokenize import pad_token_lists

    ids = [model.tokenizer(t)["input_ids"] for t in texts]
    order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), i))
    pad = model.tokenizer.pad_token_id
    return [pad_token_lists([ids[i] for i in order[s : s + batch_size]], pad) for s in range(0, len(order), batch_size)]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_bare(model, batches):
    with torch.inference_mode():
        for b in batches:
            model.model(input_ids=b.input_ids, attention_mask=b.attention_mask, use_cache=False).logits


def bench_transformer_lens(model, batches, out_dir: Path):
    from negprobe.activations.backends.transformer_lens_backend import bridge_for

    bridge = bridge_for(model)
    names = {f"blocks.{l}.hook_resid_post" for l in range(model.n_layers)}
    chunks = []
    with torch.inference_mode():
        for b in batches:
            _, cache = bridge.run_with_cache(b.input_ids, attention_mask=b.attention_mask, names_filter=lambda n: n in names)
            last = b.lengths - 1
            rows = torch.arange(len(last))
            chunks.append(torch.stack([cache[f"blocks.{l}.hook_resid_post"][rows, last] for l in range(model.n_layers)], 1).half())
    np.save(out_dir / "tl.npy", torch.cat(chunks).numpy())


def bench_nnsight(model, batches, out_dir: Path):
    from negprobe.activations.backends.nnsight_backend import _envoy_blocks, nnsight_model_for

    wrapped = nnsight_model_for(model)
    blocks = _envoy_blocks(wrapped, model.model)
    chunks = []
    with torch.inference_mode():
        for b in batches:
            last = b.lengths - 1
            rows = torch.arange(len(last))
            saved = []
            with wrapped.trace({"input_ids": b.input_ids, "attention_mask": b.attention_mask}):
                for l in range(model.n_layers):
                    saved.append(blocks[l].output[rows, last].save())
            chunks.append(torch.stack(saved, 1).half())
    np.save(out_dir / "nnsight.npy", torch.cat(chunks).numpy())


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def child_rss(args) -> None:
    """Runs in a fresh process: cache ``rss_rows`` prompts, then rerun the key; print JSON."""
    from negprobe.activations import load_model
    from negprobe.activations.cache import cache_activations

    model = load_model(args.model)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    data = truth_prompts(args.child_rows)
    cold = cache_activations(model, data, root=args.store, batch_size=args.batch_size, progress=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rerun_s, rerun = timed(lambda: cache_activations(model, data, root=args.store, progress=False))
    print(json.dumps({"rows": len(data), "peak_rss": peak, "rss_after_load": base_rss, "cold_s": cold.seconds,
                      "rerun_s": rerun_s, "rerun_forward_passes": rerun.forward_passes,
                      "store_bytes": dir_bytes(cold.store.path)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--prompts", type=int, default=2200)
    parser.add_argument("--rss-rows", type=int, default=10000, help="0 skips the child-process RSS run")
    parser.add_argument("--child-rows", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--store", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_rows:
        return child_rss(args)

    from negprobe.activations import load_model
    from negprobe.activations.cache import cache_activations

    model = load_model(args.model)
    data = truth_prompts(args.prompts)
    texts = data.texts()
    batches = length_sorted_batches(model, texts, args.batch_size)
    n_tokens = sum(int(b.lengths.sum()) for b in batches)
    print(f"{model.describe()}: {len(texts)} prompts, {n_tokens} tokens, {len(batches)} batches of <= {args.batch_size},"
          f" torch threads {torch.get_num_threads()}")
    warm = batches[:2]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        bench_bare(model, warm)
        bench_transformer_lens(model, warm, tmp_path)
        bench_nnsight(model, warm, tmp_path)
        times = {}
        times["a"], _ = timed(lambda: bench_bare(model, batches))
        times["b"], result = timed(lambda: cache_activations(model, data, root=tmp_path / "store",
                                                              batch_size=args.batch_size, progress=False))
        times["c"], _ = timed(lambda: bench_transformer_lens(model, batches, tmp_path))
        times["d"], _ = timed(lambda: bench_nnsight(model, batches, tmp_path))
        store_bytes = dir_bytes(result.store.path)
        expected = len(texts) * model.n_layers * 1 * model.d_model * 2
    labels = {"a": "bare HF forward (logits only)", "b": "negprobe cold cache (all layers, last token)",
              "c": "TransformerLens run_with_cache + save", "d": "nnsight trace + save"}
    print(f"\n{'method':48s} {'seconds':>8s} {'prompts/s':>10s} {'tok/s':>8s}")
    for k in "abcd":
        print(f"{labels[k]:48s} {times[k]:8.1f} {len(texts) / times[k]:10.1f} {n_tokens / times[k]:8.0f}")
    print("\nthroughput ratios (target: b/a >= 0.9, b/c >= 1.0, b/d >= 1.0)")
    for other in "acd":
        print(f"  b/{other} = {times[other] / times['b']:.2f}")
    print(f"bytes on disk: {store_bytes:,} vs rows x layers x d_model x 2 = {expected:,}"
          f" ({100 * (store_bytes / expected - 1):+.2f}%, target within 2%)")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")
    if args.rss_rows:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, "-m", "negprobe.scripts.bench_cache", "--model", args.model, "--child-rows",
                                  str(args.rss_rows), "--store", tmp, "--batch-size", str(args.batch_size)],
                                 capture_output=True, text=True, check=True)
        child = json.loads(out.stdout.strip().splitlines()[-1])
        model_bytes = sum(p.numel() * p.element_size() for p in model.model.parameters())
        print(f"\nfresh process caching {child['rows']} prompts: peak RSS {child['peak_rss'] / 2**30:.2f} GB"
              f" (after model load {child['rss_after_load'] / 2**30:.2f} GB; model {model_bytes / 2**30:.2f} GB;"
              f" target <= model + 1.5 GB = {(model_bytes + 1.5 * 2**30) / 2**30:.2f} GB),"
              f" cold {child['cold_s']:.0f} s, store {child['store_bytes'] / 2**20:.0f} MB")
        print(f"rerun of the same key: {child['rerun_s']:.2f} s, {child['rerun_forward_passes']} forward passes (target < 2 s, 0)")


if __name__ == "__main__":
    main()
