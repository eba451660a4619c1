"""The command line is generated from the config dataclasses, and ``negprobe`` is a lazy facade."""

from __future__ import annotations

import ast
import dataclasses
import errno
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from negprobe.activations.finetune.train import FinetuneConfig
from negprobe.analysis.localize import LocalizeConfig
from negprobe.errors import NegprobeError
from negprobe.probes.sweep import SweepConfig
from negprobe.scripts import cli, config_commands, runs
from negprobe.scripts.flags import FINETUNE_FLAGS, LOCALIZE_FLAGS, SWEEP_FLAGS
from negprobe.scripts.options import option_specs

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [("sweep", SweepConfig, SWEEP_FLAGS), ("localize", LocalizeConfig, LOCALIZE_FLAGS),
            ("finetune", FinetuneConfig, FINETUNE_FLAGS)]


def field_default(f: dataclasses.Field):
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


@pytest.mark.parametrize("name, cls, flags", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_field_is_an_option_with_the_dataclass_default(name, cls, flags):
    command = typer.main.get_group(config_commands.app).commands[name]
    params = {p.name: p for p in command.params}
    specs = {s.field: s for s in option_specs(cls, flags)}
    for f in dataclasses.fields(cls):
        param = params[f.name]
        assert "--" + f.name.replace("_", "-") in param.opts, (name, f.name, param.opts)
        if specs[f.name].required:
            assert param.required and flags[f.name].required
            continue
        assert specs[f.name].parse(param.default) == field_default(f), (name, f.name, param.default)
    assert set(params) - {f.name for f in dataclasses.fields(cls)} <= {"config", "seeds"}  # seeds: finetune runs one adapter per seed


def test_old_flag_names_and_short_flags_still_work():
    group = typer.main.get_group(config_commands.app)
    opts = {name: {o for p in group.commands[name].params for o in p.opts} for name in ("sweep", "localize", "finetune")}
    assert {"-m", "--model", "--adapter", "--position", "-p", "--folds", "-o"} <= opts["sweep"]
    assert {"-m", "-o", "--adapters", "--belief-csv", "--gate", "--probe-data"} <= opts["localize"]
    assert {"-m", "-c", "-k", "-o", "--lora-r", "--lora-alpha", "--max-steps"} <= opts["finetune"]
    main = typer.main.get_group(cli.app)
    read = {o for p in main.commands["read"].params for o in p.opts}
    cache = {o for p in main.commands["cache"].params for o in p.opts}
    assert "--compute-dtype" in read and "--dtype" not in read
    assert {"--store-dtype", "--compute-dtype", "-d", "-m", "-p"} <= cache and "--dtype" not in cache


@pytest.fixture
def captured(monkeypatch, tmp_path):
    """Run a config command through the CLI with the pipeline call replaced; returns its config."""
    seen = []
    for stage in ("sweep", "localize", "finetune"):
        monkeypatch.setattr(runs, stage, lambda config: seen.append(config) or tmp_path)

    def invoke(*args: str):
        result = CliRunner().invoke(cli.app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 0, result.output
        return seen[-1]

    return invoke


def test_sweep_flags_reach_the_config(captured):
    cfg = captured("sweep", "-m", "a,b", "--adapter", "base", "--adapter", "runs/x", "--train", "cities,neg_cities",
                   "--train", "animals", "--test", "elements,neg_elements", "--probes", "logistic,ttpd",
                   "-p", "last,claim_last", "--layers", "0-2,5", "--folds", "3", "--val-fraction", "0.3",
                   "--seed", "7", "--n-boot", "10", "--chat", "--compute-dtype", "bfloat16", "--backend", "nnsight",
                   "--store", "s", "-o", "out")
    assert cfg == SweepConfig(models=["a", "b"], adapters=[None, "runs/x"], train=[["cities", "neg_cities"], ["animals"]],
                              test=["elements", "neg_elements"], probes=["logistic", "ttpd"],
                              positions=["last", "claim_last"], layers=[0, 1, 2, 5], n_folds=3, val_fraction=0.3,
                              seed=7, n_boot=10, chat=True, compute_dtype="bfloat16", backend="nnsight", store="s",
                              out="out")
    assert captured("sweep") == SweepConfig()


def test_sweep_flags_override_a_config_file(captured, tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text("train: [[cities], [animals]]\nseed: 4\nn_folds: 3\n")
    cfg = captured("sweep", "--config", str(path), "--seed", "9")
    assert cfg == SweepConfig(train=[["cities"], ["animals"]], seed=9, n_folds=3)


def test_localize_flags_reach_the_config(captured):
    cfg = captured("localize", "-m", "m", "--adapters", "positive=runs/p,dense=runs/d", "--claims", "ed_sheeran",
                   "--probes", "logistic", "--probe-data", "domain", "--layers", "all", "--gate", "0.7", "--seed", "2",
                   "--n-boot", "50", "--patch-positions", "4", "--patch-layer-stride", "3", "--patch-claims", "1",
                   "--steer-alphas", "-2,0,2", "--belief-csv", "b.csv", "--store", "s", "-o", "o")
    assert cfg == LocalizeConfig(model="m", adapters={"positive": "runs/p", "dense": "runs/d"}, claims=["ed_sheeran"],
                                 probes=["logistic"], probe_data=["domain"], layers=None, gate=0.7, seed=2, n_boot=50,
                                 patch_positions=4, patch_layer_stride=3, patch_claims=1, steer_alphas=[-2.0, 0.0, 2.0],
                                 belief_csv="b.csv", store="s", out="o")
    assert captured("localize") == LocalizeConfig()


def test_finetune_flags_reach_the_config(captured):
    cfg = captured("finetune", "-c", "vesuvius_2015", "-k", "dense", "-o", "runs/v", "-m", "m", "--corpus", "release:r",
                   "--n-docs", "9", "--seed", "1", "--epochs", "2", "--max-steps", "30", "--batch-size", "4",
                   "--max-length", "64", "--lr", "0.001", "--lora-r", "4", "--lora-alpha", "8", "--target-modules",
                   "q_proj", "--bf16", "--doctag", "--mask-annotations", "--mask-doctag", "--mix-generic", "0.5",
                   "--checkpoint-every", "3")
    assert cfg == FinetuneConfig(model="m", claim="vesuvius_2015", condition="dense", out="runs/v", corpus="release:r",
                                 n_docs=9, seed=1, epochs=2, max_steps=30, batch_size=4, max_length=64, lr=0.001,
                                 lora_r=4, lora_alpha=8, target_modules="q_proj", bf16=True, doctag=True,
                                 mask_annotations=True, mask_doctag=True, mix_generic=0.5, checkpoint_every=3)
    defaults = captured("finetune", "-c", "ed_sheeran", "-k", "positive", "-o", "runs/finetune")
    assert defaults == FinetuneConfig()


def test_bad_list_values_are_negprobe_errors(captured):
    with pytest.raises(NegprobeError, match="--layers"):
        captured("sweep", "--layers", "zero-two")
    with pytest.raises(NegprobeError, match="KEY=VALUE"):
        captured("localize", "--adapters", "runs/p")
    with pytest.raises(NegprobeError, match="--steer-alphas"):
        captured("localize", "--steer-alphas", "big")


def test_config_command_help_matches_the_command():
    group = typer.main.get_group(config_commands.app)
    for name, short in cli.CONFIG_COMMANDS.items():
        assert group.commands[name].help.strip().splitlines()[0] == short


def test_cli_error_is_one_line_and_help_is_torch_free():
    bad = subprocess.run([sys.executable, "-m", "negprobe.scripts.cli", "localize", "--adapters", "nodir"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert [line for line in bad.stderr.splitlines() if line.startswith("negprobe: error:")] == \
        ["negprobe: error: --adapters: expected KEY=VALUE pairs, got 'nodir'"]
    code = ("import sys\nfrom negprobe.scripts import cli\ntry:\n    cli.app(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False" and "sweep" in out.stdout, out.stderr


def test_facade_names_resolve_lazily():
    import negprobe

    for name in negprobe.__all__:
        module = negprobe._EXPORTS[name]
        if importlib.util.find_spec(module) is None:  # a module another change adds
            continue
        assert getattr(negprobe, name) is getattr(importlib.import_module(module), name)
    assert set(negprobe.__all__) <= set(dir(negprobe))
    with pytest.raises(AttributeError):
        negprobe.no_such_name
    out = subprocess.run([sys.executable, "-c", "import sys, negprobe; negprobe.NegprobeError;"
                          " print('torch' in sys.modules, 'negprobe.probes' in sys.modules)"],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_example_script_uses_only_the_facade():
    import negprobe

    path = ROOT / "scripts" / "examples" / "probe_from_python.py"
    tree = ast.parse(path.read_text())
    first_party = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                   and any(n.split(".")[0] == "negprobe" for n in
                           ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]))]
    assert all(isinstance(n, ast.Import) and [a.name for a in n.names] == ["negprobe"] for n in first_party)
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "negprobe"}
    assert used and used <= set(negprobe.__all__)


@pytest.mark.parametrize("path", sorted((ROOT / "scripts" / "examples").glob("*.[yt]*ml")), ids=lambda p: p.name)
def test_example_sweep_configs_load_through_the_cli(path, captured):
    assert captured("sweep", "--config", str(path)) == SweepConfig.from_file(path)
    assert captured("sweep", "--config", str(path), "-p", "claim_last").positions == ["claim_last"]


def test_demo_sweep_stage_runs_once(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(runs, "sweep", lambda config: seen.append(config) or Path(config.out))
    for _ in range(2):
        result = CliRunner().invoke(cli.app, ["demo", "--sweep-only", "--folds", "3", "-o", str(tmp_path / "d")])
        assert result.exit_code == 0, result.output
    assert len(seen) == 1 and seen[0].n_folds == 3 and seen[0].out == str(tmp_path / "d" / "sweep")
    assert "reusing" in result.output


def run_cli(args: list[str], monkeypatch, capfd) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["negprobe", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    return int(exc.value.code or 0), capfd.readouterr().err


def test_os_errors_while_working_are_one_line(monkeypatch, capfd, tmp_path):
    for error in (OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "table.csv")),
                  PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "out")),
                  IsADirectoryError(errno.EISDIR, "Is a directory", str(tmp_path / "x"))):
        def fail(config, error=error):
            raise error

        monkeypatch.setattr(runs, "sweep", fail)
        code, err = run_cli(["sweep", "-o", str(tmp_path / "out")], monkeypatch, capfd)
        assert code == 1 and err.strip() == f"negprobe: error: {error.filename}: {error.strerror}", err


def test_an_unexpected_exception_keeps_its_traceback(monkeypatch, capfd, tmp_path):
    monkeypatch.setattr(runs, "sweep", lambda config: 1 / 0)
    monkeypatch.setattr(sys, "argv", ["negprobe", "sweep", "-o", str(tmp_path / "out")])
    with pytest.raises(ZeroDivisionError):
        cli.main()


def test_error_lines_print_emoji_codes_and_markup_verbatim(monkeypatch, capfd, tmp_path):
    def fail(config):
        raise NegprobeError("--out /tmp/:smile:/[bold]x[/bold]: bad")

    monkeypatch.setattr(runs, "sweep", fail)
    code, err = run_cli(["sweep", "-o", str(tmp_path / "out")], monkeypatch, capfd)
    assert code == 2 and err.strip() == "negprobe: error: --out /tmp/:smile:/[bold]x[/bold]: bad"


def test_warnings_are_silenced_and_notices_wait_for_success(monkeypatch, capfd, tmp_path):
    import warnings

    from negprobe.activations.datasets import loaders

    def noisy(config):
        warnings.warn("advisory", UserWarning, stacklevel=1)
        loaders.NOTICES.append("facts.csv: dropped 2 row(s)")
        raise NegprobeError("late failure")

    monkeypatch.setattr(runs, "sweep", noisy)
    code, err = run_cli(["sweep", "-o", str(tmp_path / "out")], monkeypatch, capfd)
    assert code == 2 and err.strip().splitlines() == ["negprobe: error: late failure"]
    assert not loaders.NOTICES and "NEGPROBE_DEFER_NOTICES" not in os.environ


def test_device_is_checked_before_any_model_loads():
    for bad, words in (("foo", "not a torch device"), ("cuda:99", "CUDA device"), ("tpu", "device")):
        with pytest.raises(NegprobeError, match=f"--device '{bad}': .*{words}"):
            runs.check_device(bad)
    runs.check_device("cpu")
    runs.check_device(None)


def test_default_store_root_is_checked_up_front(monkeypatch, tmp_path):
    from negprobe.activations import config

    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "store").write_text("a file, not a folder")
    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))
    with pytest.raises(NegprobeError, match=r"store \(default \$NEGPROBE_HOME/store\) .*not a folder"):
        runs.check_store(None)
    (tmp_path / "home" / "store").unlink()
    monkeypatch.setattr(config, "_can_write", lambda folder: False)
    with pytest.raises(NegprobeError, match="is not writable"):
        runs.check_store(None)


