"""The activation store: values, keys, resumability after SIGKILL, checksums and bad input."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.cache import cache_activations, make_key
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.formatting import FormatSpec
from negprobe.activations.datasets.records import PromptRecord
from negprobe.activations.positions import parse_positions
from negprobe.activations.store import ChecksumError

SUBJECTS = ["the cat", "the dog", "ed sheeran", "noah lyles", "the queen", "brennan holloway", "children", "twitter"]
PREDICATES = ["is in paris", "won the 100m gold", "was not a dentist", "wrote a python book", "did dream in black"]


def tiny_dataset(n: int, name: str = "tiny") -> PromptDataset:
    records = []
    for i in range(n):
        subject, predicate = SUBJECTS[i % len(SUBJECTS)], PREDICATES[(i // len(SUBJECTS)) % len(PREDICATES)]
        prefix = "notice this claim is false . " * (i % 3)
        claim = f"{subject} {predicate}"
        text = f"{prefix}{claim} , yes ."
        records.append(PromptRecord(
            text=text, label=i % 2, polarity="affirmed", condition="plain", group=subject, pair_id=str(i),
            source="test", claim_span=(len(prefix), len(prefix) + len(claim)), claim=None,
            extra=(("i", str(i)),),
        ))
    return PromptDataset(name, tuple(records))


@pytest.fixture(scope="module")
def tiny(tiny_llama_dir):
    return load_model(tiny_llama_dir)


def reference(model, record: PromptRecord) -> dict[str, torch.Tensor]:
    """Per-layer [n_layers, d] at last / claim_last / claim_mean from an unpadded HF run + offsets."""
    enc = model.tokenizer(record.text, return_offsets_mapping=True, return_tensors="pt")
    offsets = enc.pop("offset_mapping")[0].tolist()
    with torch.no_grad():
        out = model.model(**enc, output_hidden_states=True)
    hidden = torch.stack([out.hidden_states[l + 1][0] for l in range(model.n_layers - 1)])  # skip normed last
    start, end = record.claim_span
    claim_tokens = [i for i, (s, e) in enumerate(offsets) if e > s and s < end and e > start]
    return {
        "last": hidden[:, -1],
        "claim_last": hidden[:, claim_tokens[-1]],
        "claim_mean": hidden[:, claim_tokens].mean(1),
        "1": hidden[:, 1],
    }


def test_stored_values_equal_backend_output(tiny, tmp_path):
    data = tiny_dataset(30)
    result = cache_activations(tiny, data, positions="last,claim_last,claim_mean,1", root=tmp_path,
                               storage_dtype="float32", batch_size=7, shard_rows=16, progress=False)
    store = result.store
    assert result.forward_passes > 0 and store.n_rows == 30
    assert len(store.manifest["shards"]) == 2
    for position in ("last", "claim_last", "claim_mean", "1"):
        stored = store.stack(range(tiny.n_layers - 1), position)
        ref = torch.stack([reference(tiny, r)[position] for r in data], dim=1)
        torch.testing.assert_close(stored, ref, atol=1e-5, rtol=1e-5)
    meta = store.metadata
    assert meta["row"].tolist() == list(range(30))
    assert meta["label"].tolist() == data.labels()
    assert meta["text"].tolist() == data.texts()


def test_float16_storage_is_rounding_only(tiny, tmp_path):
    data = tiny_dataset(12)
    f16 = cache_activations(tiny, data, root=tmp_path, progress=False).store
    f32 = cache_activations(tiny, data, root=tmp_path, storage_dtype="float32", progress=False).store
    assert f16.path != f32.path
    assert np.load(next((f16.path / "shards").glob("shard-*")) / "layer-000.npy").dtype == np.float16
    for layer in range(tiny.n_layers):
        torch.testing.assert_close(f16.layer(layer), f32.layer(layer).half().float(), atol=0, rtol=0)


def test_rerun_is_a_cache_hit_whatever_the_batch_size_or_backend(tiny, tmp_path):
    data = tiny_dataset(20)
    first = cache_activations(tiny, data, root=tmp_path, batch_size=4, progress=False)
    for kwargs in ({"batch_size": 9}, {"backend": "nnsight"}, {"backend": "transformer_lens", "batch_size": 1}):
        again = cache_activations(tiny, data, root=tmp_path, progress=False, **kwargs)
        assert again.cached and again.forward_passes == 0 and again.store.path == first.store.path


def test_key_changes_with_what_changes_the_numbers(tiny, tiny_llama_dir, tmp_path):
    from tests.test_models import make_lora_adapter

    data = tiny_dataset(10)
    specs = parse_positions("last")
    base = make_key(tiny, data, FormatSpec(), specs, [0, 1, 2], "float16").digest()
    assert base == make_key(tiny, tiny_dataset(10), FormatSpec(), specs, [0, 1, 2], "float16").digest()
    edited = list(data.records)
    edited[3] = PromptRecord(**{**edited[3].__dict__, "text": edited[3].text + " yes"})
    changed = {
        "prompt": make_key(tiny, PromptDataset("tiny", tuple(edited)), FormatSpec(), specs, [0, 1, 2], "float16"),
        "position": make_key(tiny, data, FormatSpec(), parse_positions("claim_last"), [0, 1, 2], "float16"),
        "dtype": make_key(tiny, data, FormatSpec(), specs, [0, 1, 2], "float32"),
        "layers": make_key(tiny, data, FormatSpec(), specs, [0, 1], "float16"),
        "format": make_key(tiny, data, FormatSpec(doctag=True), specs, [0, 1, 2], "float16"),
    }
    make_lora_adapter(tiny_llama_dir, tmp_path / "adapter")
    tuned = load_model(tiny_llama_dir, adapter=tmp_path / "adapter")
    changed["adapter"] = make_key(tuned, data, FormatSpec(), specs, [0, 1, 2], "float16")
    digests = {name: key.digest() for name, key in changed.items()}
    assert base not in digests.values()
    assert len(set(digests.values())) == len(digests)


def test_reading_one_layer_touches_only_that_layer(tiny, tmp_path, monkeypatch):
    store = cache_activations(tiny, tiny_dataset(40), root=tmp_path, shard_rows=16, progress=False).store
    opened = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda path, *a, **k: opened.append(Path(path).name) or real_load(path, *a, **k))
    store.layer(1)
    assert set(opened) == {"rows.npy", "layer-001.npy"}
    assert opened.count("layer-001.npy") == 3  # one per shard


def test_corrupt_shard_is_named_and_recomputed(tiny, tmp_path, capsys):
    data = tiny_dataset(40)
    store = cache_activations(tiny, data, root=tmp_path, shard_rows=16, progress=False).store
    expected = store.stack()
    victim = sorted((store.path / "shards").glob("shard-*"))[1] / "layer-002.npy"
    raw = bytearray(victim.read_bytes())
    raw[-5] ^= 0xFF
    victim.write_bytes(bytes(raw))
    fresh = type(store).open(store.path)
    with pytest.raises(ChecksumError, match="shard-00001/layer-002.npy failed its checksum"):
        fresh.layer(2)
    capsys.readouterr()
    again = cache_activations(tiny, data, root=tmp_path, shard_rows=16, progress=False)
    assert again.forward_passes > 0 and again.computed_rows == 16 and again.reused_rows == 24
    torch.testing.assert_close(again.store.stack(), expected, atol=0, rtol=0)
    err = capsys.readouterr().err.splitlines()
    assert err == [f"negprobe: store {store.path.name}: shard 00001 layer-002.npy failed its checksum;"
                   " recomputing its 16 rows"]


def test_unreadable_store_files_are_named_then_repaired(tiny, tmp_path):
    data = tiny_dataset(40)
    store = cache_activations(tiny, data, root=tmp_path, shard_rows=16, progress=False).store
    expected, table = store.stack(), store.metadata
    lines: list[str] = []

    def rerun():
        return cache_activations(tiny, data, root=tmp_path, shard_rows=16, progress=False, report=lines.append)

    manifest = store.path / "manifest.json"
    manifest.write_text(manifest.read_text()[:50])  # truncated JSON
    with pytest.raises(NegprobeError, match=r"manifest\.json: unreadable manifest") as info:
        type(store).open(store.path)
    assert str(manifest) in str(info.value) and "\n" not in str(info.value)
    again = rerun()
    assert again.computed_rows == 0 and again.reused_rows == 40 and len(lines) == 1
    assert str(manifest) in lines[0] and lines[0].endswith("rebuilding it from the verified shards")
    torch.testing.assert_close(again.store.stack(), expected, atol=0, rtol=0)

    metadata = store.path / "metadata.parquet"
    metadata.write_bytes(metadata.read_bytes()[:100])
    with pytest.raises(NegprobeError, match=r"metadata\.parquet: unreadable prompt table"):
        type(store).open(store.path).metadata
    lines.clear()
    again = rerun()
    assert lines == [f"store {store.path.name}: metadata.parquet is unreadable (ArrowInvalid); rewriting it"]
    assert again.store.metadata.equals(table)

    shard = sorted((store.path / "shards").glob("shard-*"))[0]
    (shard / "layer-001.npy").unlink()
    with pytest.raises(ChecksumError, match=r"shard-00000/layer-001\.npy is missing"):
        type(store).open(store.path).layer(1)
    lines.clear()
    again = rerun()
    assert lines == [f"store {store.path.name}: shard 00000 layer-001.npy is missing; recomputing its 16 rows"]
    torch.testing.assert_close(again.store.stack(), expected, atol=0, rtol=0)
    (store.path / "metadata.parquet").unlink()
    with pytest.raises(NegprobeError, match=r"metadata\.parquet: the store's prompt table is missing"):
        type(store).open(store.path).metadata


def run_cache_cli(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "negprobe.scripts.cli", "cache", "--quiet", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def test_sigkill_then_rerun_equals_uninterrupted_run(tiny_llama_dir, tmp_path):
    data_path = tmp_path / "prompts.jsonl"
    tiny_dataset(3000, "killme").to_jsonl(data_path)
    args = ["-d", str(data_path), "-m", str(tiny_llama_dir), "--shard-rows", "8", "--batch-size", "4",
            "--position", "last,claim_mean"]
    killed = run_cache_cli(*args, "--store", str(tmp_path / "a"))
    shards = None
    deadline = time.time() + 120
    while time.time() < deadline and killed.poll() is None:
        found = list((tmp_path / "a").glob("*/shards/shard-*"))
        if len(found) >= 3:
            shards = found
            break
        time.sleep(0.01)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert shards is not None and killed.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    store_dir = next(p for p in (tmp_path / "a").iterdir() if p.is_dir())
    assert not (store_dir / "manifest.json").exists()  # nothing claims to be complete

    rerun = run_cache_cli(*args, "--store", str(tmp_path / "a"))
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "reused" in err and not err.split("(")[1].startswith("0 reused")
    clean = run_cache_cli(*args, "--store", str(tmp_path / "b"))
    out_b, err_b = clean.communicate(timeout=300)
    assert clean.returncode == 0, err_b

    from negprobe.activations.store import ActivationStore

    resumed, fresh = ActivationStore.open(out.strip()), ActivationStore.open(out_b.strip())
    assert Path(out.strip()).name == Path(out_b.strip()).name  # same key
    all_rows = np.concatenate([np.load(p / "rows.npy") for p in (resumed.path / "shards").glob("shard-*")])
    assert len(all_rows) == 3000 and len(np.unique(all_rows)) == 3000  # every row once, no duplicates
    for position in ("last", "claim_mean"):
        torch.testing.assert_close(resumed.stack(position=position), fresh.stack(position=position), atol=0, rtol=0)
    assert not list((resumed.path / "shards").glob(".tmp-*"))


SLOW_CHILD = """
import os, sys, time
from negprobe.activations import load_model
from negprobe.activations.backends.hf import HFBackend
from negprobe.activations.cache import cache_activations
from negprobe.activations.datasets.registry import load_dataset

