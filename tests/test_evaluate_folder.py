"""Scores of one image against its instance mask (``bioscope.evaluate.folder``)."""

from __future__ import annotations

import numpy as np
import pytest

from bioscope.data.cells import CellPair
from bioscope.errors import BioscopeWarning, InputError
from bioscope.evaluate.folder import _scores, evaluate_folder
from bioscope.inference.cells import CellPredictor
from bioscope.io import write_image


def _disc(shape: tuple[int, int], y: int, x: int, r: int = 6) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - y) ** 2 + (xx - x) ** 2 <= r * r


def test_objects_on_no_label_are_told_apart_by_brightness():
    """Two predicted objects touch no label: one as bright as the labelled nuclei (a label the
    annotation left out), one faint (a false detection); only the first counts as bright."""
    shape = (60, 90)
    truth = np.zeros(shape, np.int32)
    predicted = np.zeros(shape, np.int32)
    grey = np.full(shape, 10.0)
    for k, (y, x, level) in enumerate(
        [(15, 15, 200), (15, 45, 210), (45, 15, 190), (45, 45, 205), (15, 75, 40)], start=1
    ):
        disc = _disc(shape, y, x)
        grey[disc] = level
        predicted[disc] = k
        if k <= 3:
            truth[disc] = k
    scores = _scores(truth, predicted, "m", grey)
    assert scores["count_m"] == 5 and scores["tp0.5_m"] == 3
    assert scores["unlabelled_m"] == 2 and scores["unlabelled_bright_m"] == 1
    assert scores["foreground_iou_labelled_m"] == 1.0
    assert abs(scores["foreground_iou_m"] - 3 / 5) < 1e-6


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.array([[0, -1], [-2, 0]] * 4, np.int16).repeat(4, 1), r"negative values \(-2\)"),
        (np.zeros((4, 4), np.uint16), r"shape \(4, 4\) does not match its image .* \(8, 8\)"),
    ],
)
def test_a_bad_mask_is_refused_naming_its_file(tmp_path, mask, message):
    image = np.zeros((8, 8), np.uint8)
    image[2:6, 2:6] = 200
    pair = CellPair(
        write_image(tmp_path / "a.tif", image), write_image(tmp_path / "a_masks.tif", mask)
    )
    predictor = CellPredictor.from_checkpoint(device="cpu", method="classic")
    with pytest.raises(InputError, match=f"a_masks.tif: {message}"):
        evaluate_folder(predictor, [pair], ["classic"], diameter=4)


def test_a_mask_without_nuclei_is_scored_with_a_warning(tmp_path):
    image = np.zeros((16, 16), np.uint8)
    image[4:12, 4:12] = 200
    pair = CellPair(
        write_image(tmp_path / "a.tif", image),
        write_image(tmp_path / "a_masks.tif", np.zeros((16, 16), np.uint16)),
    )
    predictor = CellPredictor.from_checkpoint(device="cpu", method="classic")
    with pytest.warns(BioscopeWarning, match=r"a_masks\.tif: labels no nuclei"):
        rows = evaluate_folder(predictor, [pair], ["classic"], diameter=8).rows
    assert rows[0]["true_count"] == 0 and rows[0]["count_classic"] == 1
