"""The fine-tuned report: series read from the files other commands write, gated, drawn side by side per layer."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from negprobe.analysis.belief_gate import BeliefGate
from negprobe.analysis.finetuned_report import findings_paragraph, layers_table, write_finetuned_report
from negprobe.analysis.finetuned_series import (
    IN_CONTEXT,
    PATCHING,
    SIGNAL,
    WEIGHTS,
    LayerSeries,
    in_context_series,
    signal_series,
    weight_series,
)
from negprobe.errors import NegprobeError
from negprobe.probes.resampling import bootstrap_mean


def series(key: str, passed: bool, value: float = 0.5, marker: int | None = 2, reason: str = "why") -> LayerSeries:
    layers = np.arange(5)
    v = np.where(layers >= 2, value, 0.0)
    return LayerSeries(key, "y", layers, v, v - 0.1, v + 0.1, passed, reason, marker, (2, 3) if marker else None,
                       "marker")


def test_the_paragraph_reads_only_gated_numbers():
    text = findings_paragraph({IN_CONTEXT: series(IN_CONTEXT, True, 0.75),
                               SIGNAL: series(SIGNAL, False, 0.333, reason="no divergence layer"),
                               PATCHING: series(PATCHING, True, 0.9), WEIGHTS: None})
    assert "+0.750 [+0.650, +0.850] at layer 2" in text and "marker 2 [2, 3]" in text
    assert "Training-signal divergence: nothing to localise: no divergence layer." in text
    assert "0.333" not in text  # a failed gate's numbers are not read
    assert "LoRA update norm: not given." in text
    assert "Layers located by the gated series: in-context annotation use (base) 2, cross-model patching recovery 2." \
        in text


def test_a_patched_association_is_read_as_where_the_name_is_carried_not_as_belief():
    from dataclasses import replace

    belief = findings_paragraph({PATCHING: series(PATCHING, True, 0.9)})
    named = findings_paragraph({PATCHING: replace(series(PATCHING, True, 0.9),
                                                  ylabel="recovery (cloze_distractor), tuned -> base, all positions")})
    assert "not belief" not in belief and "It is the name association, not belief" in named


def test_no_passing_series_says_nothing_is_localised():
    text = findings_paragraph({PATCHING: series(PATCHING, False, 0.9, reason="belief rise +0.05 [-0.19, +0.34]")})
    assert "Cross-model patching recovery: nothing to localise: belief rise +0.05 [-0.19, +0.34]." in text
    assert text.endswith("No series passed its gate: nothing is localised.") and "0.900" not in text


def planted_signal(folder, onset: int = 3, n_claims: int = 4, n_layers: int = 6, seed: int = 0):
    """signal_claims.csv whose divergence cos(N,P) - cos(A,P) is 0.05 from layer ``onset`` on, 0 before."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_claims):
        for layer in range(n_layers):
            np_cos = 0.9 + rng.normal(0, 0.002)
            ap_cos = np_cos - (0.05 if layer >= onset else 0.0) + rng.normal(0, 0.002)
            rows += [(f"c{c}", "annotated vs plain", layer, ap_cos), (f"c{c}", "neutral vs plain", layer, np_cos),
                     (f"c{c}", "annotated vs neutral", layer, 0.95)]
    folder.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows, columns=["claim", "comparison", "layer", "cosine"])
    table.to_csv(folder / "signal_claims.csv", index=False)
    return table


def test_signal_series_finds_a_planted_divergence_layer_with_the_claim_bootstrap(tmp_path):
    table = planted_signal(tmp_path / "sig")
    s = signal_series(tmp_path / "sig", n_boot=500, seed=1)
    wide = table.pivot_table(index=["claim", "layer"], columns="comparison", values="cosine")
    per_claim = (wide["neutral vs plain"] - wide["annotated vs plain"]).unstack("layer").to_numpy()
    mean, low, high = bootstrap_mean(per_claim.T, groups=["c0", "c1", "c2", "c3"], n_boot=500, seed=1)
    np.testing.assert_allclose(s.value, mean)
    np.testing.assert_allclose(s.low, low)
    assert s.passed and s.marker == 3 and (low[3:] > 0).all() and "from layer 3" in s.reason


