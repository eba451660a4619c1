"""An ordered, named collection of :class:`PromptRecord` with hashing and I/O."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from negprobe.activations.atomic import atomic_path
from negprobe.activations.datasets.records import PromptRecord, field_names
from negprobe.errors import NegprobeError

if TYPE_CHECKING:
    import pandas as pd

#: First line of a JSONL file written by :meth:`PromptDataset.to_jsonl`.
JSONL_HEADER_KEY = "negprobe_dataset"
JSONL_VERSION = 1


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class PromptDataset:
    """A named, ordered tuple of records."""

    name: str
    records: tuple[PromptRecord, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.records, tuple):
            object.__setattr__(self, "records", tuple(self.records))
        for i, r in enumerate(self.records):
            if not isinstance(r, PromptRecord):
                raise NegprobeError(f"dataset {self.name!r}: row {i} is {type(r).__name__}, not a PromptRecord")

    # -- sequence protocol -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[PromptRecord]:
        return iter(self.records)

    @overload
    def __getitem__(self, index: int) -> PromptRecord: ...
    @overload
    def __getitem__(self, index: slice) -> PromptDataset: ...
    def __getitem__(self, index: int | slice) -> PromptRecord | PromptDataset:
        if isinstance(index, slice):
            return PromptDataset(self.name, self.records[index])
        return self.records[index]

    # -- views ---------------------------------------------------------------------------
    def texts(self) -> list[str]:
        """Every record's text, in order."""
        return [r.text for r in self.records]

    def labels(self) -> list[int | None]:
        """Every record's label, in order."""
        return [r.label for r in self.records]

    def filter(self, **field_values: Any) -> PromptDataset:
        """Records whose fields equal the given values.

        A list/set/frozenset value means "any of these" (``condition=["plain", "dense"]``);
        tuples compare by equality (so ``claim_span=(0, 10)`` works).
        """
        known = set(field_names())
        bad = sorted(set(field_values) - known)
        if bad:
            raise NegprobeError(
                f"dataset {self.name!r}: cannot filter on unknown field(s) {', '.join(bad)}; "
                f"fields are {', '.join(field_names())}"
            )

        def keep(r: PromptRecord) -> bool:
            for k, v in field_values.items():
                got = getattr(r, k)
                if isinstance(v, (list, set, frozenset)):
                    if got not in v:
                        return False
                elif got != v:
                    return False
            return True

        desc = ",".join(f"{k}={v}" for k, v in field_values.items())
        return PromptDataset(f"{self.name}[{desc}]", tuple(r for r in self.records if keep(r)))

    @staticmethod
    def concat(*datasets: PromptDataset, name: str | None = None) -> PromptDataset:
        """Records of every dataset, in argument order."""
        if not datasets:
            raise NegprobeError("concat: no datasets given")
        records = tuple(r for d in datasets for r in d.records)
        return PromptDataset(name or "+".join(d.name for d in datasets), records)

    # -- identity ------------------------------------------------------------------------
    def content_hash(self) -> str:
        """sha256 hex of the canonical JSON of every record, in order (the name is excluded)."""
        h = hashlib.sha256()
        for r in self.records:
            h.update(_canonical(r.to_dict()).encode("utf-8"))
            h.update(b"\n")
        return h.hexdigest()

    # -- I/O -------------------------------------------------------------------------------
    def to_jsonl(self, path: str | os.PathLike[str]) -> Path:
        """Write a header line then one record per line, atomically (temp file + ``os.replace``)."""
        path = Path(path)
        header = {JSONL_HEADER_KEY: {"name": self.name, "version": JSONL_VERSION, "n_records": len(self)}}
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(_canonical(header) + "\n")
            for r in self.records:
                fh.write(_canonical(r.to_dict()) + "\n")
        return path

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str], name: str | None = None) -> PromptDataset:
        """Read a file written by :meth:`to_jsonl` (the header line is optional)."""
        path = Path(path)
        if not path.is_file():
            raise NegprobeError(f"{path}: file not found")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as exc:
            raise NegprobeError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
        stored_name: str | None = None
        records: list[PromptRecord] = []
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise NegprobeError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
            if isinstance(obj, dict) and JSONL_HEADER_KEY in obj and not records:
                meta = obj[JSONL_HEADER_KEY]
                stored_name = meta.get("name") if isinstance(meta, dict) else None
                continue
            records.append(PromptRecord.from_dict(obj, where=f"{path}:{lineno}"))
        if not records:
            raise NegprobeError(f"{path}: no records (empty dataset file)")
        return cls(name or stored_name or path.stem, tuple(records))

    def to_frame(self) -> pd.DataFrame:
        """One row per record; ``claim_span`` split into ``claim_start``/``claim_end``;
        ``extra`` as a canonical JSON object string (keeps every column scalar)."""
        import pandas as pd

        cols: dict[str, list[Any]] = {
            "text": [],
            "label": [],
            "polarity": [],
            "condition": [],
            "group": [],
            "pair_id": [],
            "source": [],
            "claim_start": [],
            "claim_end": [],
            "claim": [],
            "extra": [],
        }
        for r in self.records:
            cols["text"].append(r.text)
            cols["label"].append(r.label)
            cols["polarity"].append(r.polarity)
            cols["condition"].append(r.condition)
            cols["group"].append(r.group)
            cols["pair_id"].append(r.pair_id)
            cols["source"].append(r.source)
            cols["claim_start"].append(r.claim_span[0] if r.claim_span else None)
            cols["claim_end"].append(r.claim_span[1] if r.claim_span else None)
            cols["claim"].append(r.claim)
            cols["extra"].append(_canonical(dict(r.extra)))
        frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})
        for k in ("label", "claim_start", "claim_end"):
            frame[k] = pd.array(cols[k], dtype="Int64")
        return frame


def concat(*datasets: PromptDataset, name: str | None = None) -> PromptDataset:
    """Module-level alias of :meth:`PromptDataset.concat`."""
    return PromptDataset.concat(*datasets, name=name)


def make_dataset(name: str, records: Iterable[PromptRecord]) -> PromptDataset:
    """Build a dataset from any iterable of records."""
    return PromptDataset(name, tuple(records))
