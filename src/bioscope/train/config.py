"""Nested dataclass configurations from plain dictionaries (parsed YAML), strictly."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any, TypeVar

from bioscope.errors import InputError

T = TypeVar("T")

#: A number in exponent notation, which PyYAML (YAML 1.1) reads as a string: ``1e-4``.
_EXPONENT = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+")
_SIMPLE = {
    int: "an integer",
    float: "a number",
    bool: "true or false",
    str: "a string",
    type(None): "null",
    dict: "a mapping",
}


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "config", key: str = "") -> T:
    """Build dataclass ``cls`` from ``data``, checking every value against its field's type;
    nested dataclass fields recurse.

    Unknown keys and values of the wrong type are errors that name the full dotted key (a typo
    in a YAML file must not pass silently, nor end in a traceback at epoch 3). Integers pass
    where floats are expected, and so does exponent notation that YAML 1.1 leaves a string
    (``1e-4``); lists pass where tuples are; booleans pass only as booleans.

    Args:
        cls: the dataclass to build.
        data: its settings (``None``: all defaults).
        where: where ``data`` came from (a file name), the start of every message.
        key: the dotted key of ``data`` inside the whole configuration (``""``: the top).

    Raises:
        InputError: ``where: key a.b: expected ..., got ...``, or
            ``where: key a: unknown key(s) c; known: ...``.

    Example:
        >>> @dataclasses.dataclass
        ... class Opt:
        ...     lr: float = 0.1
        >>> from_dict(Opt, {"lr": 1}).lr
        1.0
        >>> from_dict(Opt, {"lr": "1e-4"}).lr
        0.0001
        >>> from_dict(Opt, {"lr": "fast"})
        Traceback (most recent call last):
        ...
        bioscope.errors.InputError: config: key lr: expected a number, got 'fast'
    """
    if data is None:
        data = {}
    place = f"key {key}: " if key else ""
    if not isinstance(data, dict):
        raise InputError(f"{where}: {place}expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(str(name) for name in set(data) - names)
    if unknown:
        raise InputError(
            f"{where}: {place}unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(names))}"
        )
    kwargs = {
        name: _checked(value, hints[name], where, _dotted(key, name))
        for name, value in data.items()
    }
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from exc


def _dotted(key: str, name: str) -> str:
    """``key.name``, or ``name`` at the top."""
    return f"{key}.{name}" if key else name


def _checked(value: Any, hint: Any, where: str, key: str) -> Any:
    """``value`` as field type ``hint`` wants it, or an error naming ``key``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        return _checked_union(value, hint, where, key)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise _wrong(value, hint, where, key)
        return from_dict(hint, value, where, key)
    if origin is typing.Literal:
        if value not in args:
            raise _wrong(value, hint, where, key)
        return value
    if origin in (tuple, list):
        return _checked_sequence(value, hint, where, key)
    if (origin or hint) in _SIMPLE:
        return _checked_simple(value, hint, where, key)
    return value


def _checked_union(value: Any, hint: Any, where: str, key: str) -> Any:
    """The first option of union ``hint`` that takes ``value``. A mapping or list goes straight
    to the one option of its kind, so an error inside it names the inner key."""
    options = typing.get_args(hint)
    same_kind = [o for o in options if _container(o) is not None and _container(o) is _kind(value)]
    if len(same_kind) == 1:
        return _checked(value, same_kind[0], where, key)
    for option in options:
        try:
            return _checked(value, option, where, key)
        except InputError:
            continue
    raise _wrong(value, hint, where, key)


def _checked_sequence(value: Any, hint: Any, where: str, key: str) -> list[Any] | tuple[Any, ...]:
    """A list (or tuple, as ``hint`` says) with every item checked; ``key[i]`` names a bad one."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if not isinstance(value, list | tuple):
        raise _wrong(value, hint, where, key)
    if not args:
        items = list(value)
    else:
        wanted = args[:1] * len(value) if origin is list or args[-1:] == (...,) else args
        if len(wanted) != len(value):
            raise _wrong(value, hint, where, key)
        pairs = enumerate(zip(value, wanted, strict=True))
        items = [_checked(v, t, where, f"{key}[{i}]") for i, (v, t) in pairs]
    return tuple(items) if origin is tuple else items


def _checked_simple(value: Any, hint: Any, where: str, key: str) -> Any:
    """An int, float, bool, str, None or dict, strictly (``True`` is not the integer 1)."""
    kind = typing.get_origin(hint) or hint
    if kind is float and isinstance(value, str) and _EXPONENT.fullmatch(value.strip()):
        return float(value)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    ok = {
        int: number and isinstance(value, int),
        float: number,
        bool: isinstance(value, bool),
        str: isinstance(value, str),
        type(None): value is None,
        dict: isinstance(value, dict),
    }[kind]
    if not ok:
        raise _wrong(value, hint, where, key)
    return float(value) if kind is float else value


def _container(hint: Any) -> type | None:
    """``dict`` for a mapping type (dataclass, dict), ``list`` for a sequence type, else None."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) or hint is dict or origin is dict:
        return dict
    if hint in (list, tuple) or origin in (list, tuple):
        return list
    return None


def _kind(value: Any) -> type | None:
    """``dict`` for a mapping, ``list`` for a list or tuple, else None (as :func:`_container`)."""
    if isinstance(value, dict):
        return dict
    if isinstance(value, list | tuple):
        return list
    return None


def _wrong(value: Any, hint: Any, where: str, key: str) -> InputError:
    """The error for ``value`` at ``key`` that is not a ``hint``."""
    return InputError(f"{where}: key {key}: expected {_describe(hint)}, got {value!r}")


def _describe(hint: Any) -> str:
    """``hint`` in words: ``an integer or null``, ``a list of 3 values``, ``one of 'a', 'b'``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is tuple and args and args[-1:] != (...,):
        return f"a list of {len(args)} values"
    if origin in (tuple, list):
        return "a list"
    if dataclasses.is_dataclass(hint):
        return f"a mapping of {hint.__name__} settings"
    return _SIMPLE.get(origin or hint, getattr(hint, "__name__", str(hint)))


def to_dict(config: Any) -> dict[str, Any]:
    """The plain-dictionary form of a (nested) dataclass, tuples as lists (YAML/JSON-safe)."""
    return _plain(dataclasses.asdict(config))


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists, recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
