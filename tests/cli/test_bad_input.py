"""A corpus of bad inputs across every command: each ends with one ``bioscope: error:`` line and
exit status 1, no traceback, no stray temporary file, and what was written before stays whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import tifffile
import torch
from PIL import Image
from safetensors.torch import save_file

from bioscope.io import write_image


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, sr_checkpoint: Path) -> dict[str, Path]:
    """Bad (and a few good) files, by name."""
    root = tmp_path_factory.mktemp("corpus")
    files: dict[str, Path] = {"root": root, "missing": root / "missing.tif"}
    (root / "folder").mkdir()
    files["folder"] = root / "folder"
    for suffix in ("tif", "png", "nii.gz", "dcm", "npy"):
        files[f"zero.{suffix}"] = root / f"zero.{suffix}"
        files[f"zero.{suffix}"].write_bytes(b"")
    for suffix in ("tif", "png", "nii.gz", "dcm"):
        files[f"text.{suffix}"] = root / f"text.{suffix}"
        files[f"text.{suffix}"].write_text("this is not an image\n")
    rng = np.random.default_rng(0)
    good = (rng.random((40, 56)) * 200).astype(np.uint8)
    files["good.tif"] = write_image(root / "good.tif", good)
    files["good.png"] = write_image(root / "good.png", good)
    volume = (rng.random((12, 14, 4)) * 1000).astype(np.int16)
    files["good.nii.gz"] = root / "good.nii.gz"
    nib.save(nib.Nifti1Image(volume, np.diag([2.0, 2.0, 4.0, 1.0])), files["good.nii.gz"])
    for name in ("tif", "png", "nii.gz"):
        data = files[f"good.{name}"].read_bytes()
        files[f"truncated.{name}"] = root / f"truncated.{name}"
        files[f"truncated.{name}"].write_bytes(data[: len(data) // 2])
    tifffile.imwrite(
        root / "stack3d.tif", np.zeros((3, 20, 20), np.uint8), photometric="minisblack"
    )
    tifffile.imwrite(
        root / "stack4d.tif", np.zeros((2, 3, 20, 20), np.uint8), photometric="minisblack"
    )
    Image.fromarray(np.zeros((20, 20, 4), np.uint8), "RGBA").save(root / "rgba.png")
    Image.fromarray(np.zeros((20, 20), np.uint8), "L").convert("P").save(root / "palette.png")
    tifffile.imwrite(root / "nan.tif", np.full((20, 20), np.nan, np.float32))
    tifffile.imwrite(root / "allzero.tif", np.zeros((20, 20), np.uint16))
    tifffile.imwrite(root / "onepixel.tif", np.ones((1, 1), np.uint8))
    tifffile.imwrite(root / "elongated.tif", np.zeros((1, 3000), np.uint8))
    np.save(root / "empty.npy", np.zeros((0,), np.float32))
    tifffile.imwrite(root / "sliver.tif", good[:, :2])  # a channel axis taken for a side
    interleaved = np.stack([good, good[::-1]], -1)  # two grey samples a pixel, not RGB
    tifffile.imwrite(
        root / "interleaved.tif", interleaved, photometric="minisblack", planarconfig="contig"
    )
    for name in ("stack3d.tif", "stack4d.tif", "rgba.png", "palette.png", "nan.tif"):
        files[name] = root / name
    for name in ("allzero.tif", "onepixel.tif", "elongated.tif", "empty.npy", "sliver.tif"):
        files[name] = root / name
    files["interleaved.tif"] = root / "interleaved.tif"
    nib.save(nib.Nifti1Image(np.ones((6, 6, 4, 2), np.float32), np.eye(4)), root / "4d.nii.gz")
    singular = np.eye(4)
    singular[2, 2] = 0.0
    for name, affine in (("zero.nii", np.zeros((4, 4))), ("singular.nii.gz", singular)):
        image = nib.Nifti1Image(np.ones((6, 6, 4), np.float32), np.eye(4))
        image.set_qform(None, code=0)
        image.set_sform(affine, code=1)  # nibabel cannot decompose it into a qform
        nib.save(image, root / name)
    files["4d.nii.gz"], files["zeroaffine.nii"] = root / "4d.nii.gz", root / "zero.nii"
    files["singular.nii.gz"] = root / "singular.nii.gz"
    files["corrupt.ckpt"] = root / "corrupt.safetensors"
    files["corrupt.ckpt"].write_bytes(os.urandom(256))
    files["foreign.ckpt"] = root / "foreign.safetensors"
    save_file({"w": torch.ones(2)}, str(files["foreign.ckpt"]))
    files["pickled.ckpt"] = root / "pickled.safetensors"
    torch.save({"w": torch.ones(2)}, files["pickled.ckpt"])
    files["sr.ckpt"] = sr_checkpoint
    files["existing"] = root / "existing.txt"
    files["existing"].write_text("keep me\n")
    return files


def cases(f: dict[str, Path]) -> list[tuple[str, list[str], str]]:
    """``(id, argv, expected message part)``."""
    out = f["root"] / "out"
    csv = str(out / "c.csv")
    nowhere = str(f["root"] / "no" / "such" / "dir" / "x.csv")
    count = ["cells", "count"]
    predict = ["cells", "predict"]
    upscale = ["sr", "upscale"]
    sr_model = ["--model", str(f["sr.ckpt"])]
    nii_out = ["-o", str(out / "up.nii.gz")]
    table: list[tuple[str, list[str], str]] = [
        ("count-missing", [*count, str(f["missing"]), "-o", csv], "no such file"),
        ("count-empty-folder", [*count, str(f["folder"]), "-o", csv], "no .tif"),
        ("count-glob-nothing", [*count, str(f["root"] / "*.xyz"), "-o", csv], "no .tif"),
        ("predict-missing", [*predict, str(f["missing"]), "-o", str(out / "p")], "no such file"),
        (
            "evaluate-missing",
            ["cells", "evaluate", "--data", str(f["missing"]), "-o", str(out)],
            "",
        ),
        (
            "evaluate-data-is-a-file",
            ["cells", "evaluate", "--data", str(f["good.tif"]), "-o", str(out)],
            "good.tif: a file",
        ),
        (
            "evaluate-folder-by-blur",
            ["cells", "evaluate", "--data", str(f["folder"]), "--blur", "1", "-o", str(out)],
            "--blur and --counts pick BBBC005 images by their file names",
        ),
        (
            "sr-evaluate-data-is-a-file",
            ["sr", "evaluate", "--data", str(f["good.nii.gz"]), "-o", str(out)],
            "good.nii.gz: a file",
        ),
        (
            "train-missing",
            ["cells", "train", "--data", str(f["missing"]), "-o", str(out / "r")],
            "",
        ),
        (
            "export-corrupt",
            ["cells", "export", str(f["corrupt.ckpt"]), "-o", str(out / "w.safetensors")],
            "",
        ),
        (
            "sr-export-wrong-task",
            ["sr", "export", str(f["foreign.ckpt"]), "-o", str(out / "w.safetensors")],
            "",
        ),
        ("out-is-file", [*predict, str(f["good.tif"]), "-o", str(f["existing"])], "not a folder"),
        ("out-missing-parent", [*count, str(f["good.tif"]), "-o", nowhere], "does not exist"),
        ("out-not-csv", [*count, str(f["good.tif"]), "-o", str(out / "c.txt")], ".csv"),
        ("demo-out-file", ["demo", "-o", str(f["existing"])], "not a folder"),
        ("bench-out-file", ["bench", "--quick", "-o", str(f["existing"])], "not a folder"),
        (
            "reproduce-out-file",
            ["reproduce", "fft-unet", "--quick", "-o", str(f["existing"])],
            "not a folder",
        ),
        ("sr-evaluate-out-file", ["sr", "evaluate", "-o", str(f["existing"])], "not a folder"),
        (
            "upscale-out-missing-parent",
            [*upscale, str(f["good.nii.gz"]), "--scale", "2", *sr_model, "-o", nowhere],
            "does not exist",
        ),
        (
            "upscale-volume-to-png",
            [*upscale, str(f["good.nii.gz"]), "--scale", "2", *sr_model, "-o", str(out / "x.png")],
            "NIfTI",
        ),
        ("inspect-4d-volume-index", ["sr", "inspect", str(f["4d.nii.gz"]), "--volume", "5"], ""),
        ("count-sliver", [*count, str(f["sliver.tif"]), "-o", csv], "cannot hold a nucleus"),
        ("count-interleaved", [*count, str(f["interleaved.tif"]), "-o", csv], "holds 2 channels"),
    ]
    for name in (
        "zero.tif",
        "zero.png",
        "text.tif",
        "text.png",
        "truncated.tif",
        "truncated.png",
        "stack3d.tif",
        "stack4d.tif",
        "rgba.png",
        "nan.tif",
        "allzero.tif",
        "onepixel.tif",
    ):
        table.append((f"count-{name}", [*count, str(f[name]), "-o", csv], name))  # names it
    for name in ("palette.png", "elongated.tif"):
        table.append((f"predict-{name}", [*predict, str(f[name]), "-o", str(out / "p")], ""))
    for name in ("corrupt.ckpt", "foreign.ckpt", "pickled.ckpt", "sr.ckpt"):
        table.append(
            (
                f"count-model-{name}",
                [*count, str(f["good.tif"]), "--model", str(f[name]), "-o", csv],
                "",
            )
        )
    for name in (
        "zero.nii.gz",
        "zero.dcm",
        "zero.npy",
        "text.nii.gz",
        "text.dcm",
        "truncated.nii.gz",
        "zeroaffine.nii",
        "singular.nii.gz",
        "empty.npy",
        "nan.tif",
        "allzero.tif",
        "missing",
    ):
        if name != "allzero.tif":  # inspect describes it, rightly
            table.append((f"inspect-{name}", ["sr", "inspect", str(f[name])], ""))
        table.append(
            (f"upscale-{name}", [*upscale, str(f[name]), "--scale", "2", *sr_model, *nii_out], "")
        )
    for name in ("singular.nii.gz", "zeroaffine.nii", "text.nii.gz", "4d.nii.gz"):
        table.append(
            (
                f"degrade-{name}",
                ["sr", "degrade", str(f[name]), "--scale", "2", "-o", str(out / "lr.nii.gz")],
                "",
            )
        )
    for scale in ("0", "-1", "abc", "nan", "inf", "1e9", "1", "3/0"):
        table.append(
            (
                f"upscale-scale-{scale}",
                [*upscale, str(f["good.nii.gz"]), "--scale", scale, *sr_model, *nii_out],
                "scale",
            )
        )
        table.append(
            (
                f"degrade-scale-{scale}",
                ["sr", "degrade", str(f["good.png"]), "--scale", scale, "-o", str(out / "lr.png")],
                "scale",
            )
        )
    table.append(
        (
            "upscale-strict",
            [*upscale, str(f["good.nii.gz"]), "--scale", "6", "--strict", *sr_model, *nii_out],
            "outside the range",
        )
    )
    for sigma in ("-3", "nan", "inf"):
        table.append(
            (
                f"degrade-blur-{sigma}",
                [
                    "sr",
                    "degrade",
                    str(f["good.png"]),
                    "--scale",
                    "2",
                    "--blur-sigma",
                    sigma,
                    "-o",
                    str(out / "lr.png"),
                ],
                "blur",
            )
        )
    for model in ("corrupt.ckpt", "foreign.ckpt", "pickled.ckpt"):
        table.append(
            (
                f"upscale-model-{model}",
                [
                    *upscale,
                    str(f["good.nii.gz"]),
                    "--scale",
                    "2",
                    "--model",
                    str(f[model]),
                    *nii_out,
                ],
                "",
            )
        )
    table.append(
        (
            "sr-evaluate-scale",
            ["sr", "evaluate", "--scales", "2,abc", "-o", str(out / "e")],
            "scale",
        )
    )
    return table


class _Names(dict):
    """Stand-in file names, to list the case ids before the files exist."""

    def __missing__(self, key: str) -> Path:
        return Path(key)


def _ids() -> list[str]:
    return [case[0] for case in cases(_Names())]


@pytest.mark.parametrize("case", _ids())
def test_bad_input_ends_with_one_error_line(cli, corpus, case):
    argv, message = next((a, m) for i, a, m in cases(corpus) if i == case)
    out = corpus["root"] / "out"
    out.mkdir(exist_ok=True)
    before = {p: p.read_bytes() for p in corpus["root"].rglob("*") if p.is_file()}
    result = cli(*argv)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("bioscope: error: ")]
    assert result.returncode == 1, (argv, result.returncode, result.stderr)
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert message.lower() in errors[0].lower(), (message, errors[0])
    after = {p: p.read_bytes() for p in corpus["root"].rglob("*") if p.is_file()}
    assert all(after.get(p) == data for p, data in before.items())  # nothing lost or changed
    assert not set(after) - set(before)  # no partial output, no temporary file


def test_corpus_is_large_enough():
    assert len(_ids()) >= 40 and len(set(_ids())) == len(_ids())


def test_a_fraction_scale_is_fine(cli, corpus):
    result = cli(
        "sr",
        "upscale",
        str(corpus["good.nii.gz"]),
        "--scale",
        "3/2",
        "--model",
        str(corpus["sr.ckpt"]),
        "-o",
        str(corpus["root"] / "ok.nii.gz"),
    )
    assert result.returncode == 0, result.stderr
    assert nib.load(corpus["root"] / "ok.nii.gz").shape == (18, 21, 4)


def test_interrupted_predict_leaves_whole_files(tmp_path, tiny_checkpoint):
    """SIGINT in the middle of many images: finished outputs whole, no partial file, one line."""
    images = tmp_path / "images"
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:200, :240]
    for index in range(120):  # nuclei on noise, not empty fields (those take a shorter path)
        nuclei = sum(
            ((yy - y) ** 2 + (xx - x) ** 2 < 64) for y, x in rng.integers(10, 190, (12, 2))
        )
        image = np.clip(rng.normal(20, 5, (200, 240)) + 150 * (nuclei > 0), 0, 255)
        write_image(images / f"im{index:03d}.tif", image.astype(np.uint8))
    out = tmp_path / "pred"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bioscope.cli.main",
            "cells",
            "predict",
            str(images),
            "-o",
            str(out),
            "--model",
            str(tiny_checkpoint),
            "--batch-size",
            "1",
            "--device",
            "cpu",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell that starts the test suite in the background ignores SIGINT, and children
        # inherit that: give the command line the disposition a user's terminal gives it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("*_overlay.png"))) < 3:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "bioscope: interrupted" and "Traceback" not in stderr
    written = sorted(p for p in out.iterdir())
    assert not [p for p in written if not p.name.endswith((".tif", ".png"))], written
    overlays = list(out.glob("*_overlay.png"))
    assert 3 <= len(overlays) < 120
    for path in written:
        if path.suffix == ".png":
            Image.open(path).verify()
        else:
            tifffile.imread(path)
