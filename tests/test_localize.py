"""negprobe localize end to end on a tiny model (mechanics, not findings)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from negprobe.activations import NegprobeError
from negprobe.analysis.localize import LocalizeConfig, run_localize
from negprobe.analysis.report import write_report
from tests.test_models import make_lora_adapter
from tests.tiny_models import make_tiny_model

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def long_tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny-long"), "llama", seed=0, max_positions=512)



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
    result = run_localize(cfg)
    report = write_report(result, cfg.out)
    page = report.read_text()
    for section in ("Findings", "Behavioural prerequisite", "Annotation decodability (matched contrasts)",
                    "Truth readouts", "Layer statistics", "Validity gate", "Provenance"):
        assert section in page, section
    assert page.index("Findings") < page.index("Behavioural prerequisite")  # the findings box opens the page
    assert "data:image/png;base64," in page  # self-contained
    out = tmp_path / "out"
    readouts = pd.read_csv(out / "readouts.csv")
    assert {"base", "fine-tuned:positive", "fine-tuned:positive (refit)"} <= set(readouts["model"])
    assert {"in_context_notice", "in_context_neutral", "in_context_plain", "plain", "true_counterpart"} <= \
        set(readouts["condition"])
    # the behavioural prerequisite per claim and annotation, vs plain and vs the neutral control
    prerequisite = pd.read_csv(out / "prerequisite.csv")
    assert set(prerequisite["claim"]) == {"ed_sheeran", "vesuvius_2015"}
    assert {"notice", "dense", "local"} <= set(prerequisite["annotation"])
    # a random tiny model's annotation effect is far below 1 nat: nothing is localised, and the page says why
    gates = result.causal.prerequisite.gates
    if not any(g.passing for g in gates.values()):
        assert "nothing to localise" in page
        layers = pd.read_csv(out / "layer_statistics.csv")
        handoff = layers[layers["statistic"].str.startswith("hand-off layer")]
        assert len(handoff) and handoff["layer"].isna().all()
    # matched-contrast decodability at both read positions, with its baselines
    decodability = pd.read_csv(out / "decodability.csv")
    assert {"notice vs plain", "notice vs neutral", "dense vs dense_neutral", "local vs plain"} <= \
        set(decodability["annotation"] + " vs " + decodability["comparison"])
    # general and claim-domain readers, each gated at every layer
    gate_table = pd.read_csv(out / "gates.csv")
    base_gates = gate_table[gate_table["model"] == "base"]
    assert set(base_gates["probe"]) == {"logistic", "ttpd", "logistic@domain", "ttpd@domain"}
    assert len(base_gates) == 4 * 3 and gate_table["heldout_auroc"].between(0, 1).all()
    # refitted readers are gated on held-out truth data only, never on the claim they read
    refit_gates = gate_table[gate_table["model"] == "fine-tuned:positive (refit)"]
    assert set(refit_gates["probe"]) == {"logistic", "logistic@domain"} and len(refit_gates) == 2 * 3
    assert refit_gates["counterpart_statistic"].isna().all()
    paired = pd.read_csv(out / "paired_readouts.csv")
    assert {"claim - true counterpart", "affirmed - local negation"} <= set(paired["pair"])
    # every stage is timed, in order, and the reduced grid is named in the subtitle
    stages = [t.stage for t in result.timings]
    assert stages == ["load model", "truth readers (cache + fit)", "claim readouts + gates",
                      "fine-tuned readouts (positive)", "annotation decodability", "causal checks"]
    assert all(t.seconds >= 0 for t in result.timings) and "&quot;stage seconds&quot;" in page
    assert "Reduced grid (a quick run, not the default): n_boot 30 (default 200); patch_positions" not in page
    assert "Reduced grid (a quick run, not the default): n_boot 30 (default 200)." in page


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


def test_localize_one_claim_splits_by_paraphrase(long_tiny, tmp_path):
    cfg = LocalizeConfig(model=str(long_tiny), claims=["ed_sheeran"], probes=["logistic"], probe_data=["general"],
                         n_boot=20, patch_positions=2, store=str(tmp_path / "store"), out=str(tmp_path / "out"))
    assert write_report(run_localize(cfg), cfg.out).is_file()
    decodability = pd.read_csv(tmp_path / "out" / "decodability.csv")
    assert (decodability["n_folds"] > 1).all()  # one claim: split by paraphrase
    assert set(pd.read_csv(tmp_path / "out" / "gates.csv")["probe"]) == {"logistic"}
    with pytest.raises(NegprobeError, match="probe data"):
        run_localize(LocalizeConfig(model=str(long_tiny), probe_data=["wiki"], out=str(tmp_path / "o"),
                                    store=str(tmp_path / "store")))


def test_reduced_grid_names_every_grid_field_that_differs_from_the_default():
    from negprobe.analysis.results import reduced_grid

    assert reduced_grid(LocalizeConfig()) == []
    assert reduced_grid(LocalizeConfig(probes=["logistic"], n_boot=50, min_effect=0.5, layers=[0, 2])) == [
        "probes ['logistic'] (default ['logistic', 'ttpd'])", "layers [0, 2] (default None)", "n_boot 50 (default 200)"]


def test_model_ref_labels_are_the_csv_model_column():
    from negprobe.analysis.results import ModelRef

    assert ModelRef("m").label == "base"
    tuned = ModelRef("m", "runs/dense", "dense")
    assert tuned.label == "fine-tuned:dense"
    refit = ModelRef("m", "runs/dense", "dense", refit=True)
    assert refit.label == "fine-tuned:dense (refit)" and refit.frozen_readers() == tuned
    assert len({ModelRef("m"), ModelRef("m"), tuned, refit}) == 3  # hashable keys of the gates
