"""Sample data that ships with bioscope (made or read offline), for examples and quick checks.

* :func:`nuclei_field`: a simulated BBBC005-like nuclei image (8-bit, 520 x 696) and its labels.
* :func:`mri_volume` / :func:`mri_slice`: the ICBM152 2009a T1 template shipped in nilearn's
  wheel, as a :class:`~bioscope.io.volumes.Volume` or one axial slice in its file's units.
"""

from __future__ import annotations

import numpy as np

from bioscope.data.mri import take_slice
from bioscope.data.simcep import render_image, simulate_field
from bioscope.data.superres import builtin_volume
from bioscope.io.volumes import Volume


def nuclei_field(count: int = 60, blur: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A simulated nuclei image (uint8) at BBBC005 focus level ``blur`` and its true labels.

    Example:
        >>> image, labels = nuclei_field(count=10)
        >>> image.dtype, image.shape, int(labels.max()) <= 10
        (dtype('uint8'), (520, 696), True)
    """
    field = simulate_field(count, np.random.SeedSequence([seed, 0]))
    image = render_image(field.optical(2), blur, np.random.SeedSequence([seed, 1]))
    return image, field.labels(2)


def mri_volume() -> Volume:
    """The built-in T1 template volume (canonical RAS orientation, 1 mm voxels)."""
    return builtin_volume()


def mri_slice(index: int = 100) -> np.ndarray:
    """Axial slice ``index`` of :func:`mri_volume`, in the file's intensity units."""
    return take_slice(mri_volume(), "axial", index)
