"""Sample data that ships with bioscope (made or read offline), for examples and quick checks.

* :func:`nuclei_field`: a simulated BBBC005-like nuclei image (8-bit, 520 x 696) and its labels.
* :func:`file_versions`: one image as users' files hold it (8-bit, dim 16-bit, 0.5x, 2x), to
  check that a model counts them alike.
* :func:`mri_volume` / :func:`mri_slice`: the ICBM152 2009a T1 template shipped in nilearn's
  wheel, as a :class:`~bioscope.io.volumes.Volume` or one axial slice in its file's units.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

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


def file_versions(image: np.ndarray) -> dict[str, np.ndarray]:
    """``image`` as a user's files might hold it: ``8-bit``, ``dim 16-bit`` (grey levels 100 to
    500), and at ``0.5x`` and ``2x`` its size (bilinear, antialiased when shrinking; floats 0..1).

    Example:
        >>> {k: v.shape for k, v in file_versions(np.eye(32)).items()}["0.5x"]
        (16, 16)
    """
    unit = (image - image.min()) / max(float(np.ptp(image)), 1e-12)
    return {
        "8-bit": np.round(unit * 255).astype(np.uint8),
        "dim 16-bit": np.round(100 + unit * 400).astype(np.uint16),
        "0.5x": _resized(unit, 0.5),
        "2x": _resized(unit, 2.0),
    }


def _resized(image: np.ndarray, factor: float) -> np.ndarray:
    x = torch.from_numpy(image.astype(np.float32))[None, None]
    size = [round(n * factor) for n in image.shape]
    return F.interpolate(x, size, mode="bilinear", antialias=factor < 1)[0, 0].numpy()


def mri_volume() -> Volume:
    """The built-in T1 template volume (canonical RAS orientation, 1 mm voxels)."""
    return builtin_volume()


def mri_slice(index: int = 100) -> np.ndarray:
    """Axial slice ``index`` of :func:`mri_volume`, in the file's intensity units."""
    return take_slice(mri_volume(), "axial", index)