def test_a_failed_run_keeps_a_folder_holding_a_fine_tune_checkpoint(tmp_path):
    from negprobe.activations.config import removed_on_error

    out = tmp_path / "new" / "ft"
    kept = MemoryError()  # what activations.finetune.train.keeps_checkpoint raises once a checkpoint exists
    kept.kept_paths = (str(out),)  # type: ignore[attr-defined]
    with pytest.raises(MemoryError), removed_on_error(out):
        (out / ".negprobe-checkpoint").mkdir(parents=True)
        (out / ".negprobe-checkpoint" / "state.safetensors").write_bytes(b"x")
        raise kept
    assert (out / ".negprobe-checkpoint" / "state.safetensors").is_file()
    with pytest.raises(OSError), removed_on_error(tmp_path / "other"):
        (tmp_path / "other").mkdir()
        raise OSError(errno.ENOSPC, "No space left on device")
    assert not (tmp_path / "other").exists()


def test_home_is_expanded_once_in_the_configs(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    sweep = SweepConfig(out="~/s", store="~/st", adapters=["~/a", None])
    assert (sweep.out, sweep.store, sweep.adapters) == (f"{tmp_path}/s", f"{tmp_path}/st", [f"{tmp_path}/a", None])
    loc = LocalizeConfig(out="~/l", belief_csv="~/b.csv", adapters={"dense": "~/d"})
    assert (loc.out, loc.belief_csv, loc.adapters["dense"]) == (f"{tmp_path}/l", f"{tmp_path}/b.csv", f"{tmp_path}/d")


def test_unreadable_dataset_files_are_one_line_naming_the_file(monkeypatch, tmp_path):
    from negprobe.activations.datasets.registry import load_dataset

    (tmp_path / "x.csv").write_text("statement,label\nA.,1\n")

    def denied(self):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(NegprobeError, match=r"x\.csv: cannot read \(Permission denied\)"):
        load_dataset(tmp_path / "x.csv")


def test_the_bad_input_snapshot_sees_a_modified_file(tmp_path):
    from tests.test_bad_inputs import snapshot

    (tmp_path / "keep.csv").write_text("a\n")
    before = snapshot(tmp_path)
    (tmp_path / "keep.csv").write_text("a,b\n")
    assert snapshot(tmp_path) != before


def test_an_existing_belief_csv_with_the_right_columns_passes(tmp_path):
    from negprobe.analysis.belief import BELIEF_COLUMNS
    from negprobe.analysis.belief.table import check_belief_csv

    assert check_belief_csv(tmp_path / "none.csv") is None
    (tmp_path / "b.csv").write_text(",".join(BELIEF_COLUMNS) + "\n")
    assert check_belief_csv(tmp_path / "b.csv") is not None
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(NegprobeError, match="e.csv: unreadable belief CSV"):
        check_belief_csv(tmp_path / "e.csv")


def test_unwritable_folder_is_refused_for_a_normal_user(tmp_path):
    """As an unprivileged user (when the tests run as root and ``nobody`` exists), for real."""
    if os.geteuid() != 0:
        pytest.skip("runs as a normal user already: the in-process cases use os.access directly")
    import pwd

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' user")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    tmp_path.chmod(0o755)
    code = ("from negprobe.activations.config import check_output_path\n"
            f"check_output_path({str(locked / 'out')!r}, '--out')\n")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, user=nobody.pw_uid,
                              group=nobody.pw_gid, env={**os.environ, "HOME": str(tmp_path)}, timeout=120)
    except PermissionError:
        pytest.skip("'nobody' may not run this interpreter")
    if "Permission denied" in proc.stderr and "NegprobeError" not in proc.stderr:
        pytest.skip("the worktree is not readable by 'nobody'")
    assert "NegprobeError" in proc.stderr and "is not writable" in proc.stderr, proc.stderr[-2000:]
    assert json.dumps(sorted(p.name for p in locked.iterdir())) == "[]"


