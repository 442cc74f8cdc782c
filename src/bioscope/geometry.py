"""Exact geometry of rational-scale resampling, shared by the degradation and the upscalers.

A scale is ``s = p/q`` (a :class:`~fractions.Fraction`). Pixel-centre alignment: HR pixel ``i``
has its centre at ``i + 1/2``; it lies over LR coordinate ``(i + 1/2) / s``, so its source LR
pixel is ``((2i + 1) q) // (2p)`` and its offset in that pixel ``((2i + 1) q mod 2p) / (2p)``.
Offsets repeat with period ``p`` in ``i`` (HR pixel ``i + p`` has source ``+ q``), so a scale has
exactly ``p`` distinct offsets per axis.
"""

from __future__ import annotations

from fractions import Fraction


def source_index(i: int, scale: Fraction) -> tuple[int, Fraction]:
    """LR source pixel and offset in [0, 1) of HR pixel ``i``.

    Example:
        >>> source_index(3, Fraction(5, 2))  # (3 + 1/2) / 2.5 = 1.4
        (1, Fraction(2, 5))
    """
    p, q = scale.numerator, scale.denominator
    numerator = (2 * i + 1) * q
    return numerator // (2 * p), Fraction(numerator % (2 * p), 2 * p)


def sr_size(lr: int, scale: Fraction) -> int:
    """Output side of an upscaler: ``floor(s * lr)``; exactly the HR side for pipeline pairs.

    Example:
        >>> sr_size(30, Fraction(27, 10)), sr_size(31, Fraction(27, 10))
        (81, 83)
    """
    return lr * scale.numerator // scale.denominator


def lr_size(hr: int, scale: Fraction) -> tuple[int, int]:
    """``(cropped HR, LR)`` side lengths: the largest HR multiple of ``p`` and its LR size.

    Example:
        >>> lr_size(97, Fraction(27, 10))  # 97 -> 81 HR pixels, 30 LR pixels
        (81, 30)
    """
    p, q = scale.numerator, scale.denominator
    cropped = (hr // p) * p
    if cropped == 0:
        raise ValueError(f"a side of {hr} px is shorter than {p} px, the least scale {scale} needs")
    return cropped, cropped // p * q
