"""Exact geometry of rational-scale resampling, shared by the degradation and the upscalers.

A scale is ``s = p/q`` (a :class:`~fractions.Fraction`). Pixel-centre alignment: HR pixel ``i``
has its centre at ``i + 1/2``; it lies over LR coordinate ``(i + 1/2) / s``, so its source LR
pixel is ``((2i + 1) q) // (2p)`` and its offset in that pixel ``((2i + 1) q mod 2p) / (2p)``.
Offsets repeat with period ``p`` in ``i`` (HR pixel ``i + p`` has source ``+ q``), so a scale has
exactly ``p`` distinct offsets per axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from numbers import Rational, Real
from typing import TypeAlias

from bioscope.errors import InputError

#: A scale as the command line, the API and the models take it: ``2``, ``2.7``, ``"3/2"``, ...
Scale: TypeAlias = float | str | Fraction
#: One scale per axis ``(rows, columns)``: an anisotropic enlargement.
Scales: TypeAlias = tuple[Fraction, Fraction]
#: One scale for both axes, or a pair.
ScaleLike: TypeAlias = Scale | Sequence[Scale]

#: Largest scale denominator: a float or decimal string is the nearest fraction with at most
#: this denominator (2.7 -> 27/10, 2.73 -> 273/100, 1/3 of a pixel -> 100ths).
MAX_DENOMINATOR = 100
#: Largest scale any upscaler or degradation accepts.
MAX_SCALE = 16


def parse_scale(value: float | str | Fraction) -> Fraction:
    """A scale as an exact fraction, by one rule for every caller (command line, API, models).

    A :class:`~fractions.Fraction` or ``int`` is taken as it is; a ``float`` or a string
    (``"2.7"``, ``"3/2"``) becomes the nearest fraction with a denominator of at most
    :data:`MAX_DENOMINATOR`, read from its decimal text (so ``2.7`` is ``27/10``, not the binary
    float's ``6080082512808755/2251799813685248``).

    Raises:
        InputError: not a number, not finite, not greater than 1, above :data:`MAX_SCALE`, or a
            fraction with a larger denominator than :data:`MAX_DENOMINATOR`.

    Example:
        >>> parse_scale(2.7), parse_scale("3/2"), parse_scale(Fraction(5, 2)), parse_scale(4)
        (Fraction(27, 10), Fraction(3, 2), Fraction(5, 2), Fraction(4, 1))
    """
    if isinstance(value, bool):
        raise InputError(f"scale must be a finite number such as 2, 2.5 or 3/2, got {value!r}")
    scale = Fraction(value) if isinstance(value, Rational) else _from_text(value)
    if scale <= 1:
        raise InputError(f"scale must be greater than 1, got {value}")
    if scale > MAX_SCALE:
        raise InputError(f"scale {value} is larger than {MAX_SCALE}, the most bioscope upscales")
    if scale.denominator > MAX_DENOMINATOR:
        raise InputError(
            f"scale {value} needs a denominator of at most {MAX_DENOMINATOR} "
            f"(got {scale.denominator}); round it, e.g. to {max(float(scale), 1.01):.2f}"
        )
    return scale


def parse_scales(value: ScaleLike) -> Scales:
    """``(rows, columns)`` scales: one scale for both axes, or a pair (or ``"a,b"`` text) of which
    one may be 1 (that axis is kept), each as :func:`parse_scale` reads it.

    Raises:
        InputError: not one scale or two, a scale below 1, or both 1.

    Example:
        >>> parse_scales(2.5), parse_scales((2, 1)), parse_scales("27/10,1")
        ((Fraction(5, 2), Fraction(5, 2)), (Fraction(2, 1), Fraction(1, 1)), (Fraction(27, 10), Fraction(1, 1)))
    """  # noqa: E501
    if isinstance(value, str) and "," in value:
        value = value.split(",")
    if isinstance(value, (str, bool, Real)):  # Real: NumPy scalars too
        scale = parse_scale(value)
        return scale, scale
    items = list(value)
    if len(items) != 2:
        raise InputError(f"expected one scale or two (rows, columns), got {value!r}")
    scales = tuple(Fraction(1) if _is_one(v) else parse_scale(v) for v in items)
    if scales == (1, 1):
        raise InputError("at least one of the two scales must be greater than 1")
    return scales  # type: ignore[return-value]


def _is_one(value: Scale) -> bool:
    try:
        return not isinstance(value, bool) and Fraction(str(value).strip()) == 1
    except (ValueError, ZeroDivisionError):
        return False


def _from_text(value: object) -> Fraction:
    """``str(value)`` as the nearest fraction with a denominator of at most
    :data:`MAX_DENOMINATOR`. Text whose float value is out of range (``"1e999999999"``) is taken
    as that float, so that no exact arithmetic runs on a huge exponent; range checks follow."""
    text = str(value).strip()
    try:
        try:
            approx = float(text)
        except ValueError:  # "3/2", or no number at all
            approx = float(Fraction(text))
        if not 1 < approx <= MAX_SCALE:
            return Fraction(approx)  # out of range; nan and inf raise here
        scale = Fraction(text).limit_denominator(MAX_DENOMINATOR)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise InputError(
            f"scale must be a finite number such as 2, 2.5 or 3/2, got {value!r}"
        ) from None
    if scale == 1:
        raise InputError(
            f"scale {value} rounds to 1 (scales are fractions with a denominator of at most "
            f"{MAX_DENOMINATOR}); the least above 1 is 1.01"
        )
    return scale


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