def test_signal_series_without_divergence_fails_its_gate(tmp_path):
    planted_signal(tmp_path / "sig", onset=99)
    s = signal_series(tmp_path / "sig", n_boot=300)
    assert not s.passed and s.marker is None and "no layer" in s.reason


def write_localize(folder, annotation_rows: bool):
    folder.mkdir(parents=True, exist_ok=True)
    rows = [("notice", "annotated -> plain", layer, 0.1 * layer, 0.1 * layer - 0.05, 0.1 * layer + 0.05, 3, 30)
            for layer in range(4)] if annotation_rows else []
    pd.DataFrame(rows, columns=["annotation", "curve", "layer", "nie", "ci_low", "ci_high", "n_claims", "n_pairs"]) \
        .to_csv(folder / "claim_patching.csv", index=False)
    handoff = [("notice", "notice -> plain", 2, 1, 3, 3, 30, "")] if annotation_rows else \
        [("notice", None, None, None, None, 0, 0, "nothing to localise on this model: it does not lower belief")]
    prerequisite = [("notice", "notice", "plain", f"c{c}", -1.5 + c if annotation_rows else 0.1 * c, annotation_rows
                     and c < 2) for c in range(3)] + [("notice", "neutral", "plain", "c0", 0.0, None)]
    pd.DataFrame(prerequisite, columns=["gate", "annotation", "comparison", "claim", "effect", "passes"]) \
        .to_csv(folder / "prerequisite.csv", index=False)
    pd.DataFrame(handoff, columns=["annotation", "direction", "layer", "ci_low", "ci_high", "n_claims", "n_pairs",
                                   "note"]).to_csv(folder / "handoff_layers.csv", index=False)


def test_in_context_series_reads_localize_and_its_gate(tmp_path):
    write_localize(tmp_path / "ok", True)
    s = in_context_series(tmp_path / "ok")
    assert s.passed and s.marker == 2 and s.marker_ci == (1, 3) and s.value[3] == pytest.approx(0.3)
    assert s.reason == "annotation 'notice': 2 of 3 claims pass; effects vs plain -1.50 to +0.50 nats"
    with pytest.raises(NegprobeError, match="--annotation 'negated': .* gates notice"):
        in_context_series(tmp_path / "ok", "negated")
    write_localize(tmp_path / "none", False)
    gated = in_context_series(tmp_path / "none")
    assert not gated.passed and gated.reason.startswith("nothing to localise on this model") and len(gated.layers) == 0


def write_norms(path):
    rows = [(a, layer, m, 0.0, 1.0, r * (layer + 1), True) for a, r in (("s0", 0.01), ("s1", 0.03))
            for layer in range(3) for m in ("all", "self_attn.q_proj")]
    pd.DataFrame(rows, columns=["adapter", "layer", "module", "update_norm", "base_norm", "relative", "in_window"]) \
        .to_csv(path, index=False)


def test_weight_series_is_read_only_beside_a_passing_belief_effect(tmp_path):
    write_norms(tmp_path / "n.csv")
    s = weight_series(tmp_path / "n.csv", series(PATCHING, True))
    assert s.passed and s.value[2] == pytest.approx(0.06) and (s.low[2], s.high[2]) == (0.03, 0.09)
    alone = weight_series(tmp_path / "n.csv", None)
    assert not alone.passed and "no cross-model patching result" in alone.reason
    blocked = weight_series(tmp_path / "n.csv", series(PATCHING, False, reason="belief rise -0.02"))
    assert not blocked.passed and blocked.reason.endswith("belief rise -0.02")


