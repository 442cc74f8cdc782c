from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import disk

from bioscope.counting import count_distance, count_paper, count_watershed, drop_small
from bioscope.data.targets import normalized_distance
from bioscope.errors import InputError


def discs(centres, shape=(80, 120), radius=8):
    labels = np.zeros(shape, np.int32)
    for index, centre in enumerate(centres, start=1):
        rr, cc = disk(centre, radius, shape=shape)
        labels[rr, cc] = index
    return labels


TOUCHING = [(30, 30), (30, 45), (30, 60)]  # a chain of three overlapping discs
ISOLATED = [(15, 15), (15, 100), (65, 15), (65, 100), (40, 60)]


@pytest.mark.parametrize("centres", [ISOLATED, TOUCHING, ISOLATED[:2] + TOUCHING])
def test_splitting_methods_count_touching_discs(centres):
    labels = discs(centres)
    prob = (labels > 0).astype(float)
    assert count_watershed(prob, threshold=0.5).count == len(centres)
    result = count_distance(prob, normalized_distance(labels), threshold=0.5)
    assert result.count == len(centres)
    assert len(np.unique(result.labels)) - 1 == len(centres)


def test_paper_method_merges_touching_discs():
    assert count_paper((discs(ISOLATED) > 0).astype(float), threshold=0.5).count == len(ISOLATED)
    assert count_paper((discs(TOUCHING) > 0).astype(float), threshold=0.5).count == 1


@pytest.mark.parametrize("method", [count_paper, count_watershed])
def test_empty_image_counts_zero(method):
    result = method(np.zeros((40, 50)), threshold=0.5)
    assert result.count == 0 and result.labels.max() == 0


def test_empty_distance_counts_zero():
    assert count_distance(np.zeros((40, 50)), np.zeros((40, 50)), threshold=0.5).count == 0


def test_specks_are_not_cells():
    prob = np.zeros((40, 50))
    prob[5, 5] = prob[20:23, 20:23] = 1.0  # 1 and 9 pixels: below MIN_SIZE
    assert count_watershed(prob, threshold=0.5).count == 0
    assert drop_small(prob > 0.5, 5).sum() == 9


def test_bad_maps():
    with pytest.raises(InputError, match="2-D"):
        count_watershed(np.zeros((2, 3, 4)), threshold=0.5)
    with pytest.raises(InputError, match="NaN"):
        count_paper(np.full((4, 4), np.nan), threshold=0.5)
    with pytest.raises(InputError, match="differ"):
        count_distance(np.zeros((4, 4)), np.zeros((4, 5)), threshold=0.5)
