"""Shared inputs of the napari plugin tests: a small simulated nuclei field."""

from __future__ import annotations

import numpy as np
import pytest

from bioscope.samples import nuclei_field


@pytest.fixture(scope="session")
def field() -> np.ndarray:
    """A 192 x 256 crop of a simulated BBBC005 field (8-bit, about a dozen nuclei)."""
    image, _ = nuclei_field(count=100, seed=3)
    return image[:192, :256]