def test_the_report_writes_figure_table_and_page(tmp_path):
    planted_signal(tmp_path / "sig")
    all_series = {SIGNAL: signal_series(tmp_path / "sig", n_boot=200), IN_CONTEXT: None,
                  PATCHING: series(PATCHING, False, reason="belief rise +0.01 [-0.1, +0.1]"), WEIGHTS: None}
    written = write_finetuned_report(all_series, tmp_path / "out")
    names = {p.name for p in written}
    assert names == {"finetuned_layers.csv", "finetuned_report.png", "finetuned_report.html", "finetuned_report.md"}
    page = (tmp_path / "out" / "finetuned_report.md").read_text()
    assert "nothing to localise: belief rise +0.01" in page and "divergence stays above 0 from layer 3" in page
    table = pd.read_csv(tmp_path / "out" / "finetuned_layers.csv")
    assert set(table["series"]) == {"signal", "patching"} and len(table) == 6 + 5
    assert set(table.loc[table["series"] == "patching", "status"]) == {"nothing_to_localise"}
    assert len(layers_table({PATCHING: None})) == 0
    with pytest.raises(NegprobeError, match="at least one series"):
        write_finetuned_report({PATCHING: None}, tmp_path / "empty")


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "negprobe.scripts.cli", *args], capture_output=True, text=True,
                          timeout=900, cwd=cwd)


def test_cross_patch_then_finetuned_report_on_a_tiny_adapter(tmp_path, monkeypatch):
    from negprobe.activations.finetune.train import FinetuneConfig, finetune
    from tests.tiny_models import make_tiny_model

    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))  # the in-context activation stores land here

    tiny_llama_dir = make_tiny_model(tmp_path / "tiny", "llama", seed=0, max_positions=512)  # documents in context
    adapter = finetune(FinetuneConfig(model=str(tiny_llama_dir), claim="ed_sheeran", condition="positive",
                                      out=str(tmp_path / "a"), max_steps=2, batch_size=2, n_docs=2, max_length=32,
                                      lora_r=2, layers="1-2"), progress=False)
    proc = cli("cross-patch", "-m", str(tiny_llama_dir), "-a", str(adapter), "-c", "ed_sheeran", "-o",
               str(tmp_path / "cp"), "--max-items", "4", "--n-boot", "100", "--quiet", "--in-context")
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((tmp_path / "cp" / "cross_patching.json").read_text())
    first = proc.stdout.splitlines()[0]
    assert first.startswith("belief effect: " if data["status"] == "effect" else "nothing to localise: ")
    assert data["gate"]["n_units"] == 4 and (data["curves"] == {}) == (data["status"] == "nothing_to_localise")
    prerequisite = pd.read_csv(tmp_path / "cp" / "prerequisite_by_model.csv")
    assert set(prerequisite["model"]) == {"base", adapter.name} and "notice" in set(prerequisite["annotation"])
    assert "in context, base: notice vs neutral" in proc.stdout and "; change vs base" in proc.stdout
    contrasts = pd.read_csv(tmp_path / "cp" / "contrasts_by_model.csv")
    assert set(contrasts["model"]) == {"base", adapter.name} and (contrasts.loc[contrasts["model"] == "base",
                                                                               "minus_base"] == 0).all()
    assert set(contrasts["layer"]) == {0, 1, 2} and {"notice vs neutral", "local vs plain"} <= set(contrasts["contrast"])
    assert f"decodability in context, {adapter.name}: notice vs neutral (restated claim) minus base" in proc.stdout
    norms = pd.read_csv(tmp_path / "cp" / "lora_norms.csv")
    assert (norms.loc[norms["layer"] == 0, "update_norm"] == 0).all() and (norms.loc[norms["layer"] > 0,
                                                                                     "update_norm"] > 0).all()
    planted_signal(tmp_path / "sig", n_layers=3, onset=1)
    report = cli("finetuned-report", "--cross-patching", str(tmp_path / "cp" / "cross_patching.json"), "--weights",
                 str(tmp_path / "cp" / "lora_norms.csv"), "--signal", str(tmp_path / "sig"), "--contrasts",
                 str(tmp_path / "cp" / "contrasts_by_model.csv"), "-o", str(tmp_path / "r"))
    assert report.returncode == 0, report.stderr[-3000:]
    assert (tmp_path / "r" / "finetuned_report.png").stat().st_size > 1000
    assert "In the training signal, the annotation-specific divergence stays above 0 from layer 1" in report.stdout
    assert ("fine-tuning changes the annotation's decodability: notice vs neutral at the restated claim" in report.stdout
            or "In-context decodability, fine-tuned - base: nothing to localise: notice vs neutral" in report.stdout)
    assert set(pd.read_csv(tmp_path / "r" / "finetuned_layers.csv")["series"]) >= {"signal", "contrasts"}
    if data["status"] == "nothing_to_localise":
        assert "Cross-model patching recovery: nothing to localise: belief rise of" in report.stdout
        assert "LoRA update norm: nothing to localise:" in report.stdout


