"""The command line, run as a user would: in a subprocess."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from bioscope.cli import args as args_module
from bioscope.data.bbbc005 import index_bbbc005
from bioscope.inference.cells import CellPredictor
from bioscope.io import load_checkpoint, write_image


def test_simulate_writes_bbbc005_layout(cli_subprocess, tmp_path):
    result = cli_subprocess(
        "cells",
        "simulate",
        "--out",
        str(tmp_path),
        "--counts",
        "1,14",
        "--blur",
        "1,48",
        "--sites",
        "1",
        "--seed",
        "4",
        "--workers",
        "2",
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 8 images" in result.stdout and "wrote 4 F1 ground-truth masks" in result.stdout
    records = index_bbbc005(tmp_path)
    assert len(records) == 8
    assert {r.name.well for r in records} == {"A01", "A02", "B01", "B02"}


def test_bad_argument_exits_nonzero_with_readable_message(cli_subprocess, tmp_path):
    result = cli_subprocess("cells", "simulate", "--out", str(tmp_path), "--counts", "1,many")
    assert result.returncode == 2
    assert "expected comma-separated integers" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_value_exits_one_with_readable_message(cli_subprocess, tmp_path):
    result = cli_subprocess("cells", "simulate", "--out", str(tmp_path), "--blur", "0")
    assert result.returncode == 1
    assert result.stderr.strip() == "bioscope: error: blur levels F must be >= 1, got 0"


def test_out_is_a_file(cli_subprocess, tmp_path):
    (tmp_path / "file").write_text("x")
    result = cli_subprocess(
        "cells",
        "simulate",
        "--out",
        str(tmp_path / "file"),
        "--counts",
        "1",
        "--blur",
        "1",
        "--sites",
        "1",
        "--workers",
        "1",
    )
    assert result.returncode == 1 and result.stderr.startswith("bioscope: error:")
    assert "Traceback" not in result.stderr


def test_an_unwritable_output_is_refused_before_any_computing(cli, tmp_path, monkeypatch):
    """A read-only disk or a locked folder (faked: root may write anywhere) ends the command
    before it reads an image, naming the output; nothing is left there."""
    write_image(tmp_path / "a.tif", np.zeros((16, 16), np.uint8))

    def locked(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(args_module.tempfile, "TemporaryFile", locked)
    monkeypatch.setattr(CellPredictor, "segment_batch", lambda *a, **k: pytest.fail("computed"))
    result = cli("cells", "count", str(tmp_path / "a.tif"), "-o", str(tmp_path / "c.csv"))
    assert result.returncode == 1
    assert f"c.csv: cannot write in {tmp_path} (Permission denied)" in result.stderr
    assert not (tmp_path / "c.csv").exists()


def test_missing_command_and_version(cli_subprocess):
    assert cli_subprocess().returncode == 2
    version = cli_subprocess("--version")
    assert version.returncode == 0 and version.stdout.startswith("bioscope ")


def test_train_resume_and_bad_config(cli, sim_folder, tmp_path):
    run = tmp_path / "run"
    common = [
        "cells",
        "train",
        "--data",
        str(sim_folder),
        "--model",
        "unet-tiny",
        "--size",
        "32",
        "--batch-size",
        "4",
        "--out",
        str(run),
    ]
    first = cli(*common, "--epochs", "1")
    assert first.returncode == 0, first.stderr
    assert "held-out test fields: test_loss" in first.stdout
    resumed = cli(*common, "--epochs", "2", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert (run / "metrics.csv").read_text().count("\n") == 3  # header + 2 epochs

    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: 2\n  learning_rate: 0.1\n")
    result = cli(*common, "--config", str(bad))
    assert result.returncode == 1
    assert "unknown key(s) learning_rate" in result.stderr and "Traceback" not in result.stderr


def test_train_on_a_folder_without_images(cli, tmp_path):
    result = cli("cells", "train", "--data", str(tmp_path), "--out", str(tmp_path / "run"))
    assert result.returncode == 1
    assert "no BBBC005 images found" in result.stderr


def test_demo_writes_report_and_summary(tmp_path):
    from bioscope.data.synthetic import SimulationPlan
    from bioscope.experiments.demo import run_demo

    plan = SimulationPlan(counts=(14,), blurs=(1, 48), sites=1, seed=7)
    summary = run_demo(tmp_path, plan=plan, log=lambda _: None)
    assert len(index_bbbc005(tmp_path / "cells" / "data", stains=[2])) == 2
    cells = summary["cells"]
    assert cells["images"] == 2 and set(cells["count_mae_by_blur"]) == {"1", "48"}
    assert 0.5 < cells["foreground_iou"] <= 1  # the shipped model, not an untrained one
    assert set(summary["superres"]["scales"]) == {"1.5", "2.5", "4.0"}
    for scale in summary["superres"]["scales"].values():
        assert scale["meta-srgan"]["psnr"] > scale["bicubic"]["psnr"]
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["cells"]["images"] == 2 and saved["wall_seconds"] > 0
    page = (tmp_path / "report.html").read_text()
    assert "cells/examples.png" in page and "superres/scale_sweep.png" in page
    for name in ("cells/examples.png", "cells/mae_by_blur.png", "superres/comparison.png"):
        assert (tmp_path / name).is_file(), name


def test_train_on_a_cellpose_style_folder(cli, tmp_path):
    import numpy as np

    from bioscope.io import write_image

    rng = np.random.default_rng(0)
    for i in range(5):
        labels = np.zeros((40, 48), np.uint16)
        labels[5:15, 5:15], labels[22:34, 20:36] = 1, 2
        image = (labels > 0) * 150 + rng.integers(0, 40, labels.shape)
        write_image(tmp_path / "imgs" / f"cell{i}.png", image.astype(np.uint8))
        write_image(tmp_path / "imgs" / f"cell{i}_masks.png", labels)
    run = tmp_path / "run"
    args = ["cells", "train", "--data", str(tmp_path / "imgs"), "--layout", "folder"]
    tiny = ["--model", "unet-tiny", "--size", "32", "--batch-size", "2", "--epochs", "1"]
    result = cli(*args, *tiny, "--out", str(run))
    assert result.returncode == 0, result.stderr
    assert "held-out test fields" in result.stdout  # 5 images: 3 train, 1 val, 1 test
    assert "layout: folder" in (run / "config.yaml").read_text()
    masks = ["--masks", str(tmp_path), "--out", str(tmp_path / "run2")]
    result = cli("cells", "train", "--data", str(tmp_path / "imgs"), *masks)
    assert result.returncode == 1 and "no mask in" in result.stderr


def test_native_training_on_a_folder_of_mixed_sizes(cli, tmp_path):
    """Validation and test take whole images; sizes that differ cannot be stacked in a batch."""
    import numpy as np

    from bioscope.io import write_image

    rng = np.random.default_rng(1)
    for i, shape in enumerate([(40, 48), (56, 64), (48, 40), (64, 72)] * 3):
        labels = np.zeros(shape, np.uint16)
        labels[5:15, 5:15], labels[22:34, 20:36] = 1, 2
        image = (labels > 0) * 150 + rng.integers(0, 40, labels.shape)
        write_image(tmp_path / "imgs" / f"cell{i:02d}.png", image.astype(np.uint8))
        write_image(tmp_path / "imgs" / f"cell{i:02d}_masks.png", labels)
    config = tmp_path / "native.yaml"
    config.write_text(
        "model: {name: unet-tiny}\n"
        "data: {size: null, crop: 32, layout: folder, split: [0.5, 0.25, 0.25]}\n"
        "train: {epochs: 2, batch_size: 4}\n"
    )
    run = tmp_path / "run"
    result = cli(
        "cells", "train", "--data", str(tmp_path / "imgs"), "--config", str(config), "-o", str(run)
    )
    assert result.returncode == 0, result.stderr
    assert "held-out test fields" in result.stdout and (run / "best.safetensors").is_file()


def test_simulate_randomised_then_train_on_a_mix(cli, tmp_path):
    """The shipped model's recipe in small: randomised fields beside another source, trained from
    init weights, the run's spec asking the predictor to estimate diameters."""
    mix = tmp_path / "mix"
    mix.mkdir()
    result = cli(
        "cells", "simulate", "--randomised", "4", "--seed", "3", "--out", str(mix / "rand")
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 4 randomised fields" in result.stdout
    assert len(list((mix / "rand").glob("randomised_*_masks.tif"))) == 4
    other = cli("cells", "simulate", "--randomised", "3", "--seed", "4", "--out", str(mix / "b"))
    assert other.returncode == 0, other.stderr
    config = tmp_path / "mix.yaml"
    config.write_text(
        "model: {name: unet-tiny}\n"
        "data: {layout: mix, size: null, crop: 48, diameter: 12.0, scale: [0.8, 1.25],"
        " quality: true, split: [0.34, 0.33, 0.33]}\n"
        "train: {epochs: 1, batch_size: 2, monitor: val_iou, mode: max, progress: false}\n"
    )
    run = tmp_path / "run"
    trained = cli("cells", "train", "--data", str(mix), "--config", str(config), "--out", str(run))
    assert trained.returncode == 0, trained.stderr
    _, meta = load_checkpoint(run / "best.safetensors")
    assert meta["inference"]["diameter"] == 12.0 and meta["inference"]["estimate_diameter"]


def test_extract_writes_a_real_source_split(cli, tmp_path):
    if importlib.util.find_spec("ndev_sampledata") is None:
        pytest.skip("ndev-sampledata is not installed (scripts/setup.sh installs it)")
    result = cli("cells", "extract", "ndev-scratch-assay:test", "--out", str(tmp_path / "x"))
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "x").glob("*_masks.tif"))) == 5
    bad = cli("cells", "extract", "ndev-scratch-assay:everything", "--out", str(tmp_path / "y"))
    assert bad.returncode == 1 and "unknown split 'everything'" in bad.stderr
