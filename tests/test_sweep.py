"""Sweeps end to end on a tiny model: determinism, outputs, probe artifacts, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.cache import cache_activations
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.records import PromptRecord
from negprobe.analysis.sweep_report import write_sweep_report
from negprobe.probes.artifact import check_store_matches, load_probe
from negprobe.probes.sweep import SweepConfig, SweepResult, run_sweep
from tests.tiny_models import make_tiny_model

SUBJECTS = ["the cat", "the dog", "ed sheeran", "noah lyles", "the queen", "brennan holloway", "children",
            "twitter", "a city", "a dentist", "the book", "python"]
PLACES = ["paris", "france", "x", "olympics"]


def twin_datasets(folder: Path) -> tuple[str, str]:
    """An affirmed and a row-aligned negated dataset in the tiny vocabulary, written as JSONL."""
    affirmed, negated = [], []
    for i, subject in enumerate(SUBJECTS):
        for j, place in enumerate(PLACES):
            label = int((i + j) % 2 == 0)
            pid = f"{i}-{j}"
            a = f"{subject} is in {place} ."
            n = f"{subject} is not in {place} ."
            affirmed.append(PromptRecord(a, label, "affirmed", "plain", subject, pid, "tiny", (0, len(a) - 2), None))
            negated.append(PromptRecord(n, 1 - label, "negated", "local_negation", subject, pid, "tiny", (0, len(n) - 2), None))
    paths = []
    for name, records in (("tinytruth", affirmed), ("neg_tinytruth", negated)):
        path = folder / f"{name}.jsonl"
        PromptDataset(name, tuple(records)).to_jsonl(path)
        paths.append(str(path))
    return paths[0], paths[1]


@pytest.fixture(scope="module")
def sweep_setup(tmp_path_factory, tiny_llama_dir):
    folder = tmp_path_factory.mktemp("sweep")
    aff, neg = twin_datasets(folder)
    return folder, aff, neg, tiny_llama_dir


def config(folder, aff, neg, model_dir, out, **kw) -> SweepConfig:
    return SweepConfig(models=[str(model_dir)], train=[[aff, neg]], test=[], probes=kw.pop("probes", ["logistic", "mass_mean", "ccs", "ttpd", "lat", "random", "shuffled", "mass_mean_iid"]),
                       n_folds=3, n_boot=50, store=str(folder / "store"), out=str(out), **kw)


def test_sweep_writes_tidy_table_plots_and_is_deterministic(sweep_setup, tmp_path):
    folder, aff, neg, model_dir = sweep_setup
    result = run_sweep(config(folder, aff, neg, model_dir, folder / "out1"))
    assert isinstance(result, SweepResult)
    first = result.results
    second = run_sweep(config(folder, aff, neg, model_dir, folder / "out2")).results
    pd.testing.assert_frame_equal(first, second)  # same seed, same numbers
    assert list(first.columns) == ["model", "adapter", "position", "layer", "probe", "train", "test", "metric",
                                   "value", "ci_low", "ci_high", "n"]
    assert set(first["probe"]) == {"logistic", "mass_mean", "ccs", "ttpd", "lat", "random", "shuffled", "mass_mean_iid"}
    assert set(first["layer"]) == {0, 1, 2}
    assert ((first["ci_low"] <= first["value"] + 1e-9) & (first["value"] <= first["ci_high"] + 1e-9)).all()
    out = folder / "out1"
    assert result.out_dir == out and all(p.is_file() for p in result.table_paths)
    assert {p.with_suffix(".safetensors") for p in result.probe_paths} == set(out.glob("probes/*.safetensors"))
    assert len(result.pca) == 1 and result.pca[0].coords.shape == (len(result.pca[0].rows), 2)
    assert set(result.selected_layers["probe"]) == set(first["probe"])
    on_disk = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_frame_equal(on_disk, first)
    assert len(pd.read_csv(out / "results.csv")) == len(first)
    for pattern in ("probes/*logistic.safetensors", "probes/*logistic.json"):
        assert list(out.glob(pattern)), pattern
    assert not list(out.glob("*.png")) and not (out / "summary.md").exists()  # the report is analysis's job
    # the report is drawn from the SweepResult alone: into the sweep's folder, or anywhere else
    for folder_out in (None, tmp_path / "report"):
        summary = write_sweep_report(result, folder_out)
        target = folder_out or out
        assert summary == target / "summary.md" and "validation-chosen" in summary.read_text()
        for pattern in ("layers-accuracy-*.png", "layers-auroc-*.html", "generalization-accuracy-*.png",
                        "generalization-auroc-*.html", "pca.png", "pca.html", "summary.md"):
            assert list(target.glob(pattern)), pattern
    other = run_sweep(config(folder, aff, neg, model_dir, folder / "out3", seed=1, probes=["ccs"])).results
    assert not np.allclose(other["value"], first[first["probe"] == "ccs"]["value"].to_numpy())


def test_probe_artifact_round_trip_and_model_check(sweep_setup, tmp_path):
    folder, aff, neg, model_dir = sweep_setup
    run_sweep(config(folder, aff, neg, model_dir, tmp_path / "out", probes=["logistic", "ttpd"]))
    path = next((tmp_path / "out" / "probes").glob("*logistic.json")).with_suffix("")
    probe, card = load_probe(path)
    model = load_model(model_dir)
    data = PromptDataset.from_jsonl(aff)
    store = cache_activations(model, data, root=folder / "store", progress=False).store
    check_store_matches(card, store)  # same model: fine
    X = store.stack().numpy()
    assert card["model_fingerprint"] == model.fingerprint and card["position"] == "last"
    assert probe.decision_function(X).shape == (3, len(data))
    other = load_model(make_tiny_model(tmp_path / "other", "llama", seed=9))
    other_store = cache_activations(other, data, root=tmp_path / "store", progress=False).store
    with pytest.raises(NegprobeError, match="probe was trained on"):
        check_store_matches(card, other_store)
    check_store_matches(card, other_store, allow_transfer=True)  # base probe on a fine-tuned model, explicitly


def test_sweep_bad_input(sweep_setup, tmp_path):
    folder, aff, neg, model_dir = sweep_setup
    with pytest.raises(NegprobeError, match="unknown probe 'svm'"):
        config(folder, aff, neg, model_dir, tmp_path, probes=["svm"])
    only_true = tmp_path / "only_true.jsonl"
    records = [r for r in PromptDataset.from_jsonl(aff) if r.label == 1]
    PromptDataset("only_true", tuple(records)).to_jsonl(only_true)
    cfg = config(folder, aff, neg, model_dir, tmp_path / "o", probes=["logistic"])
    cfg.test = [str(only_true)]
    with pytest.raises(NegprobeError, match="one class only"):
        run_sweep(cfg)
    few = tmp_path / "few.jsonl"
    PromptDataset("few", tuple(PromptDataset.from_jsonl(aff).records[:2])).to_jsonl(few)
    cfg = SweepConfig(models=[str(model_dir)], train=[[str(few)]], probes=["logistic"], n_folds=3,
                      store=str(folder / "store"), out=str(tmp_path / "p"))
    with pytest.raises(NegprobeError, match="fewer than the 3 folds"):
        run_sweep(cfg)


def test_sweep_config_file(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("models: [smollm2-135m]\ntrain: [[cities, neg_cities]]\ntest: [elements]\nprobes: [logistic]\n")
    cfg = SweepConfig.from_file(path)
    assert cfg.train == [["cities", "neg_cities"]] and cfg.test == ["elements"]
    toml = tmp_path / "sweep.toml"
    toml.write_text('models = ["smollm2-135m"]\ntrain = ["cities,neg_cities"]\nprobes = ["ttpd"]\nseed = 3\n')
    assert SweepConfig.from_file(toml).train == [["cities", "neg_cities"]]
    (tmp_path / "bad.yaml").write_text("modles: [x]\n")
    with pytest.raises(NegprobeError, match="unknown field"):
        SweepConfig.from_file(tmp_path / "bad.yaml")


def test_probes_sweep_does_not_load_analysis():
    """Figures and summaries are the analysis layer's: running a sweep never imports it."""
    import subprocess
    import sys

    code = ("import sys, negprobe.probes.sweep\n"
            "assert not [m for m in sys.modules if m.startswith('negprobe.analysis')], sorted(sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
