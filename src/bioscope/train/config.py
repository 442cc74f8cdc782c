"""Nested dataclass configurations from plain dictionaries (parsed YAML), strictly."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from bioscope.errors import InputError

T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``; nested dataclass fields recurse.

    Unknown keys are an error that names them (a typo in a YAML file must not pass silently).

    Example:
        >>> @dataclasses.dataclass
        ... class Opt:
        ...     lr: float = 0.1
        >>> from_dict(Opt, {"lr": 0.5}).lr
        0.5
    """
    data = dict(data or {})
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InputError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        nested = _dataclass_of(hint)
        if nested and value is not None:
            value = from_dict(nested, value, f"{where}.{name}")
        elif isinstance(value, list) and _is_tuple(hint):
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from exc


def to_dict(config: Any) -> dict[str, Any]:
    """The plain-dictionary form of a (nested) dataclass, tuples as lists (YAML/JSON-safe)."""
    return _plain(dataclasses.asdict(config))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _dataclass_of(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            if dataclasses.is_dataclass(arg):
                return arg
    return None


def _is_tuple(hint: Any) -> bool:
    options = (
        typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType)
        else (hint,)
    )
    return any(typing.get_origin(option) is tuple for option in options)
