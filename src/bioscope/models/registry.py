"""A registry of model builders: ``@register_model`` fills it, ``create_model`` reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from bioscope.errors import InputError

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}
Builder = TypeVar("Builder", bound=Callable[..., nn.Module])


def register_model(name: str) -> Callable[[Builder], Builder]:
    """Decorator: register ``builder`` under ``name`` (names are unique)."""

    def decorate(builder: Builder) -> Builder:
        if name in _BUILDERS:
            raise ValueError(f"model {name!r} is registered twice")
        _BUILDERS[name] = builder
        return builder

    return decorate


def list_models() -> list[str]:
    """Names of all registered models, sorted.

    Example:
        >>> "unet" in list_models() and "fft-unet" in list_models()
        True
    """
    return sorted(_BUILDERS)


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build the model registered as ``name`` with keyword arguments ``kwargs``.

    The name and arguments are recorded on the model (``model.bioscope_name``,
    ``model.bioscope_args``) so a checkpoint can rebuild it.

    Raises:
        InputError: the name is unknown (the message lists the known ones) or an argument is not
            accepted by the builder.
    """
    if name not in _BUILDERS:
        raise InputError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    try:
        model = _BUILDERS[name](**kwargs)
    except TypeError as exc:
        raise InputError(f"model {name!r}: bad arguments {kwargs} ({exc})") from exc
    model.bioscope_name = name
    model.bioscope_args = dict(kwargs)
    return model
