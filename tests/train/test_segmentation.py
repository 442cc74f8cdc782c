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
from bioscope.io import load_checkpoint, save_checkpoint, write_image
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


def test_mix_layout_draws_each_source_equally_and_rescales_to_one_diameter(mixed_folder, tmp_path):
    """Two sources, 9 and 3 images, nuclei 14 and 28 px: each gives as many training images, and
    every image reaches the model at the configured diameter."""
    root = tmp_path / "mix"
    big, small = root / "a-big", root / "b-small"
    big.mkdir(parents=True)
    small.mkdir()
    for path in mixed_folder.iterdir():
        (big / path.name).write_bytes(path.read_bytes())
    for i in range(3):
        labels = np.zeros((128, 128), np.uint16)
        labels[10:38, 10:38], labels[60:88, 70:98] = 1, 2
        write_image(small / f"s{i}.png", ((labels > 0) * 200 + 20).astype(np.uint8))
        write_image(small / f"s{i}_masks.png", labels)
    data = CellDataConfig(
        size=None, crop=32, layout="mix", split=(0.34, 0.33, 0.33), diameter=10.0, scale=(1, 1)
    )
    datasets = cell_datasets(root, data)
    train = [pair.image.parent.name for pair in datasets["train"].pairs]
    assert train.count("a-big") == train.count("b-small") == 3
    torch.manual_seed(0)
    for item in (datasets["train"][i] for i in range(len(datasets["train"]))):
        assert item["image"].shape == (1, 32, 32)
    labels = datasets["val"][0]["labels"]
    sizes = np.bincount(labels.ravel().numpy())[1:]
    assert np.sqrt(4 * sizes[sizes > 0] / np.pi) == pytest.approx(10.0, rel=0.25)
    with pytest.raises(InputError, match="one sub-folder per source"):
        cell_datasets(mixed_folder / "cell0.png", data)
    with pytest.raises(InputError, match=r"data\.scale needs random crops"):
        cell_datasets(root, CellDataConfig(size=None, layout="mix", scale=(0.5, 2)))


def test_training_starts_from_init_weights(mixed_folder, tmp_path):
    config = native(crop=32, batch_size=3)
    config.train.epochs = 1
    train_cells(mixed_folder, tmp_path / "first", config)
    start = tmp_path / "first" / "best.safetensors"
    config.optim.lr = 1e-12  # so the fine-tuned weights stay at the start
    train_cells(mixed_folder, tmp_path / "second", config, init=start)

    first, _ = load_checkpoint(start)
    second, _ = load_checkpoint(tmp_path / "second" / "best.safetensors")
    weights = [k for k in first if k.startswith("nets.model.")]
    assert weights and all(torch.allclose(first[k], second[k], atol=1e-6) for k in weights)
    sr = tmp_path / "sr.safetensors"
    save_checkpoint(sr, {"nets.model.x": torch.zeros(1)}, {"task": "superres"})
    with pytest.raises(InputError, match="not a cell model"):
        train_cells(mixed_folder, tmp_path / "third", config, init=sr)
