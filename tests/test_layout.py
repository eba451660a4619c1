"""The package layout: one ``negprobe.*`` namespace, imports that follow the layering, no cycles.

Layers, lowest first: ``negprobe.errors`` (a leaf) < ``activations`` (datasets, models, reads,
store, interventions, fine-tuning) < ``probes`` < ``analysis`` < ``scripts``. A module may import
its own layer and the layers below it, never one above. Function-local imports count too.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"negprobe": "negprobe", "activations": "negprobe.activations", "probes": "negprobe.probes",
           "analysis": "negprobe.analysis", "scripts": "negprobe.scripts"}
LAYERS = ["negprobe.errors", "negprobe.activations", "negprobe.probes", "negprobe.analysis", "negprobe.scripts"]
BARE = ("activations", "probes", "analysis", "scripts")


def module_files() -> dict[str, Path]:
    """Every first-party module name -> its file (example scripts, in folders without ``__init__.py``,
    are user code: they import the ``negprobe`` facade like any user)."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not (path.parent / "__init__.py").is_file():
                continue
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def imported_modules(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a file, relative ones resolved."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            out += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]  # `from pkg import module`
    return out


def layer_of(module: str) -> int | None:
    for rank, prefix in reversed(list(enumerate(LAYERS))):
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return None


def test_no_bare_first_party_imports():
    offenders = []
    for path in [*module_files().values(), *sorted((ROOT / "tests").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in BARE]
    assert not offenders, "import through negprobe.*: " + "; ".join(offenders)


def test_imports_follow_the_layering():
    modules = module_files()
    offenders = []
    for name, path in modules.items():
        if name == "negprobe":  # the public facade re-exports from every layer, lazily
            continue
        own = layer_of(name)
        for line, target in imported_modules(name, path):
            rank = layer_of(target)
            if target == "negprobe" or (rank is not None and own is not None and rank > own):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {target} (layer above {LAYERS[own]})")
            if name == "negprobe.errors" and target.startswith("negprobe"):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: errors is a leaf, imports {target}")
    assert not offenders, "\n".join(sorted(set(offenders)))


def test_no_import_cycles():
    modules = module_files()
    graph = {name: sorted({t for _, t in imported_modules(name, path) if t in modules and t != name})
             for name, path in modules.items() if name != "negprobe"}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            # a package's __init__ re-exporting its own modules is not a cycle through them
            if state.get(nxt) == 1 and not node.startswith(nxt + "."):
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name)
    assert not cycles, "\n".join(cycles)


def test_every_package_folder_is_in_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    packages = {name for name, path in module_files().items() if path.name == "__init__.py"}
    assert packages == listed
    assert all(key.startswith("negprobe") for key in config["package-dir"])


@pytest.mark.parametrize("bare", BARE)
def test_bare_names_are_not_importable(bare, tmp_path):
    """Only ``negprobe`` is installed: the folders' own names do not leak into site-packages."""
    import subprocess

    proc = subprocess.run([sys.executable, "-c", f"import {bare}"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0 and "No module named" in proc.stderr


def test_the_wheel_holds_only_negprobe(tmp_path):
    """A wheel built from the tree has one top-level package, ``negprobe/``, with every folder mapped in."""
    import subprocess
    import zipfile

    source = tmp_path / "src"  # build from a copy, so no build/ folder is left in the tree
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                                                 ".pytest_cache", "negprobe-out"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(source)], capture_output=True, text=True)
    if proc.returncode != 0 and "No module named" in proc.stderr:
        pytest.skip("this interpreter cannot build wheels without isolation")
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("negprobe-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"negprobe", wheel.name.split("-py")[0] + ".dist-info"}
    for module in ("negprobe/__init__.py", "negprobe/activations/read.py", "negprobe/probes/sweep.py",
                   "negprobe/analysis/localize.py", "negprobe/scripts/cli.py"):
        assert module in names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "negprobe = negprobe.scripts.cli:main" in entry_points
