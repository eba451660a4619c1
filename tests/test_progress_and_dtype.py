"""Progress on the long stages (fine-tuning steps, sweep folds, demo timing table) and the compute dtype
reaching localize and the causal checks."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from rich.console import Console

from negprobe.activations.finetune import StepReport
from negprobe.activations.finetune.train import FinetuneConfig, finetune
from negprobe.activations.progress import StageClock, StageTime, timing_table
from negprobe.analysis import localize
from negprobe.analysis.causal import causal_checks
from negprobe.analysis.claim_patching import TO_ANNOTATED, TO_PLAIN
from negprobe.analysis.localize import LocalizeConfig
from negprobe.errors import NegprobeError
from negprobe.probes.sweep import SweepConfig
from negprobe.probes.sweep_eval import SweepData, evaluate
from negprobe.scripts.demo import run_stage, timed
from tests.planted_lm import FakeReader, planted_model, questions
from tests.test_cli import captured  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


# --------------------------------------------------------------------------- demo timing table

def test_timing_table_lists_each_stage_its_seconds_and_whether_it_ran():
    stages = [StageTime("sweep", 612.34, False), StageTime("fine-tune positive", 0.02, True),
              StageTime("localize", 300.0, False)]
    lines = timing_table(stages).splitlines()
    assert lines[0] == "| stage | seconds | reused or run |"
    assert lines[2:] == ["| sweep | 612.3 | run |", "| fine-tune positive | 0.0 | reused |", "| localize | 300.0 | run |",
                         "| total | 912.4 | 2 run, 1 reused |"]
    assert timing_table([]).splitlines()[-1] == "| total | 0.0 | 0 run, 0 reused |"


def test_a_stage_is_timed_as_run_then_as_reused(tmp_path):
    console, clock, calls = Console(file=open(tmp_path / "log", "w")), StageClock(), []
    marker = tmp_path / "stage" / ".marker.json"
    for _ in range(2):
        timed(clock, "sweep", lambda: run_stage(console, marker, {"seed": 1}, "sweep", lambda: calls.append(1)))
    timed(clock, "sweep", lambda: run_stage(console, marker, {"seed": 2}, "sweep", lambda: calls.append(2)))
    assert calls == [1, 2] and [s.reused for s in clock.stages] == [False, True, False]
    assert all(s.stage == "sweep" and s.seconds >= 0 for s in clock.stages)


def test_the_stage_clock_times_a_block_and_echoes_it():
    said: list[str] = []
    clock = StageClock(echo=said.append)
    with clock("readers"):
        time.sleep(0.05)
    clock.add("margins", 12.3, reused=True)
    assert [s.stage for s in clock.stages] == ["readers", "margins"]
    assert 0.05 <= clock.stages[0].seconds < 1.0 and clock.stages[1] == StageTime("margins", 12.3, True)
    assert said[0].startswith("readers: ") and said[1] == "margins: 12 s (reused)"


# --------------------------------------------------------------------------- fine-tuning progress

def test_finetune_reports_every_step_with_loss_tokens_per_second_and_eta(tiny_llama_dir, tmp_path, capsys):
    reports: list[StepReport] = []
    out = finetune(FinetuneConfig(model=str(tiny_llama_dir), claim="ed_sheeran", condition="dense",
                                  out=str(tmp_path / "ft"), max_steps=4, batch_size=2, n_docs=4, max_length=32,
                                  lora_r=2, checkpoint_every=2), progress=True, on_step=reports.append)
    card = json.loads((out / "training_card.json").read_text())
    assert [r.step for r in reports] == [1, 2, 3, 4] and {r.total for r in reports} == {4}
    assert [r.loss for r in reports] == card["loss_curve"]
    assert all(r.tokens_per_s > 0 and r.steps_per_s > 0 and r.eta_s >= 0 for r in reports)
    assert reports[-1].eta_s == 0
    printed = capsys.readouterr().out  # not a terminal: one plain line per tenth of the run (here every step)
    assert [line.split("  ")[0] for line in printed.splitlines() if "step" in line] == \
        [f"fine-tuning ed_sheeran/dense: step {k}/4" for k in (1, 2, 3, 4)]
    assert "tok/s" in printed and "ETA" in printed


# --------------------------------------------------------------------------- sweep probe-fitting progress

def test_sweep_evaluation_reports_each_fitted_fold_and_skipped_families():
    rng = np.random.default_rng(0)
    n, folds = 96, 3
    y = (np.arange(n) % 2).astype(float)
    X = torch.tensor(rng.normal(size=(2, n, 6)) + 2.0 * y[None, :, None], dtype=torch.float32)
    rows = pd.DataFrame({"dataset": "d", "label": y, "polarity": "affirmed", "group": [f"g{i % 12}" for i in range(n)],
                         "pair_id": [str(i) for i in range(n)]})
    data = SweepData(X, rows, [0, 1], {"name": "m", "adapter": "", "fingerprint": "f", "d_model": 6}, {"d": "h"})
    calls: list[int] = []
    table = evaluate(data, ["d"], ["d"], ["logistic", "ccs", "mass_mean"],
                     SweepConfig(n_folds=folds, n_boot=10), "last", calls.append)
    assert calls == [1, 1, 1, 3, 1, 1, 1]  # one per fitted fold; ccs (no negated twins) is skipped at once
    assert set(table["probe"]) == {"logistic", "mass_mean"}


# --------------------------------------------------------------------------- compute dtype

def test_localize_loads_every_model_in_its_compute_dtype(monkeypatch, tmp_path):
    seen = []

    class Loaded(Exception):
        pass

    def fake_load(name, adapter=None, dtype="float32", **kwargs):
        seen.append(dtype)
        raise Loaded

    monkeypatch.setattr("negprobe.activations.backends.remote_model.load_model", fake_load)  # what localize calls
    for dtype in ("bfloat16", "float32"):
        with pytest.raises(Loaded):
            localize.run_localize(LocalizeConfig(compute_dtype=dtype, out=str(tmp_path / "o")))
    assert seen == ["bfloat16", "float32"]
    assert LocalizeConfig().compute_dtype == "float32"
    with pytest.raises(NegprobeError, match="compute_dtype"):
        LocalizeConfig(compute_dtype="int8")


def test_localize_compute_dtype_flag_reaches_the_config(captured):  # noqa: F811
    assert captured("localize", "--compute-dtype", "bfloat16") == LocalizeConfig(compute_dtype="bfloat16")


def test_bfloat16_patching_localises_a_planted_route_at_the_same_layer():
    config = SimpleNamespace(n_boot=50, seed=0, progress=False, patch_positions=4)
    found = {}
    for dtype in (torch.float32, torch.bfloat16):
        model = planted_model(n_layers=6, handoff=3)
        model.model.to(dtype)
        result = causal_checks(model, questions(), {"planted": FakeReader()}, config, steer_reader="planted",
                               steer_slot=5)
        found[dtype] = {(a, d): (p.handoff[d].layer, p.handoff[d].ci_low, p.handoff[d].ci_high)
                        for a, p in result.patching.items() for d in (TO_PLAIN, TO_ANNOTATED)}
        curve = result.patching["notice"].mean[TO_PLAIN].value
        np.testing.assert_allclose(curve, [1, 1, 1, 0, 0, 0], atol=0.02)  # bf16: within rounding of the exact curve
    assert found[torch.bfloat16] == found[torch.float32] and len(found[torch.float32]) == 6
    assert set(found[torch.float32].values()) == {(3, 3, 3)}
