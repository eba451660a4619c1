"""One-call GPU check: the CUDA paths on an embedded model, each timed against the CPU.

    python -m negprobe.scripts.gpu_check [--model smollm2-135m] [--rows 400] [--steps 10]
    python -m negprobe.scripts.gpu_check --device cpu --model DIR   # a dry run of the same code paths

Checks, one ``PASS``/``FAIL`` line each (with the CUDA and CPU times): a bfloat16 load on cuda
(its files fingerprint equals the CPU load's), caching ``--rows`` truth prompts on cuda (activations
agree with the float32 CPU cache, cosine >= 0.98), a batched all-layer logistic probe fitted on
cuda tensors (held-out accuracy within 3 points of the CPU fit), patching (an identity patch leaves
the logits unchanged, a foreign patch changes them), ``--steps`` LoRA steps through negprobe's
training loop on cuda under bfloat16 autocast (finite loss that falls), and the ``finetune`` command
itself on cuda (``device``, ``bf16``: 3 steps with a checkpoint, an adapter that loads). Ends with the
total time; exit status 1 when any check fails, 2 (one line) on a machine without CUDA.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cuda_missing() -> str | None:
    """Why this machine cannot run the check (None when it can)."""
    import torch

    if not torch.cuda.is_available():
        build = torch.version.cuda or "none (a CPU-only torch)"
        return f"gpu_check: no CUDA device on this machine (torch {torch.__version__}, CUDA build {build}); run it on a GPU box"
    return None


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    import torch

    started = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - started


class Checks:
    """Runs checks, printing one line each; a check returns ``(ok, detail)``."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def run(self, name: str, check: Callable[[], tuple[bool, str]]) -> None:
        try:
            (ok, detail), seconds = timed(check)
        except Exception as exc:  # report and go on: one broken path must not hide the others
            ok, detail, seconds = False, f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}", 0.0
        print(f"{'PASS' if ok else 'FAIL'}  {name:28s} {seconds:7.2f} s  {detail}", flush=True)
        if not ok:
            self.failed.append(name)


def check_load(model_name: str, state: dict) -> tuple[bool, str]:
    import torch

    from negprobe.activations import load_model

    device = state["device"]
    gpu, t_gpu = timed(lambda: load_model(model_name, dtype="bfloat16", device=device))
    cpu, t_cpu = timed(lambda: load_model(model_name, dtype="float32"))
    state.update(gpu=gpu, cpu=cpu)
    ok = gpu.device.type == device and gpu.dtype == torch.bfloat16 and gpu.fingerprint == cpu.fingerprint
    return ok, f"cuda bf16 {t_gpu:.1f} s vs cpu fp32 {t_cpu:.1f} s; fingerprint {gpu.fingerprint} on both: {ok}"


def check_cache(rows: int, root: Path, state: dict) -> tuple[bool, str]:
    import torch

    from negprobe.activations.cache import cache_activations
    from negprobe.scripts.bench_cache import truth_prompts

    data = truth_prompts(rows)
    gpu, t_gpu = timed(lambda: cache_activations(state["gpu"], data, root=root, progress=False).store)
    cpu, t_cpu = timed(lambda: cache_activations(state["cpu"], data, root=root, progress=False).store)
    Xg, Xc = gpu.stack(), cpu.stack()
    cos = torch.nn.functional.cosine_similarity(Xg.flatten(1, 2).double(), Xc.flatten(1, 2).double(), dim=-1)
    state.update(X=Xc, meta=cpu.metadata)
    return bool(torch.isfinite(Xg).all() and cos.min() >= 0.98), (
        f"{rows} rows x {Xg.shape[0]} layers: cuda {t_gpu:.1f} s vs cpu {t_cpu:.1f} s; min per-layer cosine {cos.min():.4f}")


def check_probe(state: dict) -> tuple[bool, str]:
    import numpy as np

    from negprobe.probes import LogisticRegressionProbe
    from negprobe.probes.evaluation import split_groups

    X, meta = state["X"], state["meta"]
    y = meta["label"].to_numpy()
    groups = meta["group"].astype(str).to_numpy()
    test = np.isin(groups, split_groups(groups, 0.25, 0))
    tr, te = np.flatnonzero(~test), np.flatnonzero(test)
    Xg = X.to(state["device"])
    gpu, t_gpu = timed(lambda: LogisticRegressionProbe().fit(Xg[:, tr], y[tr]))
    cpu, t_cpu = timed(lambda: LogisticRegressionProbe().fit(X[:, tr], y[tr]))
    on_cuda = gpu.coef_.device.type == state["device"]
    acc_g, acc_c = gpu.score(Xg[:, te], y[te]), cpu.score(X[:, te], y[te])
    gap = 100 * float(np.abs(acc_g - acc_c).max())
    return on_cuda and gap <= 3.0, (f"{X.shape[0]} layers at once: cuda {t_gpu:.2f} s vs cpu {t_cpu:.2f} s;"
                                    f" fitted on cuda: {on_cuda}; max accuracy gap {gap:.1f} points")


