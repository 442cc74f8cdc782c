from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from bioscope.io import read_image, read_volume, write_image, write_nifti


def test_inspect_json(cli, tmp_path):
    path = write_nifti(
        tmp_path / "v.nii.gz",
        np.arange(60, dtype=np.float32).reshape(3, 4, 5),
        np.diag([0.5, 1.0, 2.0, 1.0]),
    )
    result = cli("sr", "inspect", str(path), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["shape"] == [3, 4, 5] and info["voxel_sizes"] == [0.5, 1.0, 2.0]
    assert info["orientation"] == "RAS" and info["dtype"] == "float32"
    assert (info["min"], info["max"]) == (0.0, 59.0)


def test_degrade_volume_keeps_geometry(cli, tmp_path):
    data = np.random.default_rng(0).random((40, 44, 6)).astype(np.float32)
    path = write_nifti(tmp_path / "v.nii.gz", data, np.diag([0.9, 0.9, 3.0, 1.0]))
    out = tmp_path / "lr.nii.gz"
    result = cli("sr", "degrade", str(path), "--scale", "2.5", "-o", str(out))
    assert result.returncode == 0, result.stderr
    lr = read_volume(out)
    assert lr.data.shape == (16, 16, 6)  # 40 -> 40, 44 -> 40 (multiples of 5), / 2.5
    np.testing.assert_allclose(lr.voxel_sizes, (2.25, 2.25, 3.0), rtol=1e-6)
    # pixel-centre alignment: LR voxel 0 sits at HR voxel (0.5 * 2.5 - 0.5) = 0.75
    np.testing.assert_allclose(nib.load(str(out)).affine[:3, 3], [0.75 * 0.9, 0.75 * 0.9, 0.0])


def test_degrade_kspace_volume_keeps_geometry_and_band_limited_content(cli, tmp_path):
    """k-space truncation through the command line: the same grid and affine as bicubic, and a
    slowly varying volume comes back as its exact samples at the LR centres."""
    x = np.arange(40)[:, None, None]
    y = np.arange(40)[None, :, None]
    data = (np.cos(2 * np.pi * x / 40) + np.sin(2 * np.pi * 2 * y / 40) + 3) * np.ones((1, 1, 4))
    path = write_nifti(tmp_path / "v.nii.gz", data.astype(np.float32), np.diag([1, 1, 3.0, 1]))
    out = tmp_path / "lr.nii.gz"
    args = ["--scale", "2.5", "--kind", "kspace", "--window", "none", "-o", str(out)]
    result = cli("sr", "degrade", str(path), *args)
    assert result.returncode == 0, result.stderr
    lr = read_volume(out)
    assert lr.data.shape == (16, 16, 4)
    centres = (np.arange(16) + 0.5) * 2.5 - 0.5
    expected = np.cos(2 * np.pi * centres / 40)[:, None] + np.sin(4 * np.pi * centres / 40) + 3
    np.testing.assert_allclose(lr.data[..., 0], expected, atol=1e-4)
    np.testing.assert_allclose(nib.load(str(out)).affine[:3, 3], [0.75, 0.75, 0.0])
    noisy = tmp_path / "noisy.nii.gz"
    args = ["--scale", "2", "--kind", "kspace", "--snr", "20", "--seed", "1", "-o", str(noisy)]
    assert cli("sr", "degrade", str(path), *args).returncode == 0
    assert read_volume(noisy).data.std() > 0
    bad = cli("sr", "degrade", str(path), "--scale", "2", "--window", "hamming", "-o", str(noisy))
    assert bad.returncode == 1 and "--kind kspace only" in bad.stderr


def test_degrade_errors(cli, tmp_path):
    np.save(tmp_path / "a.npy", np.ones((20, 20), np.float32))
    for scale, message in (("0", "greater than 1"), ("-1", "greater than 1"), ("9", "outside")):
        result = cli(
            "sr",
            "degrade",
            str(tmp_path / "a.npy"),
            "--scale",
            scale,
            "-o",
            str(tmp_path / "b.npy"),
        )
        assert result.returncode in (1, 2) and message in result.stderr
    ok = cli(
        "sr", "degrade", str(tmp_path / "a.npy"), "--scale", "2", "-o", str(tmp_path / "b.npy")
    )
    assert ok.returncode == 0 and np.load(tmp_path / "b.npy").shape == (10, 10)
    data = np.zeros((3, 4, 5, 2), np.float32)
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(tmp_path / "4d.nii.gz"))
    result = cli("sr", "upscale", str(tmp_path / "4d.nii.gz"), "--scale", "2", "-o", "x.nii.gz")
    assert result.returncode == 1 and "choose one (--volume N" in result.stderr


