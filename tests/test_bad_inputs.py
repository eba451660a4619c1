"""Every bad input to every command: exit status 2, one stderr line naming the culprit, no traceback,
nothing left behind (issue 12).

Each case runs the CLI in-process (``cli.main()`` with a patched ``sys.argv``; stdout/stderr captured
at the file-descriptor level) unless it needs the process boundary (third-party output written
before the error). The workspace (the case's ``tmp_path``, also the working directory) and
``$NEGPROBE_HOME`` are snapshotted before and after: a case may create nothing.
"""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from negprobe.scripts import cli
from tests.tiny_models import make_tiny_model

NILE = "The Nile River is the longest river in the world."


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]  # {ws} = the workspace, {tiny} = the tiny model folder, {adapter} = a LoRA adapter
    culprit: str  # must appear in the one stderr line
    setup: Callable[[Path, Path], None] | None = None  # (workspace, home) -> writes the case's input files
    subprocess: bool = False  # run as a real process (third-party output before the error matters)
    unwritable: bool = False  # a chmod 0o500 folder must be refused even when running as root
    marks: tuple = field(default_factory=tuple)


def write(name: str, text: str) -> Callable[[Path, Path], None]:
    return lambda ws, home: (ws / name).parent.mkdir(parents=True, exist_ok=True) or (ws / name).write_text(text)


def locked_folder(ws: Path, home: Path) -> None:
    (ws / "locked").mkdir()
    (ws / "locked").chmod(0o500)


def adapter_copy(ws: Path, home: Path) -> None:
    shutil.copytree(home / "adapter", ws / "adapter")


def truncated_adapter(ws: Path, home: Path) -> None:
    adapter_copy(ws, home)
    weights = ws / "adapter" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])


def malformed_card(ws: Path, home: Path) -> None:
    adapter_copy(ws, home)
    (ws / "adapter" / "negprobe_adapter.json").write_text("{not json")


