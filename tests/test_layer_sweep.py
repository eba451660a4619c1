"""``negprobe layer-sweep`` mechanics on a tiny model, and the per-window gap table against a planted one."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from safetensors.torch import load_file

from negprobe.analysis.layer_windows import thirds, window_gaps
from negprobe.errors import NegprobeError


def test_thirds_cover_the_network():
    assert thirds(30) == ["0-9", "10-19", "20-29"] and thirds(3) == ["0-0", "1-1", "2-2"] and thirds(7) == \
        ["0-2", "3-4", "5-6"]
    with pytest.raises(NegprobeError):
        thirds(2)


def test_window_gaps_pair_by_seed_with_a_t_interval():
    rows = []
    for window, gap in (("0-9", -2.0), ("10-19", 0.0)):
        for seed, noise in zip((0, 1, 2), (0.3, -0.1, -0.2)):
            rows.append((window, "positive", seed, "cloze", 5.0 + seed, 1.0))
            rows.append((window, "negated", seed, "cloze", 5.0 + seed + gap + noise, 1.0))
    table = pd.DataFrame(rows, columns=["window", "condition", "seed", "measure", "mean_margin", "belief_rate"])
    gaps = window_gaps(table).set_index("window")
    assert set(gaps["reference"]) == {"positive"}  # no local adapter: no local row
    assert gaps.loc["0-9", "gap"] == pytest.approx(-2.0) and gaps.loc["10-19", "gap"] == pytest.approx(0.0)
    diffs = np.array([0.3, -0.1, -0.2])  # seed pairing removes the seeds' shared offset 5 + seed
    half = 4.302652729911275 * diffs.std(ddof=1) / np.sqrt(3)  # t(0.975, 2)
    assert gaps.loc["0-9", "gap_ci_low"] == pytest.approx(-2.0 - half)
    assert gaps.loc["0-9", "gap_ci_high"] == pytest.approx(-2.0 + half) and (gaps["n_seeds"] == 3).all()


def test_window_gaps_also_against_local():
    table = pd.DataFrame([("0-1", c, s, "cloze", m + s, 1.0) for s in (0, 1) for c, m in
                          (("positive", 4.0), ("negated", 3.0), ("local", 0.5))],
                         columns=["window", "condition", "seed", "measure", "mean_margin", "belief_rate"])
    gaps = window_gaps(table).set_index("reference")
    assert gaps.loc["positive", "gap"] == pytest.approx(-1.0) and gaps.loc["local", "gap"] == pytest.approx(2.5)
    assert gaps.loc["local", "reference_margin"] == pytest.approx(1.0)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "negprobe.scripts.cli", *args], capture_output=True, text=True,
                          timeout=900)


def test_layer_sweep_trains_each_window_and_writes_the_gap_table(tiny_llama_dir, tmp_path):
    out = tmp_path / "sweep"
    proc = cli("layer-sweep", "-m", str(tiny_llama_dir), "-c", "ed_sheeran", "-o", str(out), "--windows", "0-0,1-2",
               "--seeds", "0,1", "--n-docs", "2", "--max-steps", "1", "--max-length", "32", "--lora-r", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = pd.read_csv(out / "layer_sweep.csv")
    gaps = pd.read_csv(out / "layer_gaps.csv")
    assert set(sweep["window"]) == {"0-0", "1-2"} and len(sweep.groupby(["window", "condition", "seed"])) == 8
    for window, (first, last) in (("0-0", (0, 0)), ("1-2", (1, 2))):
        for folder in set(sweep.loc[sweep["window"] == window, "adapter"]):
            blocks = {int(m.group(1)) for name in load_file(f"{folder}/adapter_model.safetensors")
                      if (m := re.search(r"\.layers\.(\d+)\.", name))}
            assert blocks == set(range(first, last + 1)), (folder, blocks)
    cloze = sweep[(sweep["measure"] == "cloze") & (sweep["window"] == "1-2")].pivot(index="seed", columns="condition",
                                                                                    values="mean_margin")
    row = gaps[(gaps["window"] == "1-2") & (gaps["measure"] == "cloze") & (gaps["reference"] == "positive")].iloc[0]
    assert row["gap"] == pytest.approx((cloze["negated"] - cloze["positive"]).mean()) and row["n_seeds"] == 2
    assert proc.stdout.strip().endswith("layer_gaps.csv")


@pytest.mark.parametrize("args, words", [
    (["--windows", "0-7"], "has decoder blocks 0..2"),
    (["--conditions", "positive,sarcastic"], "sarcastic"),
    (["--seeds", "1,1"], "--seeds: expected distinct"),
])
def test_layer_sweep_bad_input_is_one_line_and_writes_nothing(args, words, tiny_llama_dir, tmp_path, monkeypatch,
                                                              capfd):
    from negprobe.scripts import cli as negprobe_cli

    out = tmp_path / "sweep"
    monkeypatch.setattr(sys, "argv", ["negprobe", "layer-sweep", "-m", str(tiny_llama_dir), "-c", "ed_sheeran", "-o",
                                      str(out), *args])
    with pytest.raises(SystemExit) as exc:  # in process: a subprocess spends seconds importing torch
        negprobe_cli.main()
    err = capfd.readouterr().err
    assert exc.value.code == 2 and words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()
