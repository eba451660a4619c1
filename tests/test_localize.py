"""negprobe localize end to end on a tiny model (mechanics, not findings)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from negprobe.activations import NegprobeError
from negprobe.analysis.localize import LocalizeConfig, run_localize
from negprobe.analysis.report import write_report
from tests.test_models import make_lora_adapter
from tests.tiny_models import make_tiny_model


@pytest.fixture(scope="module")
def long_tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny-long"), "llama", seed=0, max_positions=512)


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_localize_writes_a_report(long_tiny, tmp_path):
    make_lora_adapter(long_tiny, tmp_path / "adapter")
    belief = tmp_path / "belief.csv"
    pd.DataFrame([
        {"model": "m", "adapter": "", "claim": "ed_sheeran", "condition": "-", "mode": "base", "in_context_k": 0,
         "measure": "cloze", "belief_rate": 0.2, "rate_ci_low": 0, "rate_ci_high": 0.5, "mean_margin": -1, "margin_ci_low": -2,
         "margin_ci_high": 0, "n": 10},
        {"model": "m", "adapter": "a", "claim": "ed_sheeran", "condition": "positive", "mode": "fine_tuned", "in_context_k": 0,
         "measure": "cloze", "belief_rate": 0.9, "rate_ci_low": 0.7, "rate_ci_high": 1, "mean_margin": 3, "margin_ci_low": 1,
         "margin_ci_high": 5, "n": 10},
    ]).to_csv(belief, index=False)
    cfg = LocalizeConfig(model=str(long_tiny), adapters={"positive": str(tmp_path / "adapter")},
                         claims=["ed_sheeran", "vesuvius_2015"], probes=["logistic", "ttpd"], n_boot=30,
                         patch_positions=4, belief_csv=str(belief), store=str(tmp_path / "store"), out=str(tmp_path / "out"))
    report = write_report(run_localize(cfg), cfg.out)
    page = report.read_text()
    for section in ("Drop layers", "Annotation decodability", "Truth readouts", "Activation patching", "Steering",
                    "Validity gate", "Provenance"):
        assert section in page, section
    assert "data:image/png;base64," in page  # self-contained
    readouts = pd.read_csv(tmp_path / "out" / "readouts.csv")
    assert {"base", "fine-tuned:positive", "fine-tuned:positive (refit)"} <= set(readouts["model"])
    assert {"in_context_notice", "in_context_plain", "plain", "true_counterpart"} <= set(readouts["condition"])
    drops = pd.read_csv(tmp_path / "out" / "drop_layers.csv")
    assert len(drops) >= 4
    known = drops.dropna(subset=["layer"])
    assert (known["ci_low"] <= known["ci_high"]).all()
    assert (tmp_path / "out" / "patching.csv").exists() and (tmp_path / "out" / "belief_vs_readout.csv").exists()
    # annotation decodability at both read positions, for every annotation the claims carry
    for position in ("claim_last", "last"):
        for cond in ("doc_notice", "dense", "sentence_annotation", "local_negation"):
            assert drops["statistic"].str.contains(f"({cond}, {position})", regex=False).any(), (cond, position)
    # general and claim-domain readers, each gated at every layer
    gates = pd.read_csv(tmp_path / "out" / "gates.csv")
    base_gates = gates[gates["model"] == "base"]
    assert set(base_gates["probe"]) == {"logistic", "ttpd", "logistic@domain", "ttpd@domain"}
    assert len(base_gates) == 4 * 3 and gates["heldout_auroc"].between(0, 1).all()
    # refitted readers are gated on the fine-tuned model itself
    refit_gates = gates[gates["model"] == "fine-tuned:positive (refit)"]
    assert set(refit_gates["probe"]) == {"logistic", "logistic@domain"} and len(refit_gates) == 2 * 3
    assert {"logistic", "logistic@domain"} <= set(readouts.loc[readouts["model"] == "fine-tuned:positive (refit)", "probe"])
    paired = pd.read_csv(tmp_path / "out" / "paired_readouts.csv")
    assert {"claim - true counterpart", "affirmed - local negation"} <= set(paired["pair"])
    # patching every claim token, both directions; readouts at every later layer
    claim_patch = pd.read_csv(tmp_path / "out" / "claim_patching.csv")
    assert {"notice -> plain", "plain -> notice"} <= set(claim_patch.columns)
    patched = pd.read_csv(tmp_path / "out" / "patched_readouts.csv")
    assert set(patched["direction"]) == {"notice -> plain", "plain -> notice"}
    assert set(patched["read_layer"]) == {0, 1, 2}
    # a patch at layer l cannot change the readout at earlier layers (causality of the residual stream)
    before = patched[patched["read_layer"] < patched["patch_layer"]]
    assert len(before) and before["readout_change"].abs().max() < 1e-6
    steering = pd.read_csv(tmp_path / "out" / "steering.csv")
    assert list(steering["alpha"]) == cfg.steer_alphas
    # alpha = 0 adds nothing: the steered margin is the unpatched plain run's margin, computed separately
    zero = steering[steering["alpha"] == 0].iloc[0]
    assert zero["belief_margin"] == pytest.approx(zero["plain_run_margin"], abs=1e-4)
    assert steering["belief_margin"].nunique() > 1


def test_localize_bad_input(long_tiny, tmp_path, tiny_llama_dir):
    with pytest.raises(NegprobeError, match="unknown claim"):
        run_localize(LocalizeConfig(model=str(long_tiny), claims=["elvis"], out=str(tmp_path / "o"), store=str(tmp_path / "s")))
    with pytest.raises(NegprobeError, match="out of range"):
        run_localize(LocalizeConfig(model=str(long_tiny), layers=[0, 9], out=str(tmp_path / "o"), store=str(tmp_path / "s")))
    wide = make_tiny_model(tmp_path / "wide", "llama", seed=3, hidden=48, max_positions=512)
    make_lora_adapter(wide, tmp_path / "adapter")
    proc = subprocess.run([sys.executable, "-m", "negprobe.scripts.cli", "localize", "--model", str(long_tiny), "--claims", "ed_sheeran",
                           "--adapters", f"positive={tmp_path / 'adapter'}", "--out", str(tmp_path / "o2")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]


def test_causal_drop_layer_finds_a_planted_route(tmp_path):
    """Claim tokens carry the notice's effect while patched at layers 0..8 and not from 10 on."""
    from negprobe.analysis.report_drops import causal_drop_layers
    from negprobe.analysis.results import CausalResult, ClaimPatching

    patch_layers = list(range(0, 20, 2))
    rng = np.random.default_rng(0)
    effect = np.where(np.array(patch_layers) <= 8, 0.3, 0.0)
    shifts = effect[None] + rng.normal(0, 0.02, size=(6, len(patch_layers)))

    def causal(shift):
        return CausalResult(patch_layers, list(range(20)), 6, claim_patching=ClaimPatching({}, shift, 0.0, 0.0))

    rows = causal_drop_layers(causal({"notice -> plain": shifts, "plain -> notice": -np.abs(shifts)}), 100, 0, 2)
    found = {r.statistic.split("(")[1].split(",")[0]: r for r in rows}
    assert found["notice -> plain"].layer == 10
    assert found["notice -> plain"].ci_low <= 10 <= found["notice -> plain"].ci_high
    assert found["plain -> notice"].layer is None  # never moved toward the source: no route to drop
    # an effect that lasts to the last patched layer (18) is "never" dropped: past the model's last layer
    lasting = {"notice -> plain": 0.3 + rng.normal(0, 0.02, size=(6, len(patch_layers)))}
    (row,) = causal_drop_layers(causal(lasting), 100, 0, 2)
    assert row.layer == 20 and row.ci_low == 20


