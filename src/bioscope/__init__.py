"""bioscope: cell segmentation/counting and arbitrary-scale MRI super-resolution in PyTorch.

The public API (imported on first use, so ``import bioscope`` stays light):
:func:`segment`, :func:`count`, :func:`segmentation`, :func:`upscale`, :func:`load_cell_model`,
:func:`load_sr_model`.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("bioscope")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "__version__",
    "count",
    "load_cell_model",
    "load_sr_model",
    "segment",
    "segmentation",
    "upscale",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("bioscope.api"), name)
    raise AttributeError(f"module 'bioscope' has no attribute {name!r}")
