"""bioscope: cell segmentation/counting and arbitrary-scale MRI super-resolution in PyTorch."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bioscope")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