@pytest.mark.parametrize("make, words", [
    (lambda p: p.write_text("{not json"), "not valid JSON"),
    (lambda p: p.write_text(json.dumps({"format": "negprobe.cross_patching/1", "status": "effect", "layers": [0],
                                        "gate": {"what": "x", "measure": "questions", "rise": 0.1, "ci_low": -0.1,
                                                 "ci_high": 0.2, "n_seeds": 1, "n_units": 4}})),
     "but its gate's CI is not above 0"),
])
def test_the_report_refuses_a_garbled_cross_patching_file(make, words, tmp_path):
    from negprobe.analysis.finetuned_series import patching_series

    make(tmp_path / "cp.json")
    with pytest.raises(NegprobeError, match=words):
        patching_series(tmp_path / "cp.json")
    gate = BeliefGate("x", "questions", 0.1, -0.1, 0.2, 1, 4)
    assert gate.status == "nothing_to_localise" and gate.line().startswith("nothing to localise: belief rise of x")


def write_gaps(folder, statuses=("effect", "nothing_to_localise")):
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for window, status, gap in zip(("0-1", "2-4"), statuses, (-1.25, 0.4)):
        read = status == "effect"
        rows.append((window, "questions", "positive", gap if read else np.nan, gap - 0.5 if read else np.nan,
                     gap + 0.5 if read else np.nan, 3, 1.0, 2.0, status, 0.8 if read else 0.01, 0.3 if read else -0.2,
                     1.2 if read else 0.2, "" if read else "belief rise of the positive adapters of window 2-4 ..."))
    pd.DataFrame(rows, columns=["window", "measure", "reference", "gap", "gap_ci_low", "gap_ci_high", "n_seeds",
                                "treated_margin", "reference_margin", "status", "gate_rise", "gate_ci_low",
                                "gate_ci_high", "reason"]).to_csv(folder / "layer_gaps.csv", index=False)


def test_layer_window_gaps_enter_the_report_only_where_gated(tmp_path):
    from negprobe.analysis.finetuned_windows import read_window_gaps

    write_gaps(tmp_path / "ls")
    gaps = read_window_gaps(tmp_path / "ls")
    assert [(g.window, g.first, g.last, g.passed) for g in gaps] == [("0-1", 0, 1, True), ("2-4", 2, 4, False)]
    text = findings_paragraph({PATCHING: None}, gaps)
    assert "negated - positive: blocks 0-1 -1.25 [-1.75, -0.75] (3 seeds)." in text
    assert "Layer windows 2-4: nothing to localise: belief rise of the positive adapters of window 2-4" in text
    assert "0.40" not in text and "No series passed" not in text
    write_finetuned_report({PATCHING: None}, tmp_path / "out", gaps)
    table = pd.read_csv(tmp_path / "out" / "finetuned_layers.csv")
    assert list(table["layer"]) == [0, 1, 2, 3, 4] and table["value"].iloc[:2].tolist() == [-1.25, -1.25]
    assert table["value"].iloc[2:].isna().all() and set(table["series"]) == {"window 0-1", "window 2-4"}
    with pytest.raises(NegprobeError, match="no cloze rows against positive"):
        read_window_gaps(tmp_path / "ls", "cloze")
    write_gaps(tmp_path / "none", ("nothing_to_localise", "nothing_to_localise"))
    assert findings_paragraph({}, read_window_gaps(tmp_path / "none")).endswith("nothing is localised.")
