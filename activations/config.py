"""Config validation from the dataclass itself: every field against its annotation and metadata.

``validate_config(obj)`` checks each field of a config dataclass against its type
(``int``, ``float``, ``bool``, ``str``, paths, ``list[...]``, ``dict[str, str]``, ``X | None``,
``Literal``) and the ``min``/``max``/``choices`` a field declares in ``field(metadata={...})``,
and raises one :class:`NegprobeError` naming where the value came from and the field. Where a
value came from is set by :func:`config_source` (``sweep config runs/x.yaml``, the command
line's ``--flag`` names). :func:`check_output_path` checks an output path before any work.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import math
import operator
import os
import shutil
import types
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from negprobe.errors import NegprobeError


@dataclass(frozen=True)
class _Source:
    label: str  # "sweep config runs/x.yaml", or "" for the command line
    names: Mapping[str, str]  # field -> how the source spells it (e.g. "--n-folds")


_SOURCE: contextvars.ContextVar[_Source | None] = contextvars.ContextVar("negprobe_config_source", default=None)


@contextmanager
def config_source(label: str, names: Mapping[str, str] | None = None) -> Iterator[None]:
    """Configs validated inside this block name ``label`` (and ``names[field]``) in their errors."""
    token = _SOURCE.set(_Source(label, names or {}))
    try:
        yield
    finally:
        _SOURCE.reset(token)


def _where(cls: type, name: str) -> str:
    source = _SOURCE.get()
    if source is None:
        return f"{cls.__name__}: {name}"
    shown = source.names.get(name, name)
    return f"{source.label}: {shown}" if source.label else shown


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        return functools.reduce(operator.or_, args), optional
    return tp, False


_NOUNS = {int: ("an integer", "integers"), float: ("a number", "numbers"), bool: ("true or false", "booleans"),
          str: ("a string", "strings")}


def _describe(tp: Any, plural: bool = False) -> str:
    inner, optional = _strip_optional(tp)
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    if origin is typing.Literal:
        text = "one of " + ", ".join(map(repr, args))
    elif origin in (list, tuple):
        text = ("lists" if plural else "a list") + (f" of {_describe(args[0], plural=True)}" if args else "")
    elif origin is dict:
        text = "mappings of strings" if plural else "a mapping of strings"
    elif origin in (typing.Union, types.UnionType):
        text = " or ".join(_describe(a, plural) for a in args)
    else:
        text = _NOUNS.get(inner, ("a path", "paths"))[plural]
    return text + (" (or null)" if optional and not plural else "")


def _matches(value: Any, tp: Any) -> bool:
    inner, optional = _strip_optional(tp)
    if value is None:
        return optional
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    if origin is typing.Literal:
        return value in args
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in args)
    if origin in (list, tuple):
        return isinstance(value, (list, tuple)) and all(_matches(v, args[0]) for v in value) if args else True
    if origin is dict:
        key_t, value_t = args or (str, str)
        return isinstance(value, dict) and all(_matches(k, key_t) and _matches(v, value_t) for k, v in value.items())
    if inner is bool:
        return isinstance(value, bool)
    if inner is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if inner is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if inner is str:
        return isinstance(value, str)
    if isinstance(inner, type) and issubclass(inner, PurePath):
        return isinstance(value, (str, PurePath))
    return True  # a type this validator does not know: left to the config


def _bounds(meta: Mapping[str, Any]) -> str:
    parts = []
    if "min" in meta:
        parts.append(f">= {meta['min']:g}")
    if "above" in meta:
        parts.append(f"> {meta['above']:g}")
    if "max" in meta:
        parts.append(f"<= {meta['max']:g}")
    if "below" in meta:
        parts.append(f"< {meta['below']:g}")
    return " and ".join(parts)


def _in_range(value: Any, meta: Mapping[str, Any]) -> bool:
    items = value if isinstance(value, (list, tuple)) else [value]
    for v in items:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        if not math.isfinite(v):
            return False
        if ("min" in meta and v < meta["min"]) or ("max" in meta and v > meta["max"]) \
                or ("below" in meta and v >= meta["below"]) or ("above" in meta and v <= meta["above"]):
            return False
    return True


def _non_finite(value: Any) -> bool:
    items = value if isinstance(value, (list, tuple)) else [value]
    return any(isinstance(v, float) and not math.isfinite(v) for v in items)


def check_field(cls: type, name: str, value: Any, tp: Any, meta: Mapping[str, Any]) -> None:
    """Raise one NegprobeError when ``value`` does not fit the field's type, range or choices."""
    expected = _describe(tp)
    bounds = _bounds(meta)
    if not _matches(value, tp) or (value is not None and not _in_range(value, meta)):
        if _non_finite(value):
            expected = "a finite number"
        raise NegprobeError(f"{_where(cls, name)} must be {expected}{' ' + bounds if bounds else ''}, got {value!r}")
    choices = meta.get("choices")
    if choices and value is not None:
        bad = [v for v in (value if isinstance(value, (list, tuple)) else [value]) if v not in choices]
        if bad:
            noun = meta.get("noun", "value")
            raise NegprobeError(f"{_where(cls, name)}: unknown {noun} {bad[0]!r}; use one of {', '.join(map(str, choices))}")


