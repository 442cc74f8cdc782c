"""A registry of model builders: ``@register_model`` fills it, ``create_model`` reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from bioscope.errors import InputError

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}
_TASKS: dict[str, str] = {}
Builder = TypeVar("Builder", bound=Callable[..., nn.Module])
#: What a model does, and so how it is called: ``segmentation`` ``model(image)``,
#: ``superres`` ``model(lr, scale)``, ``discriminator`` ``model(image)`` -> logits.
TASKS = ("segmentation", "superres", "discriminator")


def register_model(name: str, task: str) -> Callable[[Builder], Builder]:
    """Decorator: register ``builder`` under ``name`` (names are unique) for ``task``."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")

    def decorate(builder: Builder) -> Builder:
        if name in _BUILDERS:
            raise ValueError(f"model {name!r} is registered twice")
        _BUILDERS[name] = builder
        _TASKS[name] = task
        return builder

    return decorate


def list_models(task: str | None = None) -> list[str]:
    """Names of the registered models (of one ``task``, if given), sorted.

    Example:
        >>> "fft-unet" in list_models("segmentation"), "meta-srgan" in list_models("superres")
        (True, True)
    """
    return sorted(n for n in _BUILDERS if task is None or _TASKS[n] == task)


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


def model_task(name: str) -> str:
    """The task (see :data:`TASKS`) of a registered model.

    Raises:
        InputError: the name is unknown.
    """
    if name not in _TASKS:
        raise InputError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    return _TASKS[name]