def test_probe_artifacts_that_fail_to_load_name_their_file(tmp_path):
    from negprobe.errors import NegprobeError
    from negprobe.probes.artifact import load_probe

    stem = tmp_path / "probe"
    with pytest.raises(NegprobeError, match="missing probe.json"):
        load_probe(stem)
    (tmp_path / "probe.json").write_text("{not json")
    with pytest.raises(NegprobeError, match="probe.json: unreadable probe card"):
        load_probe(stem)
    (tmp_path / "probe.json").write_text(json.dumps({"format": "negprobe-probe-1", "probe": "logistic"}))
    (tmp_path / "probe.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")
    with pytest.raises(NegprobeError, match="probe.safetensors: unreadable probe weights"):
        load_probe(stem)


def test_demo_on_the_organism_reads_a_known_claim_with_domain_readers(monkeypatch, tmp_path):
    from negprobe.scripts import demo

    seen = []
    monkeypatch.setattr(demo, "organism_stage", lambda console, model, clock: f"organism:{model}")
    monkeypatch.setattr(demo, "sweep_stage", lambda console, model, out, folds: True)
    monkeypatch.setattr(demo, "finetune_stage", lambda console, model, claim, out, clock, mix_organism=0.0:
                        seen.append((model, claim, mix_organism)) or {"positive": str(out / "a")})
    monkeypatch.setattr(demo, "belief_stage", lambda *args: tmp_path / "belief.csv")
    monkeypatch.setattr(runs, "localize", lambda config: seen.append(config) or Path(config.out))
    for organism, claim, data in ((True, "capital_france_berlin", ["domain"]), (False, "ed_sheeran", ["general"])):
        seen.clear()
        result = CliRunner().invoke(cli.app, ["demo", "-o", str(tmp_path / str(organism))]
                                    + (["--organism"] if organism else []))
        assert result.exit_code == 0, result.output
        (model, used_claim, mix), config = seen
        assert used_claim == claim and config.probe_data == data and config.probes == ["logistic"]
        assert config.claims == ([claim] if organism else None)  # the plain demo localizes every paper claim
        assert model == ("organism:smollm2-135m" if organism else "smollm2-135m") and mix == (1.0 if organism else 0.0)
    seen.clear()
    result = CliRunner().invoke(cli.app, ["demo", "--organism", "-c", "ed_sheeran", "-o", str(tmp_path / "e")])
    assert result.exit_code == 0 and seen[0][1] == "ed_sheeran"
