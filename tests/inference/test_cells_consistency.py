"""The shipped model counts the same nuclei whatever the file looks like: a dim 16-bit copy,
an 8-bit one, and the image at half and twice its size (``diameter="auto"``: the size is
estimated per image, not given)."""

from __future__ import annotations

import importlib.util

import pytest

from bioscope.data.real_nuclei import load_source
from bioscope.inference.cells import CellPredictor
from bioscope.samples import file_versions, nuclei_field


@pytest.fixture(scope="module")
def shipped():
    return CellPredictor.from_checkpoint(device="cpu")


def _assert_within(counts: dict[str, int], tolerance: float) -> None:
    low, high = min(counts.values()), max(counts.values())
    assert high - low <= tolerance * high, counts


def test_simulated_field_counts_agree_across_bit_depth_and_size(shipped):
    image, _ = nuclei_field(count=44, seed=5)
    counts = {k: shipped.segment(v, diameter="auto").count for k, v in file_versions(image).items()}
    _assert_within(counts, 0.05)


NO_NDEV = importlib.util.find_spec("ndev_sampledata") is None
#: Test frame 7 spreads 5.9% (95 dim 16-bit .. 101 at 2x): its four versions get one size
#: estimate (11.2-11.3 px) and the spread is the network's own: given fixed diameters of 10.5
#: to 12 px its count moves from 106 to 94, and by up to 4 between the 8-bit and dim copies.
MODEL_SPREAD = pytest.mark.xfail(strict=True, reason="the network's count moves 6% here")


@pytest.fixture(scope="module")
def test_frames():
    return {frame: image for frame, image, _ in load_source("ndev-scratch-assay:test")}


@pytest.mark.skipif(NO_NDEV, reason="ndev-sampledata is not installed (scripts/setup.sh does)")
@pytest.mark.parametrize("frame", [5, 6, pytest.param(7, marks=MODEL_SPREAD), 8, 9])
def test_real_frame_counts_agree_across_bit_depth_and_size(shipped, test_frames, frame):
    """The test frames (the size estimate was tuned on the training frames and the simulator)."""
    image = test_frames[frame].astype(float)
    counts = {k: shipped.segment(v, diameter="auto").count for k, v in file_versions(image).items()}
    _assert_within(counts, 0.05)