def test_inspect_describes_disk_and_canonical_orientation_and_4d(cli, tmp_path):
    """A file stored LAS (x flipped), 2.2 mm voxels held as float32, four volumes, TR 2 s."""
    affine = np.diag([-2.2, 2.2, 2.2, 1.0])
    image = nib.Nifti1Image(np.arange(240, dtype=np.int16).reshape(3, 4, 5, 4), affine)
    image.header.set_zooms((2.2, 2.2, 2.2, 2.0))
    image.header.set_xyzt_units("mm", "sec")
    nib.save(image, tmp_path / "las.nii.gz")
    result = cli("sr", "inspect", str(tmp_path / "las.nii.gz"), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["disk_orientation"] == "LAS" and info["orientation"] == "RAS"
    assert info["voxel_sizes"] == [2.2, 2.2, 2.2] and info["shape"] == [3, 4, 5, 4]
    assert info["volumes"] == 4 and info["repetition_time"] == 2.0 and info["time_unit"] == "sec"
    assert info["dtype"] == "int16" and (info["min"], info["max"]) == (0.0, 239.0)
    one = cli("sr", "inspect", str(tmp_path / "las.nii.gz"), "--volume", "1")
    assert one.returncode == 0 and "disk_orientation LAS" in one.stdout


def test_inspect_text_rounds_and_a_3d_file_is_described_in_canonical_order(cli, tmp_path):
    """Stored ASR (a sagittal stack): shape and voxel sizes in RAS order, as processed."""
    affine = np.array([[0, 0, 2.2, 0], [1.1, 0, 0, 0], [0, 3.3, 0, 0], [0, 0, 0, 1]])
    nib.save(nib.Nifti1Image(np.zeros((3, 4, 5), np.float32), affine), tmp_path / "asr.nii")
    result = cli("sr", "inspect", str(tmp_path / "asr.nii"))
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(maxsplit=1) for line in result.stdout.splitlines())
    assert lines["shape"] == "[5, 3, 4]" and lines["voxel_sizes"] == "[2.2, 1.1, 3.3]"
    assert lines["orientation"] == "RAS" and lines["disk_orientation"] == "ASR"
    picked = json.loads(cli("sr", "inspect", str(tmp_path / "asr.nii"), "--json").stdout)
    assert picked["shape"] == list(read_volume(tmp_path / "asr.nii").data.shape)


def test_degrade_keeps_the_header_and_refuses_bad_options(cli, tmp_path, stored_las, header_kept):
    stored_las(tmp_path / "in.nii.gz", np.arange(360, dtype=np.int16).reshape(10, 12, 3))
    out = tmp_path / "lr.nii.gz"
    result = cli("sr", "degrade", str(tmp_path / "in.nii.gz"), "--scale", "2", "-o", str(out))
    assert result.returncode == 0, result.stderr
    written = nib.load(out)
    header_kept(written)
    assert written.shape == (5, 6, 3)
    np.testing.assert_allclose(written.header.get_zooms(), (4.0, 4.0, 4.0))
    args = ["sr", "degrade", str(tmp_path / "in.nii.gz"), "-o", str(tmp_path / "x.nii.gz")]
    for extra, message in (
        (["--scale", "2", "--blur-sigma", "-1"], "blur sigma"),
        (["--scale", "2", "--blur-sigma", "nan"], "blur sigma"),
        (["--scale", "1e9", "--allow-any-scale"], "larger than 16"),
    ):
        result = cli(*args, *extra)
        assert result.returncode == 1 and message in result.stderr, result.stderr
    old = cli("sr", "degrade", str(tmp_path / "in.nii.gz"), "--scale", "2", "--output", "x.nii")
    assert old.returncode == 2 and not (tmp_path / "x.nii.gz").exists()


