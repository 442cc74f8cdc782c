"""Cell training on a folder of images of different sizes: whole-image validation, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from bioscope.data.cells import CellDataset, load_pair, pairs_from_folders
from bioscope.errors import InputError
from bioscope.io import write_image
from bioscope.metrics.segmentation import paper_mean_iou
from bioscope.train.loop import TrainConfig
from bioscope.train.segmentation import (
    CellDataConfig,
    CellTrainConfig,
    ModelSpec,
    OptimConfig,
    SegmentationTask,
    cell_datasets,
    train_cells,
)

SHAPES = [(64, 64), (80, 96), (72, 72)]


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """Nine images (three sizes, none a multiple of 16 in both axes but 64 x 64) with masks."""
    root = tmp_path_factory.mktemp("mixed")
    rng = np.random.default_rng(3)
    for i, shape in enumerate(SHAPES * 3):
        labels = np.zeros(shape, np.uint16)
        labels[6:20, 8:22], labels[30:46, 28:50] = 1, 2
        image = (labels > 0) * 100 + rng.integers(0, 120, shape)  # overlapping: imperfect IoU
        write_image(root / f"cell{i}.png", image.astype(np.uint8))
        write_image(root / f"cell{i}_masks.png", labels)
    return root


def test_validation_scores_whole_images_of_mixed_sizes(mixed_folder):
    """Padded to 16, one image per batch, scored on the valid region only: the same numbers as
    a pixel-wise model applied to the unpadded images (reflected padding must not count)."""
    pairs = pairs_from_folders(mixed_folder)
    model = nn.Conv2d(1, 1, 1)
    with torch.no_grad():
        model.weight.fill_(10.0), model.bias.fill_(-5.0)  # foreground where image > 0.5
    task = SegmentationTask(model, OptimConfig(), epochs=1)
    scores = task.validate(DataLoader(CellDataset(pairs, size=None), batch_size=1))

    ious, dices, probs, truths = [], [], [], []
    for pair in pairs:
        arrays = load_pair(pair)
        prob = 1 / (1 + np.exp(-(10 * arrays.image - 5)))
        pred, truth = prob > 0.5, arrays.mask
        ious.append((pred & truth).sum() / (pred | truth).sum())
        dices.append(2 * (pred & truth).sum() / (pred.sum() + truth.sum()))
        probs.append(torch.from_numpy(prob.ravel()))
        truths.append(torch.from_numpy(truth.ravel()))
    assert 0.2 < np.mean(ious) < 0.95  # a score that padding would change
    assert scores["val_iou"] == pytest.approx(np.mean(ious), abs=1e-6)
    assert scores["val_dice"] == pytest.approx(np.mean(dices), abs=1e-6)
    expected = paper_mean_iou(torch.cat(probs), torch.cat(truths))
    assert scores["val_paper_mean_iou"] == pytest.approx(expected, abs=1e-6)


def native(crop: int | None, batch_size: int) -> CellTrainConfig:
    return CellTrainConfig(
        model=ModelSpec("unet-tiny"),
        data=CellDataConfig(size=None, crop=crop, layout="folder", split=(0.34, 0.33, 0.33)),
        train=TrainConfig(
            epochs=2, batch_size=batch_size, monitor="val_iou", mode="max", progress=False
        ),
    )


def test_native_training_validates_and_tests_whole_images_of_mixed_sizes(mixed_folder, tmp_path):
    config = native(crop=32, batch_size=3)
    datasets = cell_datasets(mixed_folder, config.data)
    for side in ("val", "test"):  # otherwise the test could not fail
        assert len({load_pair(p).image.shape for p in datasets[side].pairs}) > 1
    result = train_cells(mixed_folder, tmp_path, config)
    assert result.epochs_run == 2 and all(np.isfinite(r["val_iou"]) for r in result.rows)
    test = json.loads((tmp_path / "test_metrics.json").read_text())
    assert test["test_images"] == len(datasets["test"]) and 0 <= test["test_iou"] <= 1


def test_whole_training_images_of_mixed_sizes_say_what_to_set(mixed_folder, tmp_path):
    with pytest.raises(InputError, match=r"training images differ in size \(\d+ x \d+ and .*crop"):
        train_cells(mixed_folder, tmp_path, native(crop=None, batch_size=9))
    result = train_cells(mixed_folder, tmp_path / "one", native(crop=None, batch_size=1))
    assert result.epochs_run == 2
