"""Which axis of a volume holds thick slices, and by how much to enlarge it.

Through-plane SR (``bioscope sr upscale --through-plane``) enlarges a 2-D acquisition's slice axis
only. These helpers read that axis and the scale from the voxel sizes, so a user gives a target
spacing in mm (or nothing: the in-plane spacing), not a factor worked out by hand.
"""

from __future__ import annotations

from fractions import Fraction

from bioscope.errors import InputError
from bioscope.geometry import parse_scale
from bioscope.io.volumes import Volume

#: A volume whose largest voxel side is less than this times its smallest has no thick-slice axis.
ANISOTROPY = 1.5


def slice_axis(volume: Volume) -> int:
    """The axis of the thickest voxel side (the slice axis of a 2-D acquisition).

    Raises:
        InputError: not a volume, or no side stands out (near-isotropic voxels).
    """
    _check_volume(volume)
    sizes = volume.voxel_sizes
    axis = max(range(3), key=lambda i: sizes[i])
    others = [s for i, s in enumerate(sizes) if i != axis]
    if sizes[axis] < ANISOTROPY * max(others):
        shown = " x ".join(f"{s:g}" for s in sizes)
        raise InputError(
            f"the voxels are {shown} mm: no axis is thicker than the others; give the slice "
            "axis with --axis"
        )
    return axis


def through_plane_scale(volume: Volume, axis: int, target_mm: float | None = None) -> Fraction:
    """The scale that takes the spacing along ``axis`` to ``target_mm`` (default: the finest
    in-plane spacing), as the nearest fraction with a denominator of at most
    :data:`~bioscope.geometry.MAX_DENOMINATOR` (5 mm to 0.9 mm: 50/9).

    Example:
        >>> import numpy as np
        >>> affine = np.diag([1.0, 1.0, 3.0, 1.0])
        >>> v = Volume(np.zeros((4, 4, 4)), (1.0, 1.0, 3.0), affine, "RAS", "test", "float32")
        >>> through_plane_scale(v, 2), through_plane_scale(v, 2, 1.2)
        (Fraction(3, 1), Fraction(5, 2))

    Raises:
        InputError: a target that is not positive, or not finer than the slice spacing.
    """
    _check_volume(volume)
    spacing = float(volume.voxel_sizes[axis])
    if target_mm is None:
        target_mm = min(s for i, s in enumerate(volume.voxel_sizes) if i != axis)
    if not target_mm > 0:
        raise InputError(f"--target-mm must be a positive spacing in mm, got {target_mm}")
    if target_mm >= spacing:
        raise InputError(
            f"the slices are {spacing:g} mm apart already; a target of {target_mm:g} mm "
            "is not finer"
        )
    return parse_scale(float(spacing / target_mm))


def _check_volume(volume: Volume) -> None:
    if not volume.is_volume:
        raise InputError("through-plane SR needs a 3-D volume, not a 2-D image")
