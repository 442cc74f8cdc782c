from __future__ import annotations

import pytest
import torch

from bioscope.errors import InputError
from bioscope.losses import bce_dice_loss, dice_loss
from bioscope.metrics.segmentation import dice, foreground_iou, paper_mean_iou


def masks(*rows):
    return torch.tensor(rows, dtype=torch.bool)


def test_iou_and_dice_on_hand_made_masks():
    pred = masks([1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0])
    true = masks([0, 1, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1])
    torch.testing.assert_close(foreground_iou(pred, true), torch.tensor([2 / 4, 0.0]))
    torch.testing.assert_close(dice(pred, true), torch.tensor([4 / 6, 0.0]))


def test_dice_is_a_function_of_iou():
    g = torch.Generator().manual_seed(0)
    pred, true = torch.rand(5, 40, generator=g) > 0.5, torch.rand(5, 40, generator=g) > 0.3
    iou = foreground_iou(pred, true)
    torch.testing.assert_close(dice(pred, true), 2 * iou / (1 + iou))


def test_empty_masks():
    empty, full = masks([0, 0, 0]), masks([1, 1, 1])
    assert foreground_iou(empty, empty).item() == 1.0 and dice(empty, empty).item() == 1.0
    assert foreground_iou(full, empty).item() == 0.0 and dice(empty, full).item() == 0.0


def test_paper_mean_iou_by_hand():
    prob = torch.tensor([0.9, 0.7, 0.2, 0.1])
    true = torch.tensor([1, 0, 0, 0])
    # t in 0.50..0.65 (4): pred = [1, 1, 0, 0]: fg IoU 1/2, bg IoU 2/3 -> 7/12
    # t in 0.70..0.85 (4): pred = [1, 0, 0, 0]: both classes perfect -> 1
    # t in 0.90..0.95 (2): pred = [0, 0, 0, 0]: fg IoU 0, bg IoU 3/4 -> 3/8
    expected = (4 * 7 / 12 + 4 * 1.0 + 2 * 3 / 8) / 10
    assert paper_mean_iou(prob, true) == pytest.approx(expected)
    # background counts: an all-background guess of a sparse mask still scores near 0.5
    sparse = torch.zeros(100)
    sparse[0] = 1
    assert paper_mean_iou(torch.zeros(100), sparse) == pytest.approx(0.99 / 2)


def test_shape_mismatch():
    with pytest.raises(InputError, match="does not match"):
        foreground_iou(masks([1, 0]), masks([1, 0, 0]))


def test_losses():
    target = torch.zeros(2, 1, 4, 4)
    target[0, :, :2] = 1
    perfect = torch.where(target > 0, 30.0, -30.0)
    assert dice_loss(perfect, target).item() == pytest.approx(0.0, abs=1e-6)
    assert dice_loss(-perfect, target).item() > 0.4
    assert bce_dice_loss(perfect, target).item() == pytest.approx(0.0, abs=1e-6)
    logits = torch.zeros(2, 1, 4, 4, requires_grad=True)
    bce_dice_loss(logits, target).backward()
    assert logits.grad.abs().sum() > 0