class _Payload:
    """Unpickling this writes ws/pwned: a crafted state.pt must never be executed."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.write_text, (Path(self.target), "owned"))


def crafted_state(ws: Path, home: Path) -> None:
    checkpoint = ws / "ft" / "checkpoint"
    checkpoint.mkdir(parents=True)
    (checkpoint / "state.pt").write_bytes(pickle.dumps({"step": _Payload(str(ws / "pwned"))}))


def finished_dense_run(ws: Path, home: Path) -> None:
    from negprobe.activations.finetune.train import FinetuneConfig, finetune

    finetune(FinetuneConfig(model=str(home / "tiny"), claim="ed_sheeran", condition="dense", out=str(ws / "ft"), n_docs=4,
                            max_steps=1, batch_size=2, max_length=24, lora_r=2, checkpoint_every=1), progress=False)


SMALL_CSV = "statement,label\nParis is the capital of France.,1\nParis is the capital of Spain.,0\n"
LONG_CSV = "statement,label\n" + " ".join(["the cat"] * 200) + ".,1\nthe dog.,0\n"
CONFLICT_CSV = f"statement,label\n{NILE},1\nParis is in France.,1\n{NILE},0\n"
TINY = ("-m", "{tiny}")

CASES = [
    # models
    Case("models-unknown-option", ("models", "--bogus"), "--bogus"),
    Case("models-extra-argument", ("models", "extra"), "extra"),
    Case("unknown-command", ("frobnicate",), "frobnicate"),
    # read
    Case("read-unknown-model-folder", ("read", "-m", "{ws}/no-such-model"), "no-such-model"),
    Case("read-layer-out-of-range-after-load", ("read", *TINY, "--layers", "0,9"), "layer 9", subprocess=True),
    Case("read-bad-layers-syntax", ("read", *TINY, "--layers", "zero"), "--layers: expected integers"),
    Case("read-bad-positions", ("read", *TINY, "--positions", "last"), "--positions: expected integers"),
    Case("read-unknown-backend", ("read", *TINY, "--backend", "tf"), "--backend"),
    Case("read-unknown-compute-dtype", ("read", *TINY, "--compute-dtype", "int8"), "--compute-dtype"),
    Case("read-missing-adapter-folder", ("read", *TINY, "--adapter", "{ws}/nope"), "--adapter"),
    Case("read-out-is-a-folder", ("read", *TINY, "--out", "{ws}/acts"), "--out", write("acts/keep.txt", "x")),
    Case("read-out-parent-is-a-file", ("read", *TINY, "--out", "{ws}/file.txt/acts.pt"), "file.txt",
         write("file.txt", "x")),
    Case("read-out-unwritable-folder", ("read", *TINY, "--out", "{ws}/locked/acts.pt"), "locked", locked_folder,
         unwritable=True),
    Case("read-truncated-adapter-weights", ("read", *TINY, "--adapter", "{ws}/adapter"), "adapter_model.safetensors",
         truncated_adapter),
    Case("read-malformed-adapter-card", ("read", *TINY, "--adapter", "{ws}/adapter"), "negprobe_adapter.json",
         malformed_card),
    Case("read-device-not-a-device", ("read", *TINY, "--device", "foo"), "--device 'foo': not a torch device"),
    Case("read-device-absent", ("read", *TINY, "--device", "cuda:99"), "--device 'cuda:99': this machine has"),
    Case("read-device-map-unknown", ("read", *TINY, "--device-map", "everywhere"),
         "--device-map: 'everywhere' is not a device map strategy"),
    Case("read-device-and-device-map", ("read", *TINY, "--device", "cpu", "--device-map", "auto"),
         "--device and --device-map: give one of them"),
    # datasets
    Case("datasets-unknown-name", ("datasets", "no_such_dataset"), "no_such_dataset"),
    Case("datasets-negative-limit", ("datasets", "cities", "--limit", "-1"), "--limit"),
    Case("datasets-csv-missing-label-column", ("datasets", "{ws}/x.csv"), "missing required column(s) label",
         write("x.csv", "statement\nA.\n")),
    Case("datasets-csv-non-binary-label", ("datasets", "{ws}/x.csv"), "x.csv:3",
         write("x.csv", "statement,label\nA.,1\nB.,maybe\n")),
    Case("datasets-csv-conflicting-labels", ("datasets", "{ws}/facts.csv"), "--drop-conflicts",
         write("facts.csv", CONFLICT_CSV)),
    Case("datasets-csv-empty-file", ("datasets", "{ws}/x.csv"), "x.csv", write("x.csv", "")),
    Case("datasets-csv-not-utf8", ("datasets", "{ws}/x.csv"), "x.csv: not valid UTF-8", lambda ws, home: (ws / "x.csv").write_bytes(
        b"statement,label\n\xff\xfe bad.,1\n")),
    Case("datasets-csv-extra-fields", ("datasets", "{ws}/x.csv"), "x.csv:2",
         write("x.csv", "statement,label\nA.,1,extra\n")),
    Case("datasets-jsonl-bad-json-line", ("datasets", "{ws}/x.jsonl"), "x.jsonl:2",
         write("x.jsonl", '\n{not json\n')),
    Case("datasets-unsupported-suffix", ("datasets", "{ws}/x.txt"), "x.txt", write("x.txt", "A.\n")),
    # cache
    Case("cache-unknown-dataset", ("cache", "-d", "no_such_dataset", *TINY, "--store", "{ws}/store"),
         "no_such_dataset"),
    Case("cache-store-is-a-file", ("cache", "-d", "cities", *TINY, "--store", "{ws}/store"), "--store",
         write("store", "x")),
    Case("cache-store-unwritable", ("cache", "-d", "cities", *TINY, "--store", "{ws}/locked/store"), "locked",
         locked_folder, unwritable=True),
    Case("cache-unknown-position", ("cache", "-d", "cities", *TINY, "--position", "middle", "--store", "{ws}/s"),
         "middle"),
    Case("cache-unknown-store-dtype", ("cache", "-d", "cities", *TINY, "--store-dtype", "int8", "--store", "{ws}/s"),
         "--store-dtype"),
    Case("cache-zero-batch-size", ("cache", "-d", "cities", *TINY, "--batch-size", "0", "--store", "{ws}/s"),
         "--batch-size"),
    Case("cache-zero-shard-rows", ("cache", "-d", "cities", *TINY, "--shard-rows", "0", "--store", "{ws}/s"),
         "--shard-rows"),
    Case("cache-conflicting-csv", ("cache", "-d", "{ws}/facts.csv", *TINY, "--store", "{ws}/s"), "facts.csv",
         write("facts.csv", CONFLICT_CSV)),
    Case("cache-prompt-longer-than-context", ("cache", "-d", "{ws}/long.csv", *TINY, "--store", "{ws}/s"),
         "long' row 0", write("long.csv", LONG_CSV)),
    Case("cache-device-map-bad-json", ("cache", "-d", "cities", *TINY, "--device-map", "{{bad", "--store", "{ws}/s"),
         "--device-map is not valid JSON"),
    Case("cache-device-map-bad-device", ("cache", "-d", "cities", *TINY, "--device-map", '{{"model": "gpu7"}}',
                                         "--store", "{ws}/s"), "--device-map: 'gpu7'"),
    Case("cache-remote-local-folder", ("cache", "-d", "cities", *TINY, "--remote", "--store", "{ws}/s"),
         "NDIF runs models from the hub"),
    Case("cache-remote-with-adapter", ("cache", "-d", "cities", *TINY, "--remote", "--adapter", "{ws}/adapter",
                                       "--store", "{ws}/s"), "--remote runs the model on NDIF", adapter_copy),
    # sweep
    Case("sweep-config-n-folds-not-an-integer", ("sweep", "--config", "{ws}/x.yaml"), "n_folds",
         write("x.yaml", "n_folds: five\n")),
    Case("sweep-config-train-wrong-type", ("sweep", "--config", "{ws}/x.yaml"), "train must be a list of lists",
         write("x.yaml", "train: 5\n")),
    Case("sweep-config-unknown-key", ("sweep", "--config", "{ws}/x.yaml"), "n_fold", write("x.yaml", "n_fold: 3\n")),
    Case("sweep-config-invalid-yaml", ("sweep", "--config", "{ws}/x.yaml"), "x.yaml", write("x.yaml", "a: [1,\n")),
    Case("sweep-config-toml-seed-string", ("sweep", "--config", "{ws}/x.toml"), "seed", write("x.toml", 'seed = "x"\n')),
    Case("sweep-config-missing-file", ("sweep", "--config", "{ws}/none.yaml"), "none.yaml"),
    Case("sweep-config-unknown-probe", ("sweep", "--config", "{ws}/x.yaml"), "unknown probe 'svm'",
         write("x.yaml", "probes: [logistic, svm]\n")),
    Case("sweep-folds-one", ("sweep", *TINY, "--folds", "1", "-o", "{ws}/out"), "--folds must be an integer >= 2"),
    Case("sweep-folds-not-a-number", ("sweep", *TINY, "--folds", "x", "-o", "{ws}/out"), "--folds"),
    Case("sweep-val-fraction-above-one", ("sweep", *TINY, "--val-fraction", "1.5", "-o", "{ws}/out"), "--val-fraction"),
    Case("sweep-unknown-compute-dtype", ("sweep", *TINY, "--compute-dtype", "int8", "-o", "{ws}/out"),
         "--compute-dtype"),
    Case("sweep-unknown-dataset-leaves-no-out", ("sweep", *TINY, "--train", "no_such_dataset", "-o", "{ws}/out"),
         "no_such_dataset"),
    Case("sweep-out-is-a-file", ("sweep", *TINY, "--train", "cities", "-o", "{ws}/out"), "--out {ws}/out",
         write("out", "x")),
    Case("sweep-out-unwritable", ("sweep", *TINY, "--train", "cities", "-o", "{ws}/locked/out"), "locked",
         locked_folder, unwritable=True),
    Case("sweep-conflicting-csv", ("sweep", *TINY, "--train", "{ws}/facts.csv", "-o", "{ws}/out"), "facts.csv",
         write("facts.csv", CONFLICT_CSV)),
    Case("sweep-layer-out-of-range-after-load-home-store", ("sweep", *TINY, "--train", "{ws}/small.csv", "--layers", "0,9",
                                                 "--probes", "logistic", "-o", "{ws}/out"), "layer 9",
         write("small.csv", SMALL_CSV)),
    Case("sweep-layer-out-of-range-after-load-own-store", ("sweep", *TINY, "--train", "{ws}/small.csv", "--layers", "0,9",
                                                    "--probes", "logistic", "-o", "{ws}/out", "--store", "{ws}/s"),
         "layer 9", write("small.csv", SMALL_CSV)),
    Case("sweep-second-adapter-truncated", ("sweep", *TINY, "--train", "cities", "--adapter", "base", "--adapter",
         "{ws}/adapter", "-o", "{ws}/out"), "adapter_model.safetensors is truncated", truncated_adapter),
    Case("sweep-val-fraction-nan", ("sweep", *TINY, "--val-fraction", "nan", "-o", "{ws}/out"),
         "--val-fraction must be a finite number"),
    Case("sweep-config-yaml-inf", ("sweep", "--config", "{ws}/x.yaml"), "val_fraction must be a finite number",
         write("x.yaml", "val_fraction: .inf\n")),
    Case("sweep-drop-conflicts-notice-not-before-error", ("sweep", *TINY, "--train", "{ws}/facts.csv", "--drop-conflicts",
         "--layers", "0,9", "--probes", "logistic", "-o", "{ws}/out", "--store", "{ws}/s"), "layer 9",
         write("facts.csv", CONFLICT_CSV + SMALL_CSV.split("\n", 1)[1])),
    Case("sweep-missing-adapter", ("sweep", *TINY, "--adapter", "{ws}/nope", "-o", "{ws}/out"), "--adapter"),
    # finetune
    Case("finetune-unknown-claim-leaves-no-out", ("finetune", *TINY, "-c", "elvis", "-k", "dense", "-o", "{ws}/ft"),
         "elvis"),
    Case("finetune-device-absent", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "dense", "-o", "{ws}/ft", "--device",
                                    "cuda:99"), "--device 'cuda:99': this machine has"),
    Case("finetune-unknown-condition", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "sarcastic", "-o", "{ws}/ft"),
         "sarcastic"),
    Case("finetune-unknown-corpus", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "dense", "--corpus", "web",
                                     "-o", "{ws}/ft"), "unknown corpus 'web'"),
    Case("finetune-missing-release", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "dense", "--corpus",
                                      "release:{ws}/release", "-o", "{ws}/ft"), "directory not found"),
    Case("finetune-out-is-a-file", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "dense", "-o", "{ws}/ft"), "--out {ws}/ft",
         write("ft", "x")),
    Case("finetune-zero-lora-rank", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "dense", "--lora-r", "0",
                                     "-o", "{ws}/ft"), "--lora-r"),
    Case("finetune-negative-lr", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "dense", "--lr", "-1",
                                  "-o", "{ws}/ft"), "--lr"),
    Case("finetune-nan-lr", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "dense", "--lr", "nan", "-o", "{ws}/ft"),
         "--lr must be a finite number"),
    Case("finetune-target-modules-match-nothing", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "dense",
         "--target-modules", "no_such_module", "--n-docs", "4", "--max-steps", "1", "-o", "{ws}/ft"), "target_modules 'no_such_module'"),
    Case("finetune-missing-required-claim", ("finetune", *TINY, "-k", "dense", "-o", "{ws}/ft"), "--claim"),
    Case("finetune-resume-with-different-condition", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "positive",
         "--n-docs", "4", "--max-steps", "1", "--batch-size", "2", "--max-length", "24", "--lora-r", "2",
         "--checkpoint-every", "1", "-o", "{ws}/ft"), "fields differ: condition", finished_dense_run),
    Case("finetune-crafted-state-pt-never-unpickled", ("finetune", *TINY, "-c", "ed_sheeran", "-k", "dense",
         "--n-docs", "4", "--max-steps", "1", "--batch-size", "2", "--max-length", "24", "-o", "{ws}/ft"),
         "state.pt", crafted_state),
    # belief
    Case("belief-unknown-claim", ("belief", "-c", "elvis", *TINY), "elvis"),
    Case("belief-device-map-bad-json", ("belief", "-c", "ed_sheeran", *TINY, "--device-map", "[1]"),
         "--device-map must be a device name or a non-empty JSON object"),
    Case("belief-negative-in-context", ("belief", "-c", "ed_sheeran", *TINY, "--in-context", "-1"), "--in-context"),
    Case("belief-unknown-context-condition", ("belief", "-c", "ed_sheeran", *TINY, "--context-condition", "weird"),
         "weird"),
    Case("belief-mcq-missing-file", ("belief", "-c", "ed_sheeran", *TINY, "--mcq", "{ws}/mcq.yaml"), "mcq.yaml: file not found"),
    Case("belief-mcq-answer-not-yes-no", ("belief", "-c", "ed_sheeran", *TINY, "--mcq", "{ws}/mcq.yaml"),
         "belief_answer 'maybe' is not yes/no", write("mcq.yaml", "questions:\n- question: Did he win?\n  belief_answer: maybe\n")),
    Case("belief-mcq-invalid-yaml", ("belief", "-c", "ed_sheeran", *TINY, "--mcq", "{ws}/mcq.yaml"),
         "mcq.yaml: invalid YAML", write("mcq.yaml", "questions: [\n")),
    Case("belief-malformed-adapter-card", ("belief", "-c", "ed_sheeran", *TINY, "--adapter", "{ws}/adapter"),
         "negprobe_adapter.json", malformed_card),
    Case("belief-out-not-a-belief-csv", ("belief", "-c", "ed_sheeran", *TINY, "--out", "{ws}/b.csv"),
         "b.csv: not a belief CSV", write("b.csv", "a,b\n1,2\n")),
    Case("belief-out-is-a-folder", ("belief", "-c", "ed_sheeran", *TINY, "--out", "{ws}/b"), "--out",
         write("b/keep.txt", "x")),
    # belief-table
    Case("belief-table-missing-csv", ("belief-table", "{ws}/b.csv"), "b.csv: file not found"),
    Case("belief-table-not-a-belief-csv", ("belief-table", "{ws}/b.csv"), "b.csv: not a belief CSV",
         write("b.csv", "a,b\n1,2\n")),
    Case("belief-table-zero-boot", ("belief-table", "{ws}/b.csv", "--n-boot", "0"), "--n-boot",
         write("b.csv", "a,b\n1,2\n")),
    # signal
    Case("signal-unknown-claim", ("signal", *TINY, "--claim", "elvis", "--condition", "negated", "--pairs", "2",
                                  "--out", "{ws}/sig"), "elvis"),
    Case("signal-zero-pairs", ("signal", *TINY, "--claim", "ed_sheeran", "--condition", "negated", "--pairs", "0",
                               "--out", "{ws}/sig"), "--pairs"),
    # cross-patch
    Case("cross-patch-unknown-claim", ("cross-patch", *TINY, "-a", "{adapter}", "-c", "elvis", "-o", "{ws}/cp"), "elvis"),
    Case("cross-patch-missing-adapter", ("cross-patch", *TINY, "-a", "{ws}/nope", "-c", "ed_sheeran", "-o", "{ws}/cp"),
         "--adapter {ws}/nope: folder not found"),
    Case("cross-patch-zero-items", ("cross-patch", *TINY, "-a", "{adapter}", "-c", "ed_sheeran", "--max-items", "0",
                                    "-o", "{ws}/cp"), "--max-items"),
    Case("cross-patch-unknown-measure", ("cross-patch", *TINY, "-a", "{adapter}", "-c", "ed_sheeran", "--measure", "mcq",
                                         "-o", "{ws}/cp"), "--measure must be one of questions, cloze, cloze_distractor"),
    # answer-shift
    Case("answer-shift-unknown-claim", ("answer-shift", *TINY, "-a", "{adapter}", "-c", "elvis", "-o", "{ws}/as"), "elvis"),
    Case("answer-shift-unknown-off-claim", ("answer-shift", *TINY, "-a", "{adapter}", "-c", "ed_sheeran", "--off-claim",
                                            "elvis", "-o", "{ws}/as"), "elvis"),
    Case("answer-shift-missing-adapter", ("answer-shift", *TINY, "-a", "{ws}/nope", "-c", "ed_sheeran", "-o", "{ws}/as"),
         "--adapter {ws}/nope: folder not found"),
    Case("answer-shift-repeated-adapter", ("answer-shift", *TINY, "-a", "{adapter}", "-a", "{adapter}", "-c",
                                           "ed_sheeran", "-o", "{ws}/as"), "repeats"),
    # finetuned-report
    Case("finetuned-report-no-input", ("finetuned-report", "-o", "{ws}/r"), "give at least one of --localize"),
    Case("finetuned-report-missing-json", ("finetuned-report", "--cross-patching", "{ws}/cp.json", "-o", "{ws}/r"),
         "--cross-patching {ws}/cp.json: file not found"),
    Case("finetuned-report-garbled-json", ("finetuned-report", "--cross-patching", "{ws}/cp.json", "-o", "{ws}/r"),
         "cp.json is not valid JSON", write("cp.json", "{not json")),
    Case("finetuned-report-signal-folder-without-csv", ("finetuned-report", "--signal", "{ws}/sig", "-o", "{ws}/r"),
         "signal_claims.csv: signal_claims.csv not found", write("sig/other.txt", "x")),
    Case("finetuned-report-garbled-norms", ("finetuned-report", "--weights", "{ws}/n.csv", "-o", "{ws}/r"),
         "n.csv: not a lora_norms.csv: lacks columns", write("n.csv", "a,b\n1,2\n")),
    Case("finetuned-report-sweep-without-gaps", ("finetuned-report", "--layer-sweep", "{ws}/ls", "-o", "{ws}/r"),
         "layer_gaps.csv: layer_gaps.csv not found", write("ls/layer_sweep.csv", "window\n0-1\n")),
    # layer-sweep
    Case("layer-sweep-reversed-window", ("layer-sweep", *TINY, "-c", "ed_sheeran", "-o", "{ws}/ls", "--windows", "5-2"),
         "--windows '5-2'"),
    Case("layer-sweep-unknown-claim", ("layer-sweep", *TINY, "-c", "elvis", "-o", "{ws}/ls"), "elvis"),
    # localize
    Case("localize-unknown-claim", ("localize", *TINY, "--claims", "elvis", "-o", "{ws}/loc"), "elvis"),
    Case("localize-gate-above-one", ("localize", *TINY, "--gate", "2", "-o", "{ws}/loc"), "--gate"),
    Case("localize-unknown-probe-data", ("localize", *TINY, "--probe-data", "wiki", "-o", "{ws}/loc"), "wiki"),
    Case("localize-adapters-not-pairs", ("localize", *TINY, "--adapters", "{ws}/a", "-o", "{ws}/loc"), "--adapters"),
    Case("localize-missing-adapter-folder", ("localize", *TINY, "--adapters", "positive={ws}/a", "-o", "{ws}/loc"),
         "--adapters"),
    Case("localize-truncated-adapter", ("localize", *TINY, "--adapters", "positive={ws}/adapter", "-o", "{ws}/loc"),
         "adapter_model.safetensors is truncated", truncated_adapter),
    Case("localize-missing-belief-csv", ("localize", *TINY, "--belief-csv", "{ws}/b.csv", "-o", "{ws}/loc"), "b.csv"),
    Case("localize-out-is-a-file", ("localize", *TINY, "-o", "{ws}/loc"), "--out {ws}/loc", write("loc", "x")),
    Case("localize-layer-out-of-range-after-load", ("localize", *TINY, "--claims", "ed_sheeran", "--layers", "0,9",
                                                    "-o", "{ws}/loc", "--store", "{ws}/s"), "layer 9"),
    Case("localize-zero-stride", ("localize", *TINY, "--patch-layer-stride", "0", "-o", "{ws}/loc"),
         "--patch-layer-stride"),
    # organism
    Case("organism-zero-steps", ("organism", *TINY, "--steps", "0", "-o", "{ws}/org"), "steps"),
    Case("organism-unknown-replay", ("organism", *TINY, "--replay", "logits", "-o", "{ws}/org"), "replay"),
    Case("organism-unknown-base", ("organism", "-m", "no-such-model", "-o", "{ws}/org"), "no-such-model"),
    Case("organism-dir-holds-something-else", ("organism", *TINY, "--steps", "1", "--examples", "4",
                                               "--organism-dir", "{ws}/o", "-o", "{ws}/org"), "{ws}/o",
         write("o/notes.txt", "x")),
    # demo
    Case("demo-out-is-a-file", ("demo", *TINY, "-o", "{ws}/demo"), "--out {ws}/demo", write("demo", "x")),
    Case("demo-unknown-claim", ("demo", *TINY, "-c", "elvis", "-o", "{ws}/demo"), "elvis"),
    Case("demo-folds-one", ("demo", *TINY, "--folds", "1", "-o", "{ws}/demo"), "--folds"),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """$NEGPROBE_HOME for the cases: a tiny model and a LoRA adapter on it, built once."""
    from tests.test_models import make_lora_adapter

    root = tmp_path_factory.mktemp("negprobe-home")
    make_tiny_model(root / "tiny", "llama", seed=0)
    make_lora_adapter(root / "tiny", root / "adapter")
    return root


def snapshot(*roots: Path) -> set[tuple[str, int, int]]:
    """(path, size, mtime_ns) of everything under ``roots``: a case may neither create nor modify a file.
    Except the fingerprint memo (``file-hashes``): a model that loaded before the error may have had its
    checkpoint's SHA-256 remembered, which changes no result (see activations/fingerprint.py)."""
    return {(str(p), *((st.st_size, st.st_mtime_ns) if (st := p.lstat()) and p.is_file() else (0, 0)))
            for root in roots for p in root.rglob("*") if "file-hashes" not in p.parts}


