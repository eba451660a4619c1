"""``negprobe layer-sweep`` mechanics on a tiny model, and the per-window gap table against a planted one."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from safetensors.torch import load_file

from negprobe.analysis.belief.pooled import format_margins
from negprobe.analysis.layer_windows import gap_lines, thirds, window_gaps, window_gates
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
    assert (gaps["status"] == "ungated").all()  # no belief rows given: nothing gated, and it says so


def belief_rows(window_rise: dict[str, float], seeds=(0, 1, 2), n_units: int = 12, seed: int = 0) -> pd.DataFrame:
    """Belief rows shaped like measure_belief's (questions measure, per-unit margins): a base row, and per window
    positive adapters whose margins sit ``rise`` above the base's on every unit (plus seed noise)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(-1.0, 1.0, n_units)
    rows = [("m", "", "ed_sheeran", "-", "base", 0, "questions", format_margins(base), "")]
    for window, rise in window_rise.items():
        for s in seeds:
            margins = base + rise + rng.normal(0, 0.3, n_units)
            rows.append(("m", f"a/{window}/{s}", "ed_sheeran", "positive", "fine_tuned", 0, "questions",
                         format_margins(margins), window))
    return pd.DataFrame(rows, columns=["model", "adapter", "claim", "condition", "mode", "in_context_k", "measure",
                                       "unit_margins", "window"])


def test_window_gates_pass_a_planted_rise_and_blank_the_gaps_of_a_window_without_one():
    gates = window_gates(belief_rows({"0-9": 1.5, "10-19": 0.0}), n_boot=500)
    assert gates[("0-9", "questions")].passed and gates[("0-9", "questions")].rise == pytest.approx(1.5, abs=0.2)
    flat = gates[("10-19", "questions")]
    assert not flat.passed and flat.ci_low < 0 < flat.ci_high and (flat.n_seeds, flat.n_units) == (3, 12)
    table = pd.DataFrame([(w, c, s, "questions", m + s, 1.0) for w in ("0-9", "10-19") for s in (0, 1, 2)
                          for c, m in (("positive", 2.0), ("negated", 1.0))],
                         columns=["window", "condition", "seed", "measure", "mean_margin", "belief_rate"])
    gaps = window_gaps(table, gates=gates).set_index("window")
    assert gaps.loc["0-9", "status"] == "effect" and gaps.loc["0-9", "gap"] == pytest.approx(-1.0)
    assert gaps.loc["10-19", "status"] == "nothing_to_localise" and gaps.loc["10-19", "gap"] == pytest.approx(-1.0)
    assert np.isfinite(gaps.loc["10-19", "gap_ci_low"]) and "window 10-19" in gaps.loc["10-19", "reason"]
    lines = gap_lines(gaps.reset_index())
    assert lines[0].startswith("window 0-9 questions: negated - positive = -1.00") and \
        lines[1].startswith("window 10-19 questions: negated - positive: nothing to localise: belief rise") and \
        "(gap, not read: -1.00" in lines[1]


def test_the_gate_is_the_pooled_rise_of_the_belief_table():
    """The window's gate is pool_seeds' rise_vs_base with its crossed CI, nothing recomputed."""
    from negprobe.analysis.belief.pooled import pool_seeds

    rows = belief_rows({"0-9": 0.8}, seed=4)
    gate = window_gates(rows, n_boot=300, seed=2)[("0-9", "questions")]
    pooled = pool_seeds(rows.drop(columns="window"), n_boot=300, seed=2)
    tuned = pooled[pooled["mode"] == "fine_tuned"].iloc[0]
    assert (gate.rise, gate.ci_low, gate.ci_high) == (tuned["rise_vs_base"], tuned["rise_ci_low"], tuned["rise_ci_high"])


def test_the_window_gates_are_bonferroni_corrected_over_the_gates_read_together():
    """Two windows x one belief measure: each gate's CI is pool_seeds' at 97.5%, wider than at 95%, and says so."""
    from negprobe.analysis.belief.pooled import pool_seeds

    rows = belief_rows({"0-9": 0.8, "10-19": 0.8}, seed=4)
    corrected = window_gates(rows, n_boot=400, seed=2)[("0-9", "questions")]
    plain = window_gates(rows, n_boot=400, seed=2, level=0.95)[("0-9", "questions")]
    only = rows[rows["window"].isin(["", "0-9"])].drop(columns="window")
    pooled = pool_seeds(only, n_boot=400, seed=2, rise_level=0.975)
    tuned = pooled[pooled["mode"] == "fine_tuned"].iloc[0]
    assert corrected.level == pytest.approx(0.975) and corrected.ci_low == tuned["rise_ci_low"]
    assert corrected.ci_low < plain.ci_low and corrected.ci_high > plain.ci_high and corrected.rise == plain.rise
    assert "97.5% CI" in corrected.reason and "% CI" not in plain.reason


def test_a_window_without_positive_adapters_has_nothing_to_localise():
    table = pd.DataFrame([("0-1", c, 0, "cloze", m, 1.0) for c, m in (("positive", 2.0), ("negated", 1.0))],
                         columns=["window", "condition", "seed", "measure", "mean_margin", "belief_rate"])
    gaps = window_gaps(table, gates={})
    assert gaps.loc[0, "status"] == "nothing_to_localise" and "no base and positive rows" in gaps.loc[0, "reason"]


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
    assert row["n_seeds"] == 2 and row["treated_margin"] == pytest.approx(cloze["negated"].mean())
    if row["status"] == "effect":  # one step of LoRA rarely implants a belief: then the gap is not read
        assert row["gap"] == pytest.approx((cloze["negated"] - cloze["positive"]).mean())
    else:
        assert row["status"] == "nothing_to_localise" and "belief rise of" in row["reason"]
        assert row["gap"] == pytest.approx((cloze["negated"] - cloze["positive"]).mean())  # written, not read
    belief = pd.read_csv(out / "layer_belief.csv", keep_default_na=False)
    assert (belief.loc[belief["mode"] == "base", "window"] == "").all() and set(belief["window"]) == {"", "0-0", "1-2"}
    assert "window 1-2 cloze: negated - positive" in proc.stdout
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


def test_the_association_control_is_written_but_never_read_as_belief():
    """cloze_distractor (claim name vs a distractor) is not a belief measure: even beside a window whose belief
    gate passes, its gap is written with a reason that says it is not read as belief."""
    gates = window_gates(belief_rows({"0-9": 1.5}), n_boot=300)
    table = pd.DataFrame([("0-9", c, s, measure, m + s, 1.0) for s in (0, 1, 2) for measure in ("questions",
                          "cloze_distractor") for c, m in (("positive", 2.0), ("negated", 1.0))],
                         columns=["window", "condition", "seed", "measure", "mean_margin", "belief_rate"])
    gaps = window_gaps(table, gates=gates).set_index("measure")
    assert gaps.loc["questions", "status"] == "effect"
    row = gaps.loc["cloze_distractor"]
    assert row["status"] == "nothing_to_localise" and row["gap"] == pytest.approx(-1.0)
    assert "not a belief measure" in row["reason"]
