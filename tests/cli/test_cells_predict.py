"""predict / count / evaluate through the command line, good and bad input in one call."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import tifffile
import torch

from bioscope.data.bbbc005 import index_bbbc005
from bioscope.errors import InputError
from bioscope.io import read_image, save_checkpoint
from bioscope.models.checkpoint import shipped_weights


@pytest.fixture
def inputs(sim_folder, tmp_path):
    good = [r.image for r in index_bbbc005(sim_folder, stains=[2], blurs=[1])][:2]
    (tmp_path / "notes.png").write_text("not an image")
    tifffile.imwrite(tmp_path / "empty.tif", np.zeros((0, 5), np.uint8))
    tifffile.imwrite(
        tmp_path / "stack.tif", np.zeros((3, 20, 20), np.uint8), photometric="minisblack"
    )
    bad = [tmp_path / n for n in ("notes.png", "empty.tif", "stack.tif")]
    return good, bad


def test_predict_writes_outputs_and_reports_bad_images(cli, tiny_checkpoint, inputs, tmp_path):
    good, bad = inputs
    out = tmp_path / "pred"
    result = cli(
        "cells",
        "predict",
        *map(str, [good[0], *bad, good[1]]),
        "--model",
        str(tiny_checkpoint),
        "--out",
        str(out),
    )
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 3 and all(e.startswith("bioscope: error: ") for e in errors)
    assert "not a PNG file" in errors[0] and "empty" in errors[1] and "stack of planes" in errors[2]
    for image in good:
        stem = image.stem
        prob = read_image(out / f"{stem}_prob.tif")
        assert prob.dtype == np.float32 and prob.shape == read_image(image).shape
        assert set(np.unique(read_image(out / f"{stem}_mask.tif"))) <= {0, 255}
        assert read_image(out / f"{stem}_labels.tif").dtype == np.uint16
        assert read_image(out / f"{stem}_overlay.png").shape == (*prob.shape, 3)


def test_count_csv_has_one_row_per_good_image(cli, tiny_checkpoint, inputs, tmp_path):
    good, bad = inputs
    result = cli(
        "cells",
        "count",
        *map(str, [*good, bad[0]]),
        "--model",
        str(tiny_checkpoint),
        "--method",
        "paper",
        "--out",
        str(tmp_path / "counts.csv"),
    )
    assert result.returncode == 1 and "notes.png" in result.stderr
    with (tmp_path / "counts.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["file"] for r in rows] == [str(p) for p in good]
    assert all(r["method"] == "paper" and int(r["count"]) >= 0 for r in rows)


def test_wrong_kind_of_model_file(cli, inputs, tmp_path):
    good, _ = inputs
    other = save_checkpoint(
        tmp_path / "sr.safetensors", {"w": torch.ones(1)}, {"task": "superres", "nets": {}}
    )
    for model, message in (
        (other, "a 'superres' checkpoint"),
        (good[0], "not a safetensors checkpoint"),
    ):
        result = cli(
            "cells", "count", str(good[0]), "--model", str(model), "--out", str(tmp_path / "c.csv")
        )
        assert result.returncode == 1 and message in result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_evaluate_writes_metrics(cli, tiny_checkpoint, sim_folder, tmp_path):
    out = tmp_path / "eval"
    result = cli(
        "cells",
        "evaluate",
        "--data",
        str(sim_folder),
        "--model",
        str(tiny_checkpoint),
        "--method",
        "distance,paper",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    for key in (
        "foreground_iou",
        "dice",
        "paper_mean_iou",
        "count_mae",
        "count_mape",
        "count_mean_signed_error",
        "count_mae_by_blur",
        "object_precision",
        "object_recall",
        "object_f1",
    ):
        assert key in metrics, key
    assert set(metrics["count_mae_by_blur"]) == {"1", "7", "23"}
    assert set(metrics["methods"]) == {"distance", "paper"}
    with (out / "per_image.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 27  # 9 fields x 3 blur levels, nuclei
    mae = np.mean([abs(int(r["count_distance"]) - int(r["true_count"])) for r in rows])
    assert metrics["count_mae"] == pytest.approx(mae)
    assert (out / "mae_by_blur.png").stat().st_size > 0 and (out / "examples.png").is_file()


def test_shipped_model_or_clear_message(cli, inputs, tmp_path):
    good, _ = inputs
    result = cli("cells", "count", str(good[0]), "--out", str(tmp_path / "c.csv"))
    try:
        shipped_weights("cells")
    except InputError:
        assert result.returncode == 1 and "no shipped cells model" in result.stderr
    else:
        assert result.returncode == 0, result.stderr


def test_unknown_method(cli, tiny_checkpoint, inputs, tmp_path):
    good, _ = inputs
    result = cli(
        "cells",
        "count",
        str(good[0]),
        "--model",
        str(tiny_checkpoint),
        "--method",
        "magic",
        "--out",
        str(tmp_path / "c.csv"),
    )
    assert result.returncode == 1 and "unknown counting method 'magic'" in result.stderr


def test_export_strips_training_state(cli, tiny_checkpoint, tmp_path):
    from bioscope.inference.cells import CellPredictor
    from bioscope.io import load_checkpoint

    result = cli("cells", "export", str(tiny_checkpoint), "--out", str(tmp_path / "w.safetensors"))
    assert result.returncode == 0, result.stderr
    tensors, meta = load_checkpoint(tmp_path / "w.safetensors")
    assert tensors and all(k.startswith("nets.") for k in tensors)
    assert "optimizers" not in meta and meta["task"] == "segmentation"
    spec = CellPredictor.from_checkpoint(tmp_path / "w.safetensors", "cpu").spec
    assert spec.mode == "native" and spec.size is None and meta["inference"]["diameter"] > 0


def test_evaluate_a_cellpose_style_folder(cli, tiny_checkpoint, tmp_path):
    """Images with instance masks: object scores at IoU 0.5..0.9, both methods, a figure."""
    from bioscope.io import write_image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:64, :80]
    for i in range(3):
        labels = np.zeros((64, 80), np.uint16)
        for k, (y, x) in enumerate([(16, 16), (16, 50), (44, 30), (44, 44 + i)], start=1):
            labels[(yy - y) ** 2 + (xx - x) ** 2 <= 49] = k
        image = (labels > 0) * 160 + rng.integers(0, 30, labels.shape)
        write_image(tmp_path / "data" / f"f{i}.png", image.astype(np.uint8))
        write_image(tmp_path / "data" / f"f{i}_masks.png", labels)
    out = tmp_path / "eval"
    args = ["--model", str(tiny_checkpoint), "--method", "classic,watershed", "--diameter", "14"]
    result = cli("cells", "evaluate", "--data", str(tmp_path / "data"), *args, "-o", str(out))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["images"] == 3 and metrics["true_objects"] == 12
    classic = metrics["methods"]["classic"]
    assert classic["f1"] > 0.9 and classic["foreground_iou"] > 0.8 and classic["count_mae"] < 0.5
    assert 0 <= classic["ap"] <= 1 and set(classic["accuracy_by_iou"]) >= {"0.5", "0.9"}
    assert "watershed" in metrics["methods"] and (out / "overlays.png").stat().st_size > 0


def test_evaluate_counts_predictions_on_unlabelled_nuclei(cli, tiny_checkpoint, tmp_path):
    """A nucleus visible in the image but left out of the mask (an incomplete annotation) is
    reported as a prediction touching no label, as bright as the labelled ones, and the IoU
    without it is given beside."""
    from bioscope.io import write_image

    yy, xx = np.mgrid[:64, :80]
    labels = np.zeros((64, 80), np.uint16)
    for k, (y, x) in enumerate([(16, 16), (16, 50), (44, 20)], start=1):
        labels[(yy - y) ** 2 + (xx - x) ** 2 <= 49] = k
    unlabelled = (yy - 44) ** 2 + (xx - 60) ** 2 <= 49
    image = ((labels > 0) | unlabelled) * 160 + 20
    write_image(tmp_path / "data" / "f.png", image.astype(np.uint8))
    write_image(tmp_path / "data" / "f_masks.png", labels)
    out = tmp_path / "eval"
    args = ["--model", str(tiny_checkpoint), "--method", "classic", "--diameter", "14"]
    result = cli("cells", "evaluate", "--data", str(tmp_path / "data"), *args, "-o", str(out))
    assert result.returncode == 0, result.stderr
    classic = json.loads((out / "metrics.json").read_text())["methods"]["classic"]
    assert classic["unlabelled_predictions"] == 1 and classic["unlabelled_bright"] == 1
    # a quarter of the predicted area is the unlabelled nucleus
    assert classic["foreground_iou_labelled"] > 0.8
    assert classic["foreground_iou"] < 0.8 * classic["foreground_iou_labelled"]
    assert "classic: 1 predicted objects touch no labelled pixel, 1 of them" in result.stdout


def test_predict_into_the_image_folder_then_count_it_reads_the_images_only(
    cli, tiny_checkpoint, inputs, tmp_path
):
    """Outputs written beside their images (a_prob.tif, a_mask.tif, ...) are not images to
    predict or count on the next run; a file of that name without its image still is."""
    import shutil

    folder = tmp_path / "plate"
    folder.mkdir()
    for image in inputs[0]:
        shutil.copy(image, folder)
    model = ["--model", str(tiny_checkpoint)]
    assert cli("cells", "predict", str(folder), *model, "-o", str(folder)).returncode == 0
    shutil.copy(inputs[0][0], folder / "lonely_mask.tif")
    out = tmp_path / "counts.csv"
    result = cli("cells", "count", str(folder), *model, "-o", str(out))
    assert result.returncode == 0, result.stderr
    counted = [line.split(",")[0] for line in out.read_text().splitlines()[1:]]
    expected = sorted([*(folder / p.name for p in inputs[0]), folder / "lonely_mask.tif"])
    assert counted == [str(p) for p in expected]
    assert "left out 8 file(s) that cells predict or Cellpose wrote beside" in result.stderr


def test_a_diameter_the_model_cannot_match_is_one_error_for_the_run(cli, inputs, tmp_path):
    out = tmp_path / "counts.csv"
    images = [str(p) for p in inputs[0]]
    result = cli("cells", "count", *images, "--diameter", "0.1", "--device", "cpu", "-o", str(out))
    assert result.returncode == 1 and not out.exists()
    assert result.stderr.strip().splitlines() == [
        "bioscope: error: a diameter of 0.1 px would rescale the image by 170 to show its nuclei "
        "at the model's 17 px; give 2.125 to 136 px"
    ]