def test_train_then_evaluate(cli, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "model: {name: meta-srgan-tiny}\n"
        "discriminator: {name: srgan-discriminator-tiny}\n"
        "data: {patches: {patch: 40, per_slice: 1}, val_scales: [2.0]}\n"
        "loss: {perceptual: gradient, warmup_updates: 2}\n"
        "train: {epochs: 1, batch_size: 8}\n"
    )
    run = tmp_path / "run"
    result = cli("sr", "train", "--config", str(config), "--out", str(run))
    assert result.returncode == 0, result.stderr
    assert "val PSNR" in result.stdout and (run / "best.safetensors").is_file()
    out = tmp_path / "eval"
    result = cli(
        "sr",
        "evaluate",
        "--models",
        "meta-srgan-tiny,bicubic",
        "--checkpoints",
        f"meta-srgan-tiny={run / 'best.safetensors'}",
        "--scales",
        "2,3.7",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["scales"]) == {"2.0", "3.7"}
    for key in ("psnr", "psnr_std", "ssim", "ssim_std"):
        assert key in metrics["scales"]["2.0"]["bicubic"]
    assert metrics["params"]["bicubic"] == 0 and metrics["params"]["meta-srgan-tiny"] > 0
    weights = tmp_path / "sr.safetensors"
    result = cli("sr", "export", str(run / "best.safetensors"), "--out", str(weights))
    assert result.returncode == 0, result.stderr
    csv = str(out / "per_slice.csv")
    result = cli("sr", "upscale", csv, "--scale", "2", "--model", str(weights), "-o", "x.png")
    assert result.returncode == 1 and "per_slice.csv" in result.stderr
    wrong = cli("cells", "export", str(weights), "--out", str(tmp_path / "w.safetensors"))
    assert (
        wrong.returncode == 1 and "'superres' checkpoint, not a 'segmentation' one" in wrong.stderr
    )


