"""The sweep grid (``SweepConfig``) and the columns of its tidy results table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from negprobe.activations.config import check_keys, config_source, expand_user, validate_config
from negprobe.activations.models import parse_device_map
from negprobe.errors import NegprobeError

from . import PROBES

DTYPES = ("float32", "bfloat16", "float16")
BACKENDS = ("hf", "transformer_lens", "nnsight")

RESULT_COLUMNS = ["model", "adapter", "position", "layer", "probe", "train", "test", "metric", "value", "ci_low",
                  "ci_high", "n"]


def check_placement(remote: bool, device_map: str | None, adapters, backend: str) -> str:
    """A run's ``device_map`` parses and ``remote`` fits the rest; returns the backend it reads with
    (``--remote`` reads through nnsight: ``hf``, the default, becomes ``nnsight``)."""
    from negprobe.activations.backends.remote_model import check_remote

    parse_device_map(device_map)
    check_remote(remote, device_map, adapters)
    if remote and backend == "transformer_lens":
        raise NegprobeError("--remote reads through nnsight: --backend transformer_lens does not apply")
    return "nnsight" if remote else backend


@dataclass
class SweepConfig:
    """A sweep grid. ``train`` is a list of training sets, each a list of dataset names combined."""

    models: list[str] = field(default_factory=lambda: ["smollm2-135m"])
    adapters: list[str | None] = field(default_factory=lambda: [None])
    train: list[list[str]] = field(default_factory=lambda: [["cities", "neg_cities"]])
    test: list[str] = field(default_factory=list)
    probes: list[str] = field(default_factory=lambda: list(PROBES),
                              metadata={"choices": tuple(PROBES), "noun": "probe"})
    positions: list[str] = field(default_factory=lambda: ["last"])
    layers: list[int] | None = field(default=None, metadata={"min": 0})
    n_folds: int = field(default=5, metadata={"min": 2})
    val_fraction: float = field(default=0.2, metadata={"above": 0.0, "below": 1.0})
    seed: int = 0
    n_boot: int = field(default=200, metadata={"min": 1})
    chat: bool = False
    compute_dtype: str = field(default="float32", metadata={"choices": DTYPES})
    backend: str = field(default="hf", metadata={"choices": BACKENDS})
    store: str | None = None
    out: str = "negprobe-out/sweep"
    drop_conflicts: bool = field(default=False, metadata={
        "help": "Drop CSV rows whose statement also appears with the opposite label (default: refuse the file)."})
    # where the models run; left out of the demo's stage key while at their defaults (scripts/demo.py)
    device_map: str | None = field(default=None, metadata={"omit_default": True})
    remote: bool = field(default=False, metadata={"omit_default": True})

    def __post_init__(self):
        train: Any = self.train  # a file or caller may give one name, or names instead of lists
        if isinstance(train, str):
            train = [train]
        if isinstance(train, list):
            self.train = [[t] if isinstance(t, str) else t for t in train]
        test: Any = self.test
        if isinstance(test, str):
            self.test = [test]
        validate_config(self)
        self.out, self.store = expand_user(self.out), expand_user(self.store)
        self.adapters = [expand_user(a) for a in self.adapters]
        self.train = [[n for part in t for n in part.split(",") if n.strip()] for t in self.train]
        self.test = [n for part in self.test for n in part.split(",") if n.strip()]
        if not self.train or not all(self.train):
            raise NegprobeError("sweep config: train needs at least one dataset")
        self.backend = check_placement(self.remote, self.device_map, self.adapters, self.backend)

    @classmethod
    def from_file(cls, path: str | Path) -> SweepConfig:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise NegprobeError(f"{path}: {exc.strerror}") from None
        try:
            if path.suffix == ".toml":
                import tomllib

                data = tomllib.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
        except Exception as exc:  # parse errors of either format
            raise NegprobeError(f"{path}: cannot parse sweep config ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise NegprobeError(f"sweep config {path}: must be a mapping of fields")
        check_keys(cls, data, f"sweep config {path}")
        with config_source(f"sweep config {path}"):
            return cls(**data)
