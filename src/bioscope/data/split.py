"""The one train/validation/test split rule: whole groups (fields, cases, images) to one side."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np

from bioscope.errors import InputError

Key = TypeVar("Key", bound=Hashable)
SIDES = ("train", "val", "test")


def split_keys(
    keys: Sequence[Key], fractions: tuple[float, float, float], seed: int = 0
) -> dict[Key, str]:
    """Assign each key (in the given order) to ``train``, ``val`` or ``test``, deterministically.

    The keys are permuted with ``seed``; the first share goes to test, the next to validation, the
    rest to training. With three or more keys, a non-zero validation or test fraction gets at
    least one key.

    Example:
        >>> sorted(split_keys(list("abcdefghij"), (0.8, 0.1, 0.1)).values())
        ['test', 'train', 'train', 'train', 'train', 'train', 'train', 'train', 'train', 'val']
    """
    if len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
        raise InputError(
            f"split fractions must be three non-negative numbers summing to 1, got {fractions}"
        )
    order = np.random.default_rng(seed).permutation(len(keys))
    n_test, n_val = (_share(f, len(keys)) for f in (fractions[2], fractions[1]))
    return {
        keys[index]: "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
        for rank, index in enumerate(order)
    }


def _share(fraction: float, n: int) -> int:
    if fraction == 0:
        return 0
    return max(1, round(fraction * n)) if n >= 3 else 0
