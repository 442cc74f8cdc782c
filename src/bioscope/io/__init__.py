"""Reading and writing files: images, and atomic writes."""

from bioscope.io.atomic import atomic_path, atomic_write, atomic_write_text
from bioscope.io.checkpoint import load_checkpoint, read_checkpoint_meta, save_checkpoint
from bioscope.io.images import IMAGE_SUFFIXES, read_image, to_grey, write_image
from bioscope.io.volumes import Volume, read_volume, write_nifti

__all__ = [
    "IMAGE_SUFFIXES",
    "Volume",
    "atomic_path",
    "atomic_write",
    "atomic_write_text",
    "load_checkpoint",
    "read_checkpoint_meta",
    "read_image",
    "read_volume",
    "save_checkpoint",
    "to_grey",
    "write_image",
    "write_nifti",
]