def validate_config(obj: Any, limits: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Check every field of the config dataclass ``obj`` (call it from ``__post_init__``);
    ``limits`` adds ranges/choices by field name to those of the fields' metadata."""
    cls = type(obj)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(obj):
        meta = {**f.metadata, **(limits or {}).get(f.name, {})}
        check_field(cls, f.name, getattr(obj, f.name), hints[f.name], meta)


@typing.overload
def expand_user(path: str) -> str: ...
@typing.overload
def expand_user(path: None) -> None: ...
def expand_user(path: str | None) -> str | None:
    """``~`` expanded in a config's path field (once, in ``__post_init__``), kept a string."""
    return path if path is None or not path.startswith("~") else str(Path(path).expanduser())


def check_keys(cls: type, data: Mapping[str, Any], source: str) -> None:
    """A config file's keys must all be fields of ``cls``: one line naming the unknown ones."""
    fields = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(str(k) for k in set(data) - set(fields))
    if unknown:
        raise NegprobeError(f"{source}: unknown field(s) {', '.join(unknown)}; fields are {', '.join(fields)}")


def _can_write(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def check_output_path(path: str | os.PathLike[str], what: str, kind: str = "folder") -> Path:
    """Refuse an output path that cannot be written, before any work: ``kind`` is "folder" or "file".

    A folder must not be an existing file (a file not an existing folder), no parent may be a
    file, and the nearest existing folder must be writable. ``what`` names the option (``--out``).
    """
    path = Path(path).expanduser()
    if kind == "folder" and path.exists() and not path.is_dir():
        raise NegprobeError(f"{what} {path}: exists and is not a folder")
    if kind == "file" and path.is_dir():
        raise NegprobeError(f"{what} {path}: is a folder, expected a file path")
    existing = path if path.is_dir() else path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise NegprobeError(f"{what} {path}: {existing} is a file, not a folder")
    if not _can_write(existing):
        raise NegprobeError(f"{what} {path}: folder {existing} is not writable")
    return path


def _outermost_missing(path: Path) -> Path | None:
    if path.exists():
        return None
    while not path.parent.exists() and path.parent != path:
        path = path.parent
    return path


@contextmanager
def removed_on_error(*paths: str | os.PathLike[str] | None) -> Iterator[None]:
    """When an error leaves the block, remove what it created of ``paths`` (and their new parents).

    An interrupt (KeyboardInterrupt, a kill) keeps them, and so does a path inside or above one the
    error lists in its ``kept_paths`` attribute (a fine-tune that holds a resumable checkpoint says so)."""
    created = [_outermost_missing(Path(p).expanduser()) for p in paths if p is not None]
    try:
        yield
    except Exception as exc:
        kept = [Path(k).expanduser().absolute() for k in getattr(exc, "kept_paths", ())]
        for top in created:
            if top is None or not (top.exists() or top.is_symlink()):
                continue
            if any(k == top.absolute() or top.absolute() in k.parents for k in kept):
                continue
            if top.is_dir() and not top.is_symlink():
                shutil.rmtree(top, ignore_errors=True)
            else:
                top.unlink()
        raise
