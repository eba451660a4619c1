"""Habits that keep the tree readable: ruff and pyright (basic) clean, modules and functions short.

Limits: no module over 400 lines; no function over 60 lines unless the line before its ``def``
(or its decorators) is a comment starting ``# long:`` that says why.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"activations": "activations", "probes": "probes", "analysis": "analysis", "scripts": "scripts"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).with_name(name)
    if not exe.exists():
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return [str(exe)]


def source_files() -> list[Path]:
    files = sorted((ROOT / "negprobe").glob("*.py"))
    for folder in FOLDERS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def test_ruff_is_clean():
    proc = subprocess.run([*_tool("ruff"), "check", "--no-cache", "negprobe", *FOLDERS, "tests"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_pyright_basic_is_clean(tmp_path):
    """pyright cannot follow setuptools' package-dir mapping, so it checks a copy laid out as installed."""
    package = tmp_path / "negprobe"
    shutil.copytree(ROOT / "negprobe", package, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, package / folder, ignore=shutil.ignore_patterns("__pycache__", "examples"))
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pyright"]
    (tmp_path / "pyrightconfig.json").write_text(json.dumps({**settings, "include": ["negprobe"]}))
    proc = subprocess.run([*_tool("pyright"), "--pythonpath", sys.executable, "--outputjson"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    report = json.loads(proc.stdout)
    errors = [f"{d['file'].replace(str(package), 'negprobe')}:{d['range']['start']['line'] + 1}: {d['message']}"
              for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert report["summary"]["filesAnalyzed"] >= len(source_files()) - 5
    assert not errors, f"{len(errors)} pyright errors:\n" + "\n".join(errors[:60])


def _long_functions(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    found = []
    for node in ast.walk(ast.parse("\n".join(lines), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            first = min([node.lineno, *[d.lineno for d in node.decorator_list]])
            reason = lines[first - 2].strip() if first >= 2 else ""
            if length > MAX_FUNCTION_LINES and not reason.startswith("# long:"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_modules_and_functions_are_short():
    too_long = [f"{p.relative_to(ROOT)} ({n} lines)" for p in source_files()
                if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    long_functions = [f for p in source_files() for f in _long_functions(p)]
    assert not too_long and not long_functions, "\n".join(too_long + long_functions)
