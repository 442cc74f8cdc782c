"""Nested dataclass configurations from plain dictionaries (parsed YAML), strictly."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from bioscope.errors import InputError

T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "config", key: str = "") -> T:
    """Build dataclass ``cls`` from ``data``, checking every value against its field's type;
    nested dataclass fields recurse.

    Unknown keys and values of the wrong type are errors that name the key (a typo in a YAML file
    must not pass silently, nor end in a traceback at epoch 3). Integers pass where floats are
    expected, lists where tuples are; booleans pass only as booleans.

    Raises:
        InputError: ``where: key a.b: expected ..., got ...`` or the unknown keys.

    Example:
        >>> @dataclasses.dataclass
        ... class Opt:
        ...     lr: float = 0.1
        >>> from_dict(Opt, {"lr": 1}).lr
        1.0
        >>> from_dict(Opt, {"lr": "fast"})
        Traceback (most recent call last):
        ...
        bioscope.errors.InputError: config: key lr: expected a number, got 'fast'
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{where}: key {key or '(top level)'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        place = f"{where}.{key}" if key else where
        raise InputError(
            f"{place}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    kwargs = {
        name: _checked(value, hints[name], where, f"{key}.{name}" if key else name)
        for name, value in data.items()
    }
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from exc


def _checked(value: Any, hint: Any, where: str, key: str) -> Any:
    """``value`` as field type ``hint`` wants it, or an error naming ``key``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _checked(value, option, where, key)
            except InputError:
                continue
        raise _wrong(value, hint, where, key)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise _wrong(value, hint, where, key)
        return from_dict(hint, value, where, key)
    if origin is typing.Literal:
        if value not in args:
            raise _wrong(value, hint, where, key)
        return value
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise _wrong(value, hint, where, key)
        items = args[:1] * len(value) if origin is list or args[-1:] == (...,) else args
        if args and len(items) != len(value):
            raise _wrong(value, hint, where, key)
        checked = (
            [
                _checked(v, t, where, f"{key}[{i}]")
                for i, (v, t) in enumerate(zip(value, items, strict=True))
            ]
            if args
            else list(value)
        )
        return tuple(checked) if origin is tuple else checked
    if hint in (int, float, bool, str, type(None), dict) or origin is dict:
        kind = origin or hint
        number = isinstance(value, int | float) and not isinstance(value, bool)
        ok = {
            int: isinstance(value, int) and not isinstance(value, bool),
            float: number,
            bool: isinstance(value, bool),
            str: isinstance(value, str),
            type(None): value is None,
            dict: isinstance(value, dict),
        }[kind]
        if not ok:
            raise _wrong(value, hint, where, key)
        return float(value) if kind is float else value
    return value


def _wrong(value: Any, hint: Any, where: str, key: str) -> InputError:
    return InputError(f"{where}: key {key}: expected {_describe(hint)}, got {value!r}")


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (tuple, list):
        return "a list"
    if dataclasses.is_dataclass(hint):
        return f"a mapping of {hint.__name__} settings"
    names = {
        int: "an integer",
        float: "a number",
        bool: "true or false",
        str: "a string",
        type(None): "null",
        dict: "a mapping",
    }
    return names.get(origin or hint, getattr(hint, "__name__", str(hint)))


def to_dict(config: Any) -> dict[str, Any]:
    """The plain-dictionary form of a (nested) dataclass, tuples as lists (YAML/JSON-safe)."""
    return _plain(dataclasses.asdict(config))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
