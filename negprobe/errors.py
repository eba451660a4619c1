"""One exception type for every user-facing failure.

The CLI catches :class:`NegprobeError`, prints its message on one line and exits non-zero,
so messages must name the file, field or argument at fault.
"""

from __future__ import annotations


class NegprobeError(Exception):
    """A problem with the user's input (model name, dataset, adapter, layer, ...)."""

    exit_code: int = 2
