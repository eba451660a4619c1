"""Where a run's models run, from the command line: ``--device-map`` on sweep, localize and finetune reaches
``load_model`` parsed, a split tiny model sweeps exactly like the unsplit one, ``--remote`` reaches the sweep
and localize configs, every refusal is one line with exit 2, and the demo's stage keys stay what they were."""

from __future__ import annotations

import json

import numpy as np
import pytest

from negprobe.errors import NegprobeError
from tests.test_sharded import SPLIT

pytestmark = pytest.mark.usefixtures("one_thread")


class Stop(NegprobeError):
    """Raised by the stand-in loader once it has seen its arguments."""


@pytest.fixture
def seen(monkeypatch, tmp_path):
    """``load_model`` (as the runs call it) records its keyword arguments and stops the run."""
    import negprobe.activations.backends.remote_model as remote_model
    import negprobe.activations.models as models

    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEGPROBE_DEVICE_MAP", raising=False)
    calls: list[dict] = []

    def fake(name, **kwargs):
        calls.append({"name": str(name), **kwargs})
        raise Stop("stand-in loader: stop here")

    monkeypatch.setattr(remote_model, "load_model", fake)
    monkeypatch.setattr(models, "load_model", fake)
    return calls


def run_cli(monkeypatch, capsys, *argv) -> tuple[int, list[str]]:
    from negprobe.scripts import cli

    monkeypatch.setattr("sys.argv", ["negprobe", *argv])
    with pytest.raises(SystemExit) as info:
        cli.main()
    return int(info.value.code or 0), capsys.readouterr().err.strip().splitlines()


COMMANDS = {
    "sweep": ["sweep", "--train", "cities", "--probes", "logistic"],
    "localize": ["localize", "--claims", "ed_sheeran"],
    "finetune": ["finetune", "-c", "ed_sheeran", "-k", "positive"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_device_map_flag_reaches_load_model_parsed(command, seen, monkeypatch, capsys, tiny_llama_dir, tmp_path):
    code, err = run_cli(monkeypatch, capsys, *COMMANDS[command], "-m", str(tiny_llama_dir), "-o",
                        str(tmp_path / "out"), "--device-map", json.dumps(SPLIT))
    assert code == 2 and err == ["negprobe: error: stand-in loader: stop here"], err
    assert len(seen) == 1 and seen[0]["device_map"] == SPLIT and seen[0]["name"] == str(tiny_llama_dir)
    seen.clear()
    code, err = run_cli(monkeypatch, capsys, *COMMANDS[command], "-m", str(tiny_llama_dir), "-o",
                        str(tmp_path / "out2"), "--device-map", "gpu")
    assert code == 2 and len(err) == 1 and "'gpu' is not a device map strategy" in err[0], err
    assert not seen  # refused before any model loads


@pytest.mark.parametrize("command", ["sweep", "localize"])
def test_remote_flag_reaches_the_config(command, monkeypatch, capsys, tmp_path):
    from negprobe.scripts import runs

    got = []
    monkeypatch.setattr(runs, command, lambda config: got.append(config) or tmp_path)
    monkeypatch.setenv("NEGPROBE_REMOTE", "here")
    extra = ["--attribution-cells", "0"] if command == "localize" else []
    monkeypatch.setattr("sys.argv", ["negprobe", *COMMANDS[command], "-m", "org/model", "--remote", *extra])
    from negprobe.scripts import cli

    cli.main()
    capsys.readouterr()
    assert len(got) == 1 and got[0].remote is True and got[0].device_map is None
    assert command == "localize" or got[0].backend == "nnsight"


@pytest.mark.parametrize(("argv", "message"), [
    (["sweep", "--train", "cities", "--remote", "--adapter", "x"], "--device-map and --adapter do not apply"),
    (["sweep", "--train", "cities", "--remote", "--device-map", "auto"], "--device-map and --adapter do not apply"),
    (["sweep", "--train", "cities", "--remote", "--backend", "transformer_lens"], "reads through nnsight"),
    (["localize", "--remote"], "pass --attribution-cells 0"),
    (["localize", "--remote", "--attribution-cells", "0", "--adapters", "positive=x"], "--adapter do not apply"),
    (["finetune", "-c", "ed_sheeran", "-k", "positive", "--device", "cpu", "--device-map", "auto"],
     "--device and --device-map: give one of them"),
])
def test_placement_refusals_are_one_line_exit_2(argv, message, monkeypatch, capsys, tmp_path, seen):
    monkeypatch.setenv("NEGPROBE_REMOTE", "here")
    code, err = run_cli(monkeypatch, capsys, *argv, "-o", str(tmp_path / "o"))
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not seen


def test_bad_remote_mode_is_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("NEGPROBE_REMOTE", "cloud")
    code, err = run_cli(monkeypatch, capsys, "sweep", "--train", "cities", "--remote", "-o", str(tmp_path / "o"))
    assert code == 2 and len(err) == 1 and "$NEGPROBE_REMOTE='cloud': use one of ndif, simulate, here" in err[0], err


def test_demo_stage_keys_leave_out_placement_at_its_default():
    """A finished demo stage stays reusable: the new placement fields are not in its key until set."""
    from negprobe.analysis.localize import LocalizeConfig
    from negprobe.probes.sweep import SweepConfig
    from negprobe.scripts.demo import stage_fields

    for cls in (SweepConfig, LocalizeConfig):
        fields = stage_fields(cls())
        assert "remote" not in fields and "device_map" not in fields and "out" in fields
        assert stage_fields(cls(device_map="auto"))["device_map"] == "auto"
    assert stage_fields(SweepConfig(remote=True))["remote"] is True
    assert stage_fields({"seed": 1}) == {"seed": 1}


def test_a_split_model_sweeps_like_the_unsplit_one(tiny_llama_dir, tmp_path, monkeypatch):
    """``device_map`` end to end: one block offloaded to disk, the other modules on the CPU."""
    import negprobe.activations.backends.remote_model as remote_model
    from negprobe.probes.sweep import run_sweep
    from tests.test_sweep import config, twin_datasets

    offloaded = []

    def spy(*args, load=remote_model.load_model, **kwargs):
        model = load(*args, **kwargs)
        offloaded.append(any(p.is_meta for p in model.model.parameters()))  # a disk block is not in memory
        return model

    monkeypatch.setattr(remote_model, "load_model", spy)
    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEGPROBE_DEVICE_MAP", raising=False)
    aff, neg = twin_datasets(tmp_path)
    whole = run_sweep(config(tmp_path / "a", aff, neg, tiny_llama_dir, tmp_path / "whole", probes=["logistic"]),
                      progress=False).results
    split = run_sweep(config(tmp_path / "b", aff, neg, tiny_llama_dir, tmp_path / "split", probes=["logistic"],
                             device_map=json.dumps(SPLIT)), progress=False).results
    assert offloaded == [False, True]
    assert len(split) == len(whole) > 0 and whole["value"].notna().sum() > 10
    numeric = [c for c in whole.columns if whole[c].dtype.kind == "f"]
    other = [c for c in whole.columns if c not in numeric]
    assert split[other].astype(str).equals(whole[other].astype(str))
    np.testing.assert_allclose(split[numeric].to_numpy(), whole[numeric].to_numpy(), atol=1e-3, equal_nan=True)
