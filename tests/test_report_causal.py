"""The causal figures, CSVs and plain-language findings, from checks run on the planted model."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from negprobe.analysis.causal import causal_checks
from negprobe.analysis.causal_findings import causal_findings, handoff_table
from negprobe.analysis.plots import pyplot
from negprobe.analysis.report_causal import causal_figures
from tests.planted_lm import FakeReader, planted_model, questions

CONFIG = SimpleNamespace(n_boot=100, seed=0, progress=False, patch_positions=3)


@pytest.fixture(scope="module")
def lowering():
    return causal_checks(planted_model(n_layers=6, handoff=3), questions(), {"planted": FakeReader()}, CONFIG,
                         steer_reader="planted", steer_slot=4)


@pytest.fixture(scope="module")
def raising():
    return causal_checks(planted_model(effect=+3.0), questions(), {"planted": FakeReader()}, CONFIG,
                         steer_reader="planted", steer_slot=4)


def _result(causal):
    gate = SimpleNamespace(passed=np.array([True] * 6))
    return SimpleNamespace(causal=causal, primary_gate=gate, primary_slot=4)


def test_figures_and_csvs(lowering, tmp_path):
    figures = causal_figures(pyplot(), _result(lowering), tmp_path)
    assert [f.title for f in figures] == ["Behavioural prerequisite", "Claim-token patching",
                                          "Patching the question's last tokens",
                                          "Attribution screen of every layer and token", "Steering"]
    assert all(f.png_base64 and f.caption for f in figures)
    assert "hand-off layer" in figures[1].caption.lower() and "NIE = (m - m_plain)" in figures[1].caption
    assert "at most -1 nats" in figures[0].caption
    for name in ("prerequisite", "claim_patching", "patching_positions", "attribution_screen", "steering"):
        assert (tmp_path / f"{name}.png").is_file()
    prereq = pd.read_csv(tmp_path / "prerequisite.csv")
    annotated = prereq["annotation"].isin(["notice", "dense", "local"])
    assert set(prereq.loc[annotated, "annotation"]) == {"notice", "dense", "local"} and prereq.loc[annotated, "passes"].all()
    vs_plain = prereq[(prereq["comparison"] == "plain") & prereq["annotation"].isin(["notice", "dense", "local"])]
    assert np.allclose(vs_plain["effect"], -3.0)
    curves = pd.read_csv(tmp_path / "claim_patching.csv")
    top = curves[(curves["annotation"] == "notice") & (curves["curve"] == "annotated -> plain")]
    assert list(top["layer"]) == list(range(6)) and list(top["nie"].round(6)) == [1, 1, 1, 0, 0, 0]
    handoffs = pd.read_csv(tmp_path / "handoff_layers.csv")
    assert (handoffs["layer"] == 3).all() and len(handoffs) == 6  # 3 annotations x 2 directions
    steering = pd.read_csv(tmp_path / "steering.csv")
    assert list(steering["alpha"]) == [-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0]
    assert steering.loc[steering["alpha"] == 0, "shift"].abs().max() < 1e-6
    assert len(pd.read_csv(tmp_path / "belief_margins.csv")) == len(questions())
    screen = pd.read_csv(tmp_path / "attribution_screen.csv")
    assert len(screen) == 3 * 8 * 50  # annotations x pairs x confirmed cells
    first = screen[screen["rank"] < 3]  # past the hand-off the last token holds the whole gap
    assert (first["layer"] >= 3).all() and np.allclose(first["nie"], 1.0, atol=1e-5)


def test_findings_say_where_the_effect_acts(lowering):
    lines = causal_findings(lowering)
    notice = [line for line in lines if "(notice" in line]
    assert notice[0].startswith("In-context effect (notice): beyond its neutral control of equal length, the "
                                "annotation lowers belief in the false claim, -3.50 [-3.50, -3.50] nats; the neutral "
                                "control itself raises it (+0.50 [+0.50, +0.50] nats vs the plain document), and "
                                "the annotation vs plain is -3.00 [-3.00, -3.00] nats")
    assert "2 claims x 4 paraphrases" in notice[0] and "2 of 2 claims pass" in notice[0]
    assert "hand it off at layer 3 [3, 3]" in notice[1] and "random tokens peak at 0.00" in notice[1]
    assert any(line.startswith("Steering (planted direction, layer 4") for line in lines)
    screen = [line for line in lines if line.startswith("Attribution screen (notice; 2 claims, 8 pairs, top 50")]
    assert len(screen) == 1 and "largest at layer" in screen[0]
    assert lines[-1].startswith("Grid: layers 0..5 every 1; claims all passing; paraphrases all")


def test_nothing_to_localise_replaces_the_layer(raising, tmp_path):
    lines = causal_findings(raising)
    where = [line for line in lines if line.startswith("Where it acts (notice)")]
    assert where == ["Where it acts (notice): nothing to localise on this model: it raises belief, the wrong sign "
                     "for a negation (effect vs the plain document +3.00 [+3.00, +3.00] nats; beyond its neutral "
                     "control +2.50 [+2.50, +2.50] nats; 2 claims x 4 paraphrases; claims passing at a 0.25 / 0.5 / "
                     "1-nat minimum: 0 / 0 / 0)."]
    assert "raises belief" in lines[0]
    table = handoff_table(raising)
    assert table["layer"].isna().all() and table["note"].str.startswith("nothing to localise").all()
    titles = [f.title for f in causal_figures(pyplot(), _result(raising), tmp_path)]
    assert "Patching the question's last tokens" not in titles and "Claim-token patching" not in titles  # no empty panels
