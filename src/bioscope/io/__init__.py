"""Reading and writing files: images, and atomic writes."""

from bioscope.io.atomic import atomic_path, atomic_write, atomic_write_text
from bioscope.io.checkpoint import load_checkpoint, read_checkpoint_meta, save_checkpoint
from bioscope.io.images import IMAGE_SUFFIXES, read_image, write_image

__all__ = [
    "IMAGE_SUFFIXES",
    "atomic_path",
    "atomic_write",
    "atomic_write_text",
    "load_checkpoint",
    "read_checkpoint_meta",
    "read_image",
    "save_checkpoint",
    "write_image",
]