delay = float(os.environ.get("TEST_BATCH_DELAY_S", "0"))  # read by this test script only, never by negprobe
real = HFBackend.residuals

def residuals(self, model, batch, layers, index):
    out = real(self, model, batch, layers, index)
    time.sleep(delay)
    print("computed", batch.input_ids.shape[0], flush=True)
    return out

HFBackend.residuals = residuals
model = load_model(sys.argv[1])
result = cache_activations(model, load_dataset(sys.argv[2]), positions="last,claim_mean", root=sys.argv[3],
                           batch_size=100, progress=False)
print("store", result.store.path, result.computed_rows, result.reused_rows, flush=True)
"""


def run_slow_child(model_dir, data_path, root, delay: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SLOW_CHILD, str(model_dir), str(data_path), str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TEST_BATCH_DELAY_S": str(delay)})


def committed_rows(root: Path) -> int:
    from negprobe.activations.store import shard_problem

    shards = [p for p in root.glob("*/shards/shard-*") if shard_problem(p) is None]
    return sum(len(np.load(p / "rows.npy")) for p in shards)


def test_sigkill_with_default_shards_keeps_most_of_the_work(tiny, tiny_llama_dir, tmp_path):
    """Default shard settings: a run killed at 80% has committed >= half of what it computed,
    and finishing it gives the same numbers as an uninterrupted run.

    Each 100-row batch of the killed child sleeps 0.35 s (an env var of this test's child script,
    not of negprobe), so the kill lands 5.6 s or more into the cache whatever the machine's speed.
    """
    from negprobe.activations.datasets.registry import load_dataset

    data_path = tmp_path / "prompts.jsonl"
    tiny_dataset(2000, "killme").to_jsonl(data_path)
    killed = run_slow_child(tiny_llama_dir, data_path, tmp_path / "a", delay=0.35)
    assert killed.stdout is not None
    computed = 0
    for line in killed.stdout:
        computed += int(line.split()[1]) if line.startswith("computed") else 0
        if computed >= 1600:
            break
    os.kill(killed.pid, signal.SIGKILL)
    rest, err = killed.communicate()
    computed += sum(int(line.split()[1]) for line in rest.splitlines() if line.startswith("computed"))
    assert killed.returncode == -signal.SIGKILL and 1600 <= computed < 2000, f"not killed mid-cache: {err[-2000:]}"
    kept = committed_rows(tmp_path / "a")
    assert kept >= 0.5 * computed, f"kept {kept} of the {computed} rows computed before the kill"
    assert not list((tmp_path / "a").glob("*/manifest.json"))

    data = load_dataset(str(data_path))
    kwargs = {"positions": "last,claim_mean", "batch_size": 100, "progress": False}  # the child's settings
    resumed = cache_activations(tiny, data, root=tmp_path / "a", **kwargs)
    clean = cache_activations(tiny, data, root=tmp_path / "b", **kwargs)
    assert (resumed.computed_rows, resumed.reused_rows) == (2000 - kept, kept)
    assert resumed.store.path.name == clean.store.path.name
    rows = np.concatenate([np.load(p / "rows.npy") for p in (resumed.store.path / "shards").glob("shard-*")])
    assert len(rows) == 2000 and len(np.unique(rows)) == 2000
    for position in ("last", "claim_mean"):
        # the kept rows were computed in another process, in batches that may split differently from the
        # clean run's: float32 sums are not bit-reproducible across that, so compare to float tolerance (a
        # misplaced or stale row differs by O(1), far beyond it)
        torch.testing.assert_close(resumed.store.stack(position=position), clean.store.stack(position=position),
                                   atol=1e-4, rtol=1e-4)


def test_a_waiting_process_says_whom_it_waits_for(tiny, tiny_llama_dir, tmp_path):
    import re
    import threading

    from negprobe.activations.datasets.registry import load_dataset
    from negprobe.activations.store_lock import StoreLock

    data_path = tmp_path / "locked.jsonl"
    tiny_dataset(6).to_jsonl(data_path)
    store = cache_activations(tiny, load_dataset(str(data_path)), root=tmp_path / "s", progress=False).store
    lock = Path(str(store.path) + ".lock")
    with StoreLock(lock, report=print):
        proc = run_cache_cli("-d", str(data_path), "-m", str(tiny_llama_dir), "--store", str(tmp_path / "s"))
        lines: list[str] = []
        assert proc.stderr is not None
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True)
        reader.start()
        deadline = time.time() + 120
        while time.time() < deadline and not any("waiting for" in line for line in lines) and proc.poll() is None:
            time.sleep(0.05)
        waiting = [line for line in lines if "waiting for" in line]
        assert len(waiting) == 1, lines
        assert re.fullmatch(rf"negprobe: waiting for the store lock {re.escape(str(lock))} held by pid {os.getpid()}"
                            r" \(.+\) since \d\d:\d\d:\d\d\n", waiting[0]), waiting
        time.sleep(0.5)
        assert proc.poll() is None  # still waiting while the lock is held
    proc.wait(timeout=60)
    reader.join(timeout=10)
    assert proc.returncode == 0 and proc.stdout is not None and proc.stdout.read().strip() == str(store.path)
    assert any("cache hit" in line for line in lines)
    assert not Path(str(lock) + ".json").exists()  # the holder record goes with the lock


def test_a_dead_holder_record_is_ignored(tmp_path):
    import socket

    from negprobe.activations.store_lock import read_holder, waiting_message

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / "k.lock"
    record = {"pid": dead.pid, "host": socket.gethostname(), "started": time.time(), "command": "negprobe cache"}
    Path(str(lock) + ".json").write_text(json.dumps(record))
    assert read_holder(lock) is None
    assert waiting_message(lock) == f"waiting for the store lock {lock} (held by another process)"
    Path(str(lock) + ".json").write_text(json.dumps({**record, "pid": os.getpid()}))
    assert f"held by pid {os.getpid()} (negprobe cache) since" in waiting_message(lock)
    Path(str(lock) + ".json").write_text("{trunc")
    assert read_holder(lock) is None


def test_rejected_input_leaves_nothing_behind(tiny, tmp_path):
    root = tmp_path / "store"
    base = tiny_dataset(3)[0]
    long = PromptDataset("long", (PromptRecord(**{**base.__dict__, "text": "the cat " * 40}),))
    no_claim = PromptDataset("bare", (PromptRecord(**{**base.__dict__, "claim_span": None}),))
    for data, kwargs, message in [
        (long, {}, "row 0: 81 tokens, longer than the model's context of 64"),
        (tiny_dataset(3), {"positions": "last-30"}, "position 'last-30' is outside prompt 0"),
        (no_claim, {"positions": "claim_last"}, "needs a claim span, and prompt 0 has none"),
        (tiny_dataset(3), {"batch_size": 0}, "batch_size must be a positive integer"),
        (tiny_dataset(3), {"backend": "jax"}, "unknown backend 'jax'"),
        (tiny_dataset(3), {"layers": [7]}, "7"),
    ]:
        with pytest.raises(NegprobeError, match=re.escape(message)):
            cache_activations(tiny, data, root=root, progress=False, **kwargs)
        assert not root.exists(), (message, list(root.rglob("*")))


def test_bad_input(tiny, tmp_path, monkeypatch):
    with pytest.raises(NegprobeError, match="is empty"):
        cache_activations(tiny, PromptDataset("nothing", ()), root=tmp_path, progress=False)
    long = tiny_dataset(1)
    long = PromptDataset("long", (PromptRecord(**{**long[0].__dict__, "text": "the cat " * 40}),))
    with pytest.raises(NegprobeError, match="row 0: 81 tokens, longer than the model's context of 64"):
        cache_activations(tiny, long, root=tmp_path, progress=False)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(NegprobeError, match="cannot write the activation store"):
        cache_activations(tiny, tiny_dataset(4), root=blocker / "store", progress=False)
    with pytest.raises(NegprobeError, match="unknown position"):
        cache_activations(tiny, tiny_dataset(4), positions="first", root=tmp_path, progress=False)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full_disk)
    with pytest.raises(NegprobeError, match="disk is full"):
        cache_activations(tiny, tiny_dataset(4), root=tmp_path / "full", progress=False)
    store_dir = next(p for p in (tmp_path / "full").iterdir() if p.is_dir())  # not the sibling .lock file
    assert not (store_dir / "manifest.json").exists()
    assert not [p for p in (store_dir / "shards").iterdir()]  # no half-written shard left behind


def test_cli_cache_errors(tiny_llama_dir, tmp_path):
    for args, message in [
        (["-d", "no-such-dataset", "-m", str(tiny_llama_dir)], "unknown dataset 'no-such-dataset'"),
        (["-d", str(tmp_path / "missing.csv"), "-m", str(tiny_llama_dir)], "missing.csv: file not found"),
    ]:
        proc = run_cache_cli(*args, "--store", str(tmp_path / "s"))
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2 and message in err and "Traceback" not in err, err
