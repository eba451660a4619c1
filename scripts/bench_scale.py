"""Benchmark: large-model shapes in bounded memory, and fingerprints by files vs by tensors.

    python -m negprobe.scripts.bench_scale [--rows 50000] [--d-model 8192] [--layers 4] [--probe mass_mean]
    python -m negprobe.scripts.bench_scale --fingerprint [--model smollm2-135m]

Scale: writes a synthetic store (``--rows`` x ``--layers`` x ``--d-model``, float16, in chunks of
``--chunk-rows``) in a temporary folder in one child process, sweeps one probe family over it in
another (``--folds`` group folds, layers streamed one at a time: the sweep's memory budget is set to
one layer's float32 matrix), and prints the sweep process's peak RSS against one layer's float32
matrix, and the times. Each layer is read, fitted and dropped before the next, so the peak is what a
64-layer store would reach too (only the time grows with the layer count).

Fingerprint: times the files fingerprint (cold: hashing the safetensors; warm: the remembered hash)
against the tensors fingerprint (every parameter as float32) of an embedded model.
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


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def build(args) -> dict:
    from negprobe.activations.synthetic_store import write_synthetic_store

    started = time.perf_counter()
    write_synthetic_store(args.store, args.rows, args.d_model, args.layers, chunk_rows=args.chunk_rows)
    return {"build_s": time.perf_counter() - started, "build_peak_rss": _peak_rss_bytes()}


def sweep(args) -> dict:
    import torch

    from negprobe.activations.store import ActivationStore
    from negprobe.probes.layer_source import StoreLayers
    from negprobe.probes.sweep_config import SweepConfig
    from negprobe.probes.sweep_eval import SweepData, evaluate

    torch.set_num_threads(1)
    store = ActivationStore.open(args.store)
    rows = store.metadata.copy()
    rows.insert(0, "dataset", "synthetic")
    rows["group"] = rows["group"].astype(str)
    X = StoreLayers((store,), tuple(store.layers))
    data = SweepData(X, rows, store.layers, {"name": "synthetic", "adapter": "", "fingerprint": "-",
                                             "d_model": store.d_model}, {"synthetic": "-"})
    config = SweepConfig(models=["synthetic"], train=[["synthetic"]], probes=[args.probe], n_folds=args.folds,
                         n_boot=50)
    one_layer = store.n_rows * store.d_model * 4
    baseline = _peak_rss_bytes()
    started = time.perf_counter()
    table = evaluate(data, ["synthetic"], ["synthetic"], [args.probe], config, "last", block_bytes=one_layer)
    auroc = table[table["metric"] == "auroc"]["value"].round(3).tolist()
    return {"sweep_s": time.perf_counter() - started, "sweep_peak_rss": _peak_rss_bytes(), "import_rss": baseline,
            "one_layer_f32": one_layer, "auroc_per_layer": auroc}


def _child(phase: str, args) -> dict:
    argv = [sys.executable, "-m", "negprobe.scripts.bench_scale", "--phase", phase, "--store", str(args.store),
            "--rows", str(args.rows), "--d-model", str(args.d_model), "--layers", str(args.layers),
            "--chunk-rows", str(args.chunk_rows), "--probe", args.probe, "--folds", str(args.folds)]
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def scale(args) -> None:
    gib = 2**30
    with tempfile.TemporaryDirectory(prefix="negprobe-bench-scale-") as tmp:
        args.store = args.keep_store or Path(tmp) / "store"
        if not (args.store / "manifest.json").is_file():
            built = _child("build", args)
            print(f"store: {args.rows} rows x {args.layers} layers x d_model {args.d_model}, float16 in chunks of"
                  f" {args.chunk_rows} rows, written in {built['build_s']:.0f} s"
                  f" (writer peak RSS {built['build_peak_rss'] / gib:.2f} GiB)")
        disk = sum(f.stat().st_size for f in args.store.rglob("*") if f.is_file())
        print(f"store {args.store}: {disk / gib:.2f} GiB on disk")
        swept = _child("sweep", args)
    ratio = swept["sweep_peak_rss"] / swept["one_layer_f32"]
    print(f"sweep ({args.probe}, {args.folds} folds, layers streamed one at a time): {swept['sweep_s']:.0f} s,"
          f" peak RSS {swept['sweep_peak_rss'] / gib:.2f} GiB (after imports {swept['import_rss'] / gib:.2f} GiB)"
          f" = {ratio:.2f}x one layer's float32 matrix ({swept['one_layer_f32'] / gib:.2f} GiB)")
    print(f"auroc per layer: {swept['auroc_per_layer']}")


def fingerprint_timing(model_name: str) -> None:
    import os

    import torch

    from negprobe.activations.fingerprint import files_fingerprint, model_fingerprint, weight_files
    from negprobe.activations.models import load_model, resolve_source

    torch.set_num_threads(1)
    folder = Path(resolve_source(model_name)[1])
    model = load_model(model_name).model
    with tempfile.TemporaryDirectory() as home:
        os.environ["NEGPROBE_HOME"] = home  # a cold hash memo
        started = time.perf_counter()
        cold = files_fingerprint(folder)
        t_cold = time.perf_counter() - started
        started = time.perf_counter()
        files_fingerprint(folder)
        t_warm = time.perf_counter() - started
    started = time.perf_counter()
    model_fingerprint(model)
    t_tensors = time.perf_counter() - started
    size = sum(f.stat().st_size for f in weight_files(folder) or [])
    print(f"{model_name} ({size / 2**20:.0f} MiB of safetensors) files fingerprint {cold}: cold {t_cold:.3f} s,"
          f" warm {t_warm * 1000:.1f} ms; tensors fingerprint {t_tensors:.3f} s;"
          f" ratio tensors/cold {t_tensors / t_cold:.1f}x, tensors/warm {t_tensors / t_warm:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--d-model", type=int, default=8192)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--chunk-rows", type=int, default=2048)
    parser.add_argument("--probe", default="mass_mean")
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--keep-store", type=Path, help="build the store here (once) and keep it for reruns")
    parser.add_argument("--fingerprint", action="store_true", help="time fingerprints instead")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--phase", choices=["build", "sweep"], help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(build(args) if args.phase == "build" else sweep(args)))
    elif args.fingerprint:
        fingerprint_timing(args.model)
    else:
        scale(args)


if __name__ == "__main__":
    main()