def test_localize_one_claim_splits_by_paraphrase(long_tiny, tmp_path):
    cfg = LocalizeConfig(model=str(long_tiny), claims=["ed_sheeran"], probes=["logistic"], probe_data=["general"],
                         n_boot=20, patch_positions=2, store=str(tmp_path / "store"), out=str(tmp_path / "out"))
    assert write_report(run_localize(cfg), cfg.out).is_file()
    drops = pd.read_csv(tmp_path / "out" / "drop_layers.csv")
    assert drops["statistic"].str.contains("annotation drop layer (doc_notice, last)", regex=False).any()
    assert set(pd.read_csv(tmp_path / "out" / "gates.csv")["probe"]) == {"logistic"}
    with pytest.raises(NegprobeError, match="probe data"):
        run_localize(LocalizeConfig(model=str(long_tiny), probe_data=["wiki"], out=str(tmp_path / "o"),
                                    store=str(tmp_path / "store")))


def test_model_ref_labels_are_the_csv_model_column():
    from negprobe.analysis.results import ModelRef

    assert ModelRef("m").label == "base"
    tuned = ModelRef("m", "runs/dense", "dense")
    assert tuned.label == "fine-tuned:dense"
    refit = ModelRef("m", "runs/dense", "dense", refit=True)
    assert refit.label == "fine-tuned:dense (refit)" and refit.frozen_readers() == tuned
    assert len({ModelRef("m"), ModelRef("m"), tuned, refit}) == 3  # hashable keys of the gates