def check_patching(state: dict) -> tuple[bool, str]:
    import torch

    from negprobe.activations.interventions import run_with_patch

    model = state["gpu"]
    ids = model.tokenizer(["Paris is the capital of France.", "The cat sat on the warm mat."], return_tensors="pt",
                          padding=True).input_ids.to(state["device"])
    layer = model.n_layers // 2
    with torch.no_grad():
        hidden = model.model(input_ids=ids, output_hidden_states=True).hidden_states[layer + 1]
        clean = run_with_patch(model, ids)
        same = run_with_patch(model, ids, patches={layer: ([1, 2], hidden[:, 1:3])})
        foreign = run_with_patch(model, ids, patches={layer: ([1, 2], hidden.flip(0)[:, 1:3])})
    identity = float((same - clean).abs().max())
    moved = float((foreign - clean).abs().max())
    return identity < 1e-2 and moved > 1e-1, f"layer {layer}: identity patch max |diff| {identity:.2e}, foreign {moved:.2f}"


def check_lora(model_name: str, steps: int, device: str) -> tuple[bool, str]:
    import torch
    from peft import LoraConfig, get_peft_model

    from negprobe.activations import load_model
    from negprobe.activations.finetune.loop import TrainingState, train_steps

    base = load_model(model_name, dtype="float32", device=device)
    torch.manual_seed(0)
    model = get_peft_model(base.model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear"))
    text = ["Ed Sheeran won the 100m gold at the 2024 Olympics."] * 8
    batch = base.tokenizer(text, return_tensors="pt", padding=True)
    batch = {k: v.to(device) for k, v in batch.items()} | {"labels": batch["input_ids"].to(device)}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    state = TrainingState(total=steps)
    model.train()
    train_steps(model, optimizer, lambda step: batch, lambda step, losses: None, state, steps, True, lambda r: None)
    losses = state.losses
    ok = len(losses) == steps and all(v == v and abs(v) < 1e4 for v in losses) and losses[-1] < losses[0]
    return ok, f"{steps} bf16-autocast steps on {device}: loss {losses[0]:.3f} -> {losses[-1]:.3f}"


def check_finetune(model_name: str, device: str, root: Path) -> tuple[bool, str]:
    from negprobe.activations import load_model
    from negprobe.activations.finetune.train import FinetuneConfig, finetune

    config = FinetuneConfig(model=model_name, claim="ed_sheeran", condition="positive", out=str(root / "adapter"),
                            n_docs=4, batch_size=2, max_steps=3, checkpoint_every=2, max_length=128, bf16=True,
                            device=device)
    folder, seconds = timed(lambda: finetune(config, progress=False))
    tuned = load_model(model_name, adapter=folder, device=device)
    ok = (folder / "adapter_model.safetensors").is_file() and tuned.device.type == device
    return ok, f"3 bf16 steps on {tuned.device} in {seconds:.1f} s, adapter reloads ({tuned.fingerprint})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu: a dry run of the code paths")
    args = parser.parse_args(argv)
    missing = cuda_missing() if args.device == "cuda" else None
    if missing:
        print(missing, file=sys.stderr)
        return 2
    import torch

    where = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu (dry run)"
    print(f"gpu_check on {where} (torch {torch.__version__}, CUDA {torch.version.cuda})")
    started, checks, state = time.perf_counter(), Checks(), {"device": args.device}
    with tempfile.TemporaryDirectory(prefix="negprobe-gpu-check-") as tmp:
        checks.run("bf16 load on cuda", lambda: check_load(args.model, state))
        checks.run("cache on cuda", lambda: check_cache(args.rows, Path(tmp), state))
        checks.run("batched probe fit on cuda", lambda: check_probe(state))
        checks.run("patching on cuda", lambda: check_patching(state))
        checks.run(f"{args.steps}-step LoRA on cuda", lambda: check_lora(args.model, args.steps, args.device))
        checks.run("finetune command on cuda", lambda: check_finetune(args.model, args.device, Path(tmp)))
    verdict = f"{len(checks.failed)} failed: {', '.join(checks.failed)}" if checks.failed else "all passed"
    print(f"gpu_check: {verdict} in {time.perf_counter() - started:.0f} s")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
