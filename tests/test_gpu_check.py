"""The prepared GPU check imports everywhere and says clearly, in one line, when there is no CUDA."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from negprobe.scripts import gpu_check


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: run the check itself")
def test_gpu_check_without_cuda_exits_2_with_one_line(capsys):
    assert gpu_check.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gpu_check: no CUDA device on this machine")
    result = subprocess.run([sys.executable, "-m", "negprobe.scripts.gpu_check", "--steps", "3"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "no CUDA device" in result.stderr and "Traceback" not in result.stderr


def test_a_failing_check_is_reported_and_counted(capsys):
    checks = gpu_check.Checks()
    checks.run("passes", lambda: (True, "fine"))
    checks.run("raises", lambda: (_ for _ in ()).throw(RuntimeError("CUDA error: out of memory")))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("PASS  passes") and lines[1].startswith("FAIL  raises")
    assert "RuntimeError: CUDA error: out of memory" in lines[1] and checks.failed == ["raises"]


def test_dry_run_on_cpu_passes_every_check(tiny_llama_dir, tmp_path, monkeypatch):
    """The same check functions with cpu standing in for cuda, on a tiny model: the checks can pass."""
    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "negprobe.scripts.gpu_check", "--device", "cpu", "--model",
                             str(tiny_llama_dir), "--rows", "120", "--steps", "4"],
                            capture_output=True, text=True, timeout=600)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert sum(line.startswith("PASS") for line in lines) == 6 and lines[-1].startswith("gpu_check: all passed")
