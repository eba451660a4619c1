"""Build texts piece by piece while recording the character spans of marked pieces."""

from __future__ import annotations

import hashlib

from negprobe.errors import NegprobeError


class TextBuilder:
    """Append strings; :meth:`mark` appends one and returns its ``[start, end)`` span."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._len = 0

    def add(self, piece: str) -> TextBuilder:
        self._parts.append(piece)
        self._len += len(piece)
        return self

    def mark(self, piece: str) -> tuple[int, int]:
        start = self._len
        self.add(piece)
        return start, self._len

    @property
    def text(self) -> str:
        return "".join(self._parts)


def shift_span(span: tuple[int, int] | None, offset: int) -> tuple[int, int] | None:
    """``span`` moved right by ``offset`` characters (None stays None)."""
    return None if span is None else (span[0] + offset, span[1] + offset)


def pick(seed: str, key: str, n: int) -> int:
    """Deterministic index in ``range(n)`` from a seed and key (sha256; stable across
    Python versions and ``PYTHONHASHSEED``, unlike ``hash`` or ``random``)."""
    if n <= 0:
        raise NegprobeError(f"pick: cannot choose from {n} options (seed {seed!r}, key {key!r})")
    digest = hashlib.sha256(f"{seed}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n
