"""The sweep grid (``SweepConfig``) and the columns of its tidy results table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from negprobe.errors import NegprobeError

from . import PROBES

RESULT_COLUMNS = ["model", "adapter", "position", "layer", "probe", "train", "test", "metric", "value", "ci_low",
                  "ci_high", "n"]


@dataclass
class SweepConfig:
    """A sweep grid. ``train`` is a list of training sets, each a list of dataset names combined."""

    models: list[str] = field(default_factory=lambda: ["smollm2-135m"])
    adapters: list[str | None] = field(default_factory=lambda: [None])
    train: list[list[str]] = field(default_factory=lambda: [["cities", "neg_cities"]])
    test: list[str] = field(default_factory=list)
    probes: list[str] = field(default_factory=lambda: list(PROBES))
    positions: list[str] = field(default_factory=lambda: ["last"])
    layers: list[int] | None = None
    n_folds: int = 5
    val_fraction: float = 0.2
    seed: int = 0
    n_boot: int = 200
    chat: bool = False
    compute_dtype: str = "float32"
    backend: str = "hf"
    store: str | None = None
    out: str = "negprobe-out/sweep"

    def __post_init__(self):
        self.train = [[t] if isinstance(t, str) else list(t) for t in self.train]
        self.train = [[n for part in t for n in part.split(",")] for t in self.train]
        self.test = [n for part in self.test for n in part.split(",")]
        for name in self.probes:
            if name not in PROBES:
                raise NegprobeError(f"unknown probe {name!r}: use one of {', '.join(PROBES)}")
        if self.n_folds < 2:
            raise NegprobeError(f"n_folds must be at least 2, got {self.n_folds}")

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
            raise NegprobeError(f"{path}: a sweep config must be a mapping of fields")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise NegprobeError(f"{path}: unknown field(s) {', '.join(unknown)}; fields are {', '.join(cls.__dataclass_fields__)}")
        return cls(**data)