def test_evaluate_under_both_degradations(cli, tmp_path):
    """Bicubic and k-space LR inputs, each in its own folder, bicubic interpolation scored on
    both: the k-space LR of the same slices is another image, so the scores differ."""
    args = ["--models", "bicubic", "--scales", "2", "--degradation", "bicubic,kspace"]
    result = cli("sr", "evaluate", *args, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "LR made by kspace:" in result.stdout
    scores = {
        kind: json.loads((tmp_path / kind / "metrics.json").read_text())
        for kind in ("bicubic", "kspace")
    }
    assert scores["kspace"]["degradation"] == "kspace"
    psnrs = [scores[k]["scales"]["2.0"]["bicubic"]["psnr"] for k in ("bicubic", "kspace")]
    assert all(20 < p < 45 for p in psnrs) and abs(psnrs[0] - psnrs[1]) > 0.1
    bad = cli("sr", "evaluate", "--degradation", "gibbs", "--out", str(tmp_path / "b"))
    assert bad.returncode == 1 and "unknown degradation ['gibbs']" in bad.stderr


def test_evaluate_refuses_untrained_models_and_bad_configs(cli, tmp_path):
    result = cli("sr", "evaluate", "--models", "srgan", "--out", str(tmp_path))
    assert result.returncode == 1 and "ships no trained srgan weights" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("loss: {perceptual: vgg}\n")
    result = cli("sr", "train", "--config", str(bad), "--out", str(tmp_path / "run"))
    assert result.returncode == 1 and "no VGG19 weights given" in result.stderr


def test_upscale_keeps_the_header_and_the_world(
    cli, tmp_path, sr_checkpoint, stored_las, header_kept
):
    """int16, stored LAS, qform code 1 and sform code 2, a description and units: all kept."""
    data = (np.random.default_rng(0).random((10, 12, 3)) * 3000 - 600).astype(np.int16)
    source = str(stored_las(tmp_path / "in.nii.gz", data))
    upscale = ["sr", "upscale", source, "--scale", "2", "--model", str(sr_checkpoint)]
    out = tmp_path / "up.nii.gz"
    result = cli(*upscale, "-o", str(out))
    assert result.returncode == 0, result.stderr
    written = nib.load(out)
    header_kept(written)
    assert written.get_data_dtype() == np.int16 and written.shape == (20, 24, 3)
    values = np.asarray(written.dataobj)
    assert values.min() >= data.min() and values.max() <= data.max()  # clipped for integers
    before, after = read_volume(source), read_volume(out)
    # HR voxel i lies over LR voxel (i + 1/2) / s - 1/2: HR 2 over LR 0.75 at x2
    np.testing.assert_allclose(after.affine @ [2, 2, 0, 1], before.affine @ [0.75, 0.75, 0, 1])
    floats = tmp_path / "f.nii.gz"
    result = cli(*upscale, "--dtype", "float32", "--no-clip", "-o", str(floats))
    assert result.returncode == 0 and nib.load(floats).get_data_dtype() == np.float32


def test_thick_slices_then_through_plane_upscale_come_back_on_the_original_grid(
    cli, tmp_path, sr_anisotropic_checkpoint
):
    """sr degrade --kind slices-box averages thin slices along --axis only; sr upscale
    --through-plane finds that axis from the voxel sizes and restores the grid and affine."""
    data = (np.random.default_rng(0).random((12, 10, 16)) * 1000).astype(np.int16)
    affine = np.array([[0.9, 0, 0, -20], [0, 0.9, 0, 30], [0, 0, 1.0, 7], [0, 0, 0, 1]])
    thin = write_nifti(tmp_path / "thin.nii.gz", data, affine)
    thick = tmp_path / "thick.nii.gz"
    args = ["--kind", "slices-box", "--scale", "4", "-o", str(thick)]
    result = cli("sr", "degrade", str(thin), *args)
    assert result.returncode == 0, result.stderr
    lr = read_volume(thick)
    assert lr.data.shape == (12, 10, 4) and lr.voxel_sizes[2] == pytest.approx(4.0)
    np.testing.assert_allclose(lr.data, data.reshape(12, 10, 4, 4).mean(-1), atol=0.5)
    out = tmp_path / "up.nii.gz"
    model = ["--model", str(sr_anisotropic_checkpoint)]
    result = cli(
        "sr", "upscale", str(thick), "--through-plane", "--target-mm", "1", *model, "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "x4 across axis 2" in result.stdout
    up = read_volume(out)
    assert up.data.shape == data.shape
    np.testing.assert_allclose(up.affine, read_volume(thin).affine, atol=1e-5)
    no_scale = cli("sr", "upscale", str(thick), *model, "-o", str(out))
    assert no_scale.returncode == 1 and "give --scale" in no_scale.stderr
    isotropic = cli("sr", "upscale", str(thin), "--through-plane", *model, "-o", str(out))
    assert isotropic.returncode == 1 and "no axis is thicker" in isotropic.stderr
    image = tmp_path / "slice.npy"
    np.save(image, data[..., 0].astype(np.float32))
    args = ["--through-plane", "--axis", "sagittal", "--scale", "2", *model, "-o", str(out)]
    flat = cli("sr", "upscale", str(image), *args)
    assert flat.returncode == 1 and "3-D volume" in flat.stderr and "Traceback" not in flat.stderr


def test_evaluate_through_plane_writes_a_table(cli, tmp_path, sr_anisotropic_checkpoint):
    data = np.random.default_rng(1).random((16, 20, 24)).astype(np.float32)
    volume = write_nifti(tmp_path / "v.nii.gz", data, np.eye(4))
    models = ["--models", "meta-srgan-tiny,bicubic"]
    checkpoints = ["--checkpoints", f"meta-srgan-tiny={sr_anisotropic_checkpoint}"]
    args = ["--through-plane", "--data", str(volume), "--scales", "2", *models, *checkpoints]
    result = cli("sr", "evaluate", *args, "-o", str(tmp_path / "eval"))
    assert result.returncode == 0, result.stderr
    rows = json.loads((tmp_path / "eval" / "metrics.json").read_text())["rows"]
    assert [r["method"] for r in rows] == ["meta-srgan-tiny", "bicubic", "sinc"]


def test_an_int16_image_stays_int16_and_an_unwritable_type_is_refused_first(
    cli, tmp_path, sr_checkpoint, monkeypatch
):
    """A CT-like int16 TIFF is written back as int16; a float image asked to go to PNG is
    refused before any computing."""
    from bioscope.inference.superres import SRPredictor

    image = (np.random.default_rng(0).random((12, 14)) * 2000 - 1000).astype(np.int16)
    source = write_image(tmp_path / "ct.tif", image)
    upscale = ["sr", "upscale", str(source), "--scale", "2", "--model", str(sr_checkpoint)]
    result = cli(*upscale, "-o", str(tmp_path / "up.tif"))
    assert result.returncode == 0, result.stderr
    assert read_image(tmp_path / "up.tif").dtype == np.int16
    monkeypatch.setattr(SRPredictor, "upscale", lambda *a, **k: pytest.fail("computed"))
    png = cli(*upscale, "-o", str(tmp_path / "up.png"))
    assert png.returncode == 1 and "cannot write dtype int16 as .png" in png.stderr
    assert "write .npy, or .tif with --dtype float32" in png.stderr


def test_upscale_never_overwrites_its_input_or_its_own_output(cli, tmp_path, sr_checkpoint):
    image = (np.random.default_rng(0).random((12, 14)) * 200).astype(np.uint8)
    source = write_image(tmp_path / "a.png", image)
    model = ["--model", str(sr_checkpoint)]
    same = cli("sr", "upscale", str(source), "--scale", "2", *model, "-o", str(source))
    assert same.returncode == 1 and "a.png: is an input" in same.stderr
    degrade = cli("sr", "degrade", str(source), "--scale", "2", "-o", str(source))
    assert degrade.returncode == 1 and "is an input" in degrade.stderr
    np.testing.assert_array_equal(read_image(source), image)
    other = write_image(tmp_path / "b" / "a.png", image // 2)
    out = tmp_path / "up"
    both = cli("sr", "upscale", str(source), str(other), "--scale", "2", *model, "-o", str(out))
    assert both.returncode == 1 and "would both be written to" in both.stderr
    assert read_image(out / "a_x2.png").shape == (24, 28)  # the first result is kept


def test_evaluate_refuses_a_checkpoint_for_a_model_it_does_not_run(cli, tmp_path, sr_checkpoint):
    """A typo in --checkpoints used to evaluate the shipped model under the typed name."""
    args = ["--models", "meta-srgan,bicubic", "--checkpoints", f"metasrgan={sr_checkpoint}"]
    result = cli("sr", "evaluate", *args, "--scales", "2", "--out", str(tmp_path / "e"))
    assert result.returncode == 1 and "--checkpoints names 'metasrgan'" in result.stderr
    assert not (tmp_path / "e").exists()


def test_an_error_from_one_input_names_it(cli, tmp_path, sr_checkpoint):
    dark = write_image(tmp_path / "dark.png", np.zeros((12, 14), np.uint8))
    result = cli(
        "sr",
        "upscale",
        str(dark),
        "--scale",
        "2",
        "--model",
        str(sr_checkpoint),
        "-o",
        str(tmp_path / "up.png"),
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"bioscope: error: {dark}: no value above zero: nothing but background"
    )


def test_upscale_of_a_folder_reads_every_image_and_never_an_earlier_result(
    cli, tmp_path, sr_checkpoint
):
    """sr upscale does not skip names like cells predict's outputs, and a second run into the
    same folder refuses to write over the first run's result, which is now one of its inputs."""
    folder = tmp_path / "scans"
    image = (np.random.default_rng(0).random((12, 14)) * 200).astype(np.uint8)
    for name in ("scan.png", "scan_mask.png"):
        write_image(folder / name, image)
    args = ["sr", "upscale", str(folder), "--scale", "2", "--model", str(sr_checkpoint)]
    first = cli(*args, "-o", str(folder))
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in folder.iterdir()) == [
        "scan.png",
        "scan_mask.png",
        "scan_mask_x2.png",
        "scan_x2.png",
    ]
    again = cli(*args, "-o", str(folder))
    assert again.returncode == 1 and "scan_x2.png: is an input" in again.stderr
    degrade = cli(
        "sr", "degrade", str(folder / "scan_x2.png"), "--scale", "2", "-o", str(tmp_path / "lr.png")
    )
    assert degrade.returncode == 0, degrade.stderr


def test_axis_given_for_a_2d_image_is_named_as_unused(cli, tmp_path, sr_checkpoint):
    """A 2-D image has no slice axis: ``--axis`` gets a warning, not silence."""
    image = write_image(
        tmp_path / "a.png", (np.random.default_rng(0).random((24, 20)) * 255).astype(np.uint8)
    )
    model = ["--model", str(sr_checkpoint)]
    for argv in (
        ["upscale", str(image), "--scale", "2", *model, "-o", str(tmp_path / "up.png")],
        ["degrade", str(image), "--scale", "2", "-o", str(tmp_path / "lr.png")],
    ):
        result = cli("sr", *argv, "--axis", "sagittal")
        assert result.returncode == 0, result.stderr
        assert "a.png: a 2-D image has no slice axis to choose; --axis sagittal is not used" in (
            result.stderr
        )
        assert "not used" not in cli("sr", *argv).stderr
