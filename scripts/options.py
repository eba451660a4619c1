"""Command-line options generated from a config dataclass, so the CLI never re-declares a default.

Every field ``foo_bar`` becomes ``--foo-bar`` (plus the aliases a :class:`Flag` names) with the
field's default and type. Lists take comma-separated values and may be repeated (``--probes a,b``,
``--adapter X --adapter Y``); ``list[list[str]]`` fields take one inner list per repetition
(``--train cities,neg_cities --train cities``); ``list[int]`` fields take ranges (``0-29``) and
``all``; ``dict[str, str]`` fields take ``key=value`` pairs; ``None`` inside a list is spelled ``base``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, cast

import typer

from negprobe.errors import NegprobeError

NONE_WORDS = ("base", "none")  # how a None item of a list is spelled on the command line


@dataclass(frozen=True)
class Flag:
    """What the CLI adds to a config field: extra flag names, help text, whether it is required."""

    aliases: tuple[str, ...] = ()
    help: str = ""
    required: bool = False


@dataclass(frozen=True)
class OptionSpec:
    """One generated option: the field it sets, its click declarations, typer annotation and default."""

    field: str
    decls: tuple[str, ...]
    annotation: Any
    default: Any  # the field default as the command line spells it
    parse: Callable[[Any], Any]  # command-line value -> field value
    help: str
    required: bool
    metavar: str | None = None


@dataclass(frozen=True)
class Parsed:
    """The field values of one invocation and the fields the user set explicitly."""

    values: dict[str, Any]
    given: frozenset[str]
    flags: dict[str, str] = dataclasses.field(default_factory=dict)  # field -> its --flag, for error messages

    def config(self, cls: type, base: Any = None) -> Any:
        """``cls(**values)``, or ``base`` with only the explicitly given fields replaced (errors name the flag)."""
        from negprobe.activations.config import config_source  # imports torch: only when a command runs

        with config_source("", self.flags):
            if base is None:
                return cls(**self.values)
            return dataclasses.replace(base, **{name: self.values[name] for name in self.given})


def parse_int_list(text: str | None, what: str) -> list[int] | None:
    """Parse "0,5,10", "0-29" or "all" (None) into a list of ints."""
    if text is None or text.strip().lower() == "all":
        return None
    values: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part[1:]:
                lo, hi = part[0] + part[1:].split("-", 1)[0], part[1:].split("-", 1)[1]
                values.extend(range(int(lo), int(hi) + 1))
            elif part:
                values.append(int(part))
    except ValueError:
        raise NegprobeError(f"--{what}: expected integers like '0,5,10' or '0-29', got {text!r}") from None
    return values


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True  # noqa: UP007 - built at run time from a tuple
    return tp, False


def _items(values: Any) -> list[str]:
    """Repeated and comma-separated command-line values, flattened."""
    return [part.strip() for value in values or () for part in str(value).split(",") if part.strip()]


def _scalar(tp: Any, flag: str) -> Callable[[str], Any]:
    inner, optional = _strip_optional(tp)
    if inner in (str, int, float):
        def convert(text: str) -> Any:
            if optional and text.lower() in NONE_WORDS:
                return None
            try:
                return inner(text)
            except ValueError:
                raise NegprobeError(f"{flag}: expected {inner.__name__} values, got {text!r}") from None

        return convert
    raise TypeError(f"{flag}: no command-line form for list items of type {tp!r}")


def _render(value: Any) -> str:
    return NONE_WORDS[0] if value is None else str(value)


def _list_option(tp: Any, default: Any, optional: bool, flag: str):
    """(annotation, rendered default, parse) of a list/tuple/dict field."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)

    def empty() -> Any:  # what an option left empty means: None, or a fresh empty container
        return None if optional else origin()

    def wrap(parse_items: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda values: parse_items(values) if values else empty()

    if origin is dict:
        def pairs(values: Any) -> dict:
            out = {}
            for item in _items(values):
                if "=" not in item:
                    raise NegprobeError(f"{flag}: expected KEY=VALUE pairs, got {item!r}")
                key, value = item.split("=", 1)
                out[key.strip()] = value.strip()
            return out

        rendered = [f"{k}={v}" for k, v in default.items()] if default else None
        return list[str], rendered, wrap(pairs)
    item = args[0] if args else str
    if typing.get_origin(item) in (list, tuple):  # one inner list per repetition
        rendered = [",".join(map(str, inner)) for inner in default] if default else None
        inner_type = origin
        return list[str], rendered, wrap(lambda values: inner_type(_items([v]) for v in values))
    if item is int:
        rendered = [",".join(map(str, default))] if default else None
        return list[str], rendered, wrap(lambda values: parse_int_list(",".join(_items(values)), flag[2:]) or empty())
    convert = _scalar(item, flag)
    rendered = [_render(v) for v in default] if default else None
    return list[str], rendered, wrap(lambda values: origin(convert(v) for v in _items(values)))


def _option_form(tp: Any, default: Any, flag: str):
    """(annotation, rendered default, parse) of one field type."""
    inner, optional = _strip_optional(tp)
    if typing.get_origin(inner) in (list, tuple, dict):
        return _list_option(inner, default, optional, flag)
    if typing.get_origin(inner) is typing.Literal:  # validated by the config itself
        inner = str
    if inner in (bool, int, float, str):
        return (inner | None if optional else inner), default, lambda v: v
    if inspect.isclass(inner) and issubclass(inner, PurePath):
        return (str | None if optional else str), None if default is None else str(default), \
            lambda v: v if v is None else inner(v)
    raise TypeError(f"{flag}: no command-line form for a field of type {tp!r}")


def _metavar(tp: Any) -> str | None:
    inner = _strip_optional(tp)[0]
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    if origin is dict:
        return "KEY=VALUE,..."
    if origin in (list, tuple):
        return "0-29|all" if args and args[0] is int else "A,B,..."
    return None


def option_specs(cls: type, flags: dict[str, Flag]) -> list[OptionSpec]:
    """One option per field of the dataclass ``cls``; ``flags`` adds aliases and help by field name."""
    hints = typing.get_type_hints(cls)
    unknown = set(flags) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise TypeError(f"flags for unknown {cls.__name__} field(s): {', '.join(sorted(unknown))}")
    specs = []
    for f in dataclasses.fields(cls):
        flag = flags.get(f.name, Flag())
        name = "--" + f.name.replace("_", "-")
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        annotation, rendered, parse = _option_form(hints[f.name], default, name)
        decls = (name, *flag.aliases)
        if hints[f.name] is bool or _strip_optional(hints[f.name])[0] is bool:
            decls = (f"{name}/--no-{name[2:]}", *flag.aliases)
        help_text = f.metadata.get("help") or flag.help
        specs.append(OptionSpec(f.name, decls, annotation, rendered, parse, help_text, flag.required,
                                _metavar(hints[f.name])))
    return specs


def _typer_option(spec: OptionSpec) -> Any:
    default = ... if spec.required else spec.default
    return typer.Option(default, *spec.decls, help=spec.help, show_default=not spec.required, metavar=spec.metavar)


#: ``ctx.meta`` key of the command's raw arguments (set by cli.py), so errors name a flag as typed.
ARGS_KEY = "negprobe.args"


def _typed_flag(spec: OptionSpec, args: Any) -> str:
    """The flag of ``spec`` as the user typed it (``--folds`` for ``n_folds``), else its canonical name."""
    names = [name for decl in spec.decls for name in decl.split("/")]
    typed = [name for arg in args for name in names if arg == name or arg.startswith(name + "=")]
    return typed[-1] if typed else names[0]


def config_options(cls: type, flags: dict[str, Flag]) -> Callable[[Callable], Callable]:
    """Decorate a command ``f(options: Parsed, **own)``: its options become ``cls``'s fields plus ``own``."""
    specs = option_specs(cls, flags)

    def decorate(func: Callable) -> Callable:
        own = list(inspect.signature(func, eval_str=True).parameters.values())[1:]
        clash = {p.name for p in own} & ({s.field for s in specs} | {"ctx"})
        if clash:
            raise TypeError(f"{func.__name__}: parameters {clash} shadow {cls.__name__} fields")

        @functools.wraps(func)
        def command(ctx: typer.Context, **kwargs: Any) -> Any:
            values = {s.field: s.parse(kwargs.pop(s.field)) for s in specs}
            given = frozenset(s.field for s in specs if getattr(ctx.get_parameter_source(s.field), "name", None)
                              in ("COMMANDLINE", "ENVIRONMENT"))
            flags = {s.field: _typed_flag(s, ctx.meta.get(ARGS_KEY, ())) for s in specs}
            return func(Parsed(values, given, flags), **kwargs)

        generated = [inspect.Parameter(s.field, inspect.Parameter.KEYWORD_ONLY, default=_typer_option(s),
                                       annotation=s.annotation) for s in specs]
        context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
        params = [context] + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + generated
        cast(Any, command).__signature__ = inspect.Signature(params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        cast(Any, command).option_specs = specs
        return command

    return decorate
