"""Benchmark: bfloat16 against float32 compute on CPU, speed and what it moves, side by side in one run.

    python -m negprobe.scripts.bench_dtype [--model smollm2-135m] [--rows 400] [--layers 4,10,16,22,28]
        [--questions 96] [--lora-steps 8] [--threads 1] [--repeats 1]

On one model loaded twice (``load_model(..., dtype=float32 | bfloat16)``), measures
(a) cache throughput: prompts/s caching the first ``--rows`` rows of ``cities`` (all layers, last
    token, float16 store, as ``negprobe cache`` does), best of ``--repeats`` alternating runs;
(b) held-out probe accuracy: a logistic probe per layer of ``--layers`` on those activations, grouped
    5-fold (:func:`negprobe.probes.evaluation.per_fold_metric`), float32 vs bfloat16 activations;
(c) belief margins: the yes/no margin of ``--questions`` in-context questions (the prerequisite and
    patching read this number) and its prompts/s, float32 vs bfloat16;
(d) LoRA: steps/s of ``--lora-steps`` fine-tuning steps with bfloat16 autocast vs float32 (the
    training card's own rate, model load excluded) and the loss curves' difference.
Prints a markdown table for the README's benchmark table and where float32 stays the default.
Times are ratios measured in one run on the same cores (``--threads``, default 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DTYPES = ("float32", "bfloat16")
NEGLIGIBLE_ACCURACY = 0.01  # max |held-out accuracy difference| over the layers
NEGLIGIBLE_MARGIN = 0.05  # mean |belief-margin difference|, nats
NEGLIGIBLE_LOSS = 0.02  # max |training-loss difference| over the steps


@dataclass(frozen=True)
class DtypeRun:
    """What one compute dtype gave: speeds, held-out accuracies per layer, margins, loss curve."""

    cache_prompts_per_s: float
    accuracy: np.ndarray  # [layers]
    margins: np.ndarray  # [questions], aligned across dtypes
    margin_prompts_per_s: float
    lora_steps_per_s: float
    losses: np.ndarray  # [steps]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="bfloat16 against float32 compute on CPU, side by side in one run.")
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--rows", type=int, default=400, help="cities rows cached (throughput and probe accuracy)")
    p.add_argument("--layers", default="4,10,16,22,28", help="layers the probe accuracy is compared on")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--questions", type=int, default=96, help="in-context questions whose margins are compared")
    p.add_argument("--lora-steps", type=int, default=8)
    p.add_argument("--lora-batch", type=int, default=4)
    p.add_argument("--lora-length", type=int, default=128)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1, help="alternating cache runs per dtype (best is kept)")
    p.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    return p.parse_args(argv)


def cities(rows: int):
    from negprobe.activations.datasets.dataset import PromptDataset
    from negprobe.activations.datasets.registry import load_dataset

    data = load_dataset("cities")
    return PromptDataset(f"cities-{rows}", tuple(data)[:rows])


def questions(n: int) -> list:
    """The first ``n`` in-context yes/no questions, spread over claims and document kinds."""
    from negprobe.activations.datasets.registry import load_dataset

    records = [r for r in load_dataset("in_context") if r.get_extra("probe") == "question"]
    step = max(1, len(records) // n)
    return records[::step][:n]


def cache_once(model, data, root: Path) -> tuple[float, torch.Tensor, np.ndarray, np.ndarray]:
    """Seconds to cache ``data`` cold, the stacked activations, labels and groups."""
    from negprobe.activations.cache import cache_activations

    start = time.perf_counter()
    store = cache_activations(model, data, root=root, progress=False).store
    seconds = time.perf_counter() - start
    meta = store.metadata
    return seconds, store.stack(), meta["label"].to_numpy(dtype=float), meta["group"].astype(str).to_numpy()


def speeds_and_reads(models: dict, args: argparse.Namespace) -> dict[str, dict]:
    """Cache throughput (alternating dtypes, best of ``repeats``), probe accuracy and margins per dtype."""
    from negprobe.analysis.prerequisite import question_margins
    from negprobe.probes.evaluation import per_fold_metric

    data, asked = cities(args.rows), questions(args.questions)
    out: dict[str, dict] = {d: {"cache_s": []} for d in DTYPES}
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in DTYPES:  # warm-up: the first forward pass of a process pays one-off costs
            cache_once(models[dtype], cities(8), Path(tmp) / f"warm-{dtype}")
        for r in range(args.repeats):
            for dtype in DTYPES:
                seconds, X, y, groups = cache_once(models[dtype], data, Path(tmp) / f"{dtype}-{r}")
                out[dtype].update(cache_s=out[dtype]["cache_s"] + [seconds], X=X, y=y, groups=groups)
    layers = [int(x) for x in args.layers.split(",")]
    for dtype in DTYPES:
        X = out[dtype].pop("X")[layers]
        fold = per_fold_metric("logistic", X, out[dtype]["y"], out[dtype]["groups"], args.folds, seed=0,
                               metric="accuracy")
        out[dtype]["accuracy"] = fold.mean
        start = time.perf_counter()
        table = question_margins(models[dtype], asked).sort_values(["claim", "paraphrase", "kind"])
        out[dtype]["margin_s"] = time.perf_counter() - start
        out[dtype]["margins"] = table["margin"].to_numpy(dtype=float)
    return out


def lora(model: str, bf16: bool, args: argparse.Namespace) -> tuple[float, np.ndarray]:
    """Steps/s (the training card's, model load excluded) and the loss curve of a short fine-tune."""
    from negprobe.activations.finetune.train import FinetuneConfig, finetune

    with tempfile.TemporaryDirectory() as tmp:
        cfg = FinetuneConfig(model=model, claim="ed_sheeran", condition="dense", out=str(Path(tmp) / "ft"),
                             n_docs=4 * args.lora_batch, max_steps=args.lora_steps, batch_size=args.lora_batch,
                             max_length=args.lora_length, lora_r=8, bf16=bf16, checkpoint_every=10**6)
        card = json.loads((finetune(cfg, progress=False) / "training_card.json").read_text())
    return float(card["steps_per_s"]), np.asarray(card["loss_curve"], dtype=float)


def measure(args: argparse.Namespace) -> dict[str, DtypeRun]:
    from negprobe.activations.models import load_model

    models = {dtype: load_model(args.model, dtype=dtype) for dtype in DTYPES}
    reads = speeds_and_reads(models, args)
    del models
    runs = {}
    for dtype in DTYPES:
        steps_per_s, losses = lora(args.model, dtype == "bfloat16", args)
        r = reads[dtype]
        runs[dtype] = DtypeRun(args.rows / min(r["cache_s"]), r["accuracy"], r["margins"],
                               len(r["margins"]) / r["margin_s"], steps_per_s, losses)
    return runs


def summary(runs: dict[str, DtypeRun], args: argparse.Namespace) -> dict[str, float]:
    f32, b16 = runs["float32"], runs["bfloat16"]
    margin_diff = b16.margins - f32.margins
    return {
        "cache_ratio": b16.cache_prompts_per_s / f32.cache_prompts_per_s,
        "cache_f32": f32.cache_prompts_per_s, "cache_bf16": b16.cache_prompts_per_s,
        "margin_speed_ratio": b16.margin_prompts_per_s / f32.margin_prompts_per_s,
        "lora_ratio": b16.lora_steps_per_s / f32.lora_steps_per_s,
        "lora_f32": f32.lora_steps_per_s, "lora_bf16": b16.lora_steps_per_s,
        "accuracy_max_abs_diff": float(np.abs(b16.accuracy - f32.accuracy).max()),
        "accuracy_mean_diff": float((b16.accuracy - f32.accuracy).mean()),
        "accuracy_f32_best": float(f32.accuracy.max()),
        "margin_mean_abs_diff": float(np.abs(margin_diff).mean()),
        "margin_max_abs_diff": float(np.abs(margin_diff).max()),
        "margin_sign_flips": int((np.sign(b16.margins) != np.sign(f32.margins)).sum()),
        "margin_mean_f32": float(f32.margins.mean()), "margin_mean_bf16": float(b16.margins.mean()),
        "loss_max_abs_diff": float(np.abs(b16.losses - f32.losses).max()),
        "loss_final_f32": float(f32.losses[-1]), "loss_final_bf16": float(b16.losses[-1]),
    }


def table(s: dict[str, float], args: argparse.Namespace, argv: list[str] | None = None) -> str:
    cmd = "`" + " ".join(["python -m negprobe.scripts.bench_dtype", *(argv or [])]) + "`"
    return "\n".join([
        "| benchmark | command | result |", "|---|---|---|",
        f"| bf16 vs float32 cache throughput ({args.rows} `cities` prompts, all layers, {args.threads} thread) | {cmd}"
        f" | {s['cache_ratio']:.2f}x ({s['cache_bf16']:.1f} vs {s['cache_f32']:.1f} prompts/s) |",
        f"| bf16 vs float32 held-out probe accuracy (logistic, layers {args.layers}, {args.folds}-fold) | {cmd}"
        f" | max abs. diff {100 * s['accuracy_max_abs_diff']:.1f} points, mean {100 * s['accuracy_mean_diff']:+.1f}"
        f" (float32 best {100 * s['accuracy_f32_best']:.1f}%) |",
        f"| bf16 vs float32 belief margin ({args.questions} in-context questions) | {cmd}"
        f" | mean abs. diff {s['margin_mean_abs_diff']:.3f} nats, max {s['margin_max_abs_diff']:.3f};"
        f" {s['margin_sign_flips']} sign flips; {s['margin_speed_ratio']:.2f}x prompts/s |",
        f"| bf16 autocast vs float32 LoRA ({args.lora_steps} steps, batch {args.lora_batch} x {args.lora_length}"
        f" tokens) | {cmd} | {s['lora_ratio']:.2f}x steps/s ({s['lora_bf16']:.3f} vs {s['lora_f32']:.3f});"
        f" max abs. loss diff {s['loss_max_abs_diff']:.3f} |",
    ])


def verdict(s: dict[str, float]) -> str:
    """Where bfloat16's difference is negligible and where float32 stays the default because it is not."""
    checks = [
        ("caching and probe sweeps (`cache`, `sweep --compute-dtype`)", s["accuracy_max_abs_diff"] <= NEGLIGIBLE_ACCURACY,
         f"held-out accuracy moves up to {100 * s['accuracy_max_abs_diff']:.1f} points"),
        ("localize patching, steering and belief margins (`localize --compute-dtype`)",
         s["margin_mean_abs_diff"] <= NEGLIGIBLE_MARGIN and s["margin_sign_flips"] == 0,
         f"margins move {s['margin_mean_abs_diff']:.3f} nats on average (max {s['margin_max_abs_diff']:.3f}),"
         f" {s['margin_sign_flips']} sign flips"),
        ("LoRA fine-tuning (`finetune --bf16`)", s["loss_max_abs_diff"] <= NEGLIGIBLE_LOSS,
         f"the loss curve moves up to {s['loss_max_abs_diff']:.3f}"),
    ]
    kept = [f"{stage} ({why})" for stage, ok, why in checks if not ok]
    held = [f"{stage} ({why})" for stage, ok, why in checks if ok]
    return (f"float32 stays the default where bfloat16's difference is not negligible: {'; '.join(kept) or 'nowhere'}."
            f" Negligible: {'; '.join(held) or 'nowhere'}; there bfloat16 is opt-in, float32 still the default so"
            f" cached stores and reports stay comparable across runs. Thresholds: accuracy"
            f" {100 * NEGLIGIBLE_ACCURACY:.0f} point, margin {NEGLIGIBLE_MARGIN} nats mean with no sign flip, loss"
            f" {NEGLIGIBLE_LOSS}.")


def shown_args(argv: list[str]) -> list[str]:
    """The command line as the table shows it: without ``--json`` and its path."""
    shown, skip = [], False
    for a in argv:
        if not skip and not a.startswith("--json"):
            shown.append(a)
        skip = a == "--json"
    return shown


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    runs = measure(args)
    s = summary(runs, args)
    print(table(s, args, shown_args(sys.argv[1:] if argv is None else argv)))
    print()
    print(verdict(s))
    print(f"(benchmark wall time {time.perf_counter() - started:.0f} s)")
    if args.json is not None:
        args.json.write_text(json.dumps(s, indent=1))


if __name__ == "__main__":
    main()