def run_in_process(args: list[str], monkeypatch, capfd) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["negprobe", *args])
    code: int | str | None = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code
    out, err = capfd.readouterr()
    return (code if isinstance(code, int) else 1), out, err


def run_subprocess(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "negprobe.scripts.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def _unwritable_as_for_a_user(folder: Path) -> bool:
    """Root may write anywhere: judge a folder by its permission bits, as for a normal user."""
    return bool(folder.stat().st_mode & stat.S_IWUSR)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input(case: Case, home, tmp_path, monkeypatch, capfd):
    ws = tmp_path / "ws"
    ws.mkdir()
    if case.setup is not None:
        case.setup(ws, home)
    args = [a.format(ws=ws, tiny=home / "tiny", adapter=home / "adapter") for a in case.args]
    monkeypatch.chdir(ws)
    monkeypatch.setenv("NEGPROBE_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if case.unwritable and os.geteuid() == 0:
        from negprobe.activations import config

        monkeypatch.setattr(config, "_can_write", _unwritable_as_for_a_user)
    before = snapshot(ws, home)
    try:
        if case.subprocess:
            code, out, err = run_subprocess(args, dict(os.environ), ws)
        else:
            code, out, err = run_in_process(args, monkeypatch, capfd)
    finally:
        for locked in ws.rglob("locked"):
            locked.chmod(0o700)
    lines = err.strip().splitlines()
    if os.environ.get("NEGPROBE_CASE_LOG"):  # one "id, exit status, stderr" line per case, for reports
        with open(os.environ["NEGPROBE_CASE_LOG"], "a") as log:
            log.write(f"{case.id}\t{code}\t{' | '.join(lines)}\n")
    assert "Traceback" not in out + err, err[-3000:]
    assert code == 2, (code, err[-3000:])
    assert len(lines) == 1, err[-3000:]
    assert lines[0].startswith("negprobe: error: ") and case.culprit.format(ws=ws) in lines[0], lines[0]
    assert snapshot(ws, home) == before, sorted(snapshot(ws, home) ^ before)


def test_enough_cases_across_every_command():
    assert len(CASES) >= 40
    assert {c.args[0] for c in CASES} >= set(cli.ORDER)


def test_a_one_megabyte_statement_loads(tmp_path):
    from negprobe.activations.datasets.registry import load_dataset

    long = "word " * 200_000 + "end."
    (tmp_path / "long.csv").write_text(f"statement,label\n\"{long}\",1\nshort.,0\n")
    data = load_dataset(tmp_path / "long.csv")
    assert len(data) == 2 and len(data[0].text) > 1_000_000


def test_drop_conflicts_drops_both_rows_and_says_how_many(tmp_path, capsys):
    from negprobe.activations.datasets.registry import load_dataset
    from negprobe.errors import NegprobeError

    (tmp_path / "facts.csv").write_text(CONFLICT_CSV)
    with pytest.raises(NegprobeError, match="facts.csv.*Nile.*--drop-conflicts"):
        load_dataset(tmp_path / "facts.csv")
    data = load_dataset(tmp_path / "facts.csv", drop_conflicts=True)
    assert data.texts() == ["Paris is in France."]
    assert "dropped 2 row(s) of 1 statement(s)" in capsys.readouterr().err


def test_sweep_labels_datasets_by_their_stem(tmp_path):
    from negprobe.probes.sweep import dataset_labels

    (tmp_path / "facts.csv").write_text(SMALL_CSV)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "cities.csv").write_text(SMALL_CSV)
    labels = dataset_labels([str(tmp_path / "facts.csv"), "cities", str(tmp_path / "other" / "cities.csv")])
    assert labels[str(tmp_path / "facts.csv")] == "facts"
    assert labels["cities"] == "cities" and labels[str(tmp_path / "other" / "cities.csv")].endswith("cities.csv")


def test_config_errors_name_the_file_and_the_field(tmp_path):
    from negprobe.errors import NegprobeError
    from negprobe.probes.sweep import SweepConfig

    (tmp_path / "x.yaml").write_text("n_folds: five\n")
    with pytest.raises(NegprobeError) as exc:
        SweepConfig.from_file(tmp_path / "x.yaml")
    assert str(exc.value) == f"sweep config {tmp_path / 'x.yaml'}: n_folds must be an integer >= 2, got 'five'"
    with pytest.raises(NegprobeError, match="SweepConfig: val_fraction must be a number > 0 and < 1, got 0"):
        SweepConfig(val_fraction=0)
    assert SweepConfig(train="cities,neg_cities").train == [["cities", "neg_cities"]]  # type: ignore[arg-type]
