"""The public Python API agrees with the command line."""

from __future__ import annotations

import csv

import nibabel as nib
import numpy as np
import pytest
import torch

import bioscope
from bioscope.errors import BioscopeWarning, InputError
from bioscope.io import write_image
from bioscope.models.checkpoint import shipped_weights
from bioscope.samples import nuclei_field


@pytest.fixture(scope="module")
def model():
    try:
        shipped_weights("cells")
    except InputError as exc:
        pytest.skip(str(exc))
    return bioscope.load_cell_model(device="cpu")


def test_api_cli_predict_and_count_agree(model, cli, tmp_path):
    """Same files, same counts: simulated 8-bit fields and a dim 16-bit one, by every door."""
    files = []
    for seed in (1, 2):
        image, _ = nuclei_field(count=50, seed=seed)
        files.append(write_image(tmp_path / f"sim{seed}.tif", image))
    dim = np.round(nuclei_field(count=70, seed=3)[0] / 255 * 235).astype(np.uint16)
    files.append(write_image(tmp_path / "dim16.tif", dim))
    files.append(write_image(tmp_path / "bright16.tif", dim * 100))
    counted = cli("cells", "count", str(tmp_path), "-o", str(tmp_path / "c.csv"), "--device", "cpu")
    assert counted.returncode == 0, counted.stderr
    with (tmp_path / "c.csv").open() as handle:
        by_count = {r["file"]: int(r["count"]) for r in csv.DictReader(handle)}
    predicted = cli("cells", "predict", *map(str, files), "-o", str(tmp_path / "p"))
    assert predicted.returncode == 0, predicted.stderr
    by_predict = {
        line.split(": ")[0]: int(line.split(": ")[1].split()[0])
        for line in predicted.stdout.splitlines()
    }
    from bioscope.io import read_image

    by_api = {str(f): bioscope.count(read_image(f), model=model) for f in files}
    by_path = {str(f): bioscope.count(f, model=model) for f in files}  # the file read for you
    assert by_count == by_predict == by_api == by_path
    dim_count, bright_count = by_api[str(files[2])], by_api[str(files[3])]
    assert abs(dim_count - bright_count) <= 0.05 * max(dim_count, bright_count)


def test_segment_and_overrides(model):
    image, _ = nuclei_field(count=30, seed=5)
    labels = bioscope.segment(image, model=model)
    assert labels.shape == image.shape and labels.dtype == np.int32
    assert len(np.unique(labels)) - 1 == bioscope.count(image, model=model)
    before = model.spec
    loose = bioscope.count(image, model=model, threshold=0.2, method="paper")
    assert loose >= 0 and model.spec == before  # the loaded model is not changed


def test_segmentation_is_segment_and_count_in_one_pass(model):
    image, _ = nuclei_field(count=30, seed=5)
    result = bioscope.segmentation(image, model=model, method="paper")
    np.testing.assert_array_equal(
        result.labels, bioscope.segment(image, model=model, method="paper")
    )
    assert result.count == bioscope.count(image, model=model, method="paper") == len(result.centres)
    assert result.method == "paper" and result.maps.shape[1:] == image.shape


def test_a_path_loads_one_shared_predictor(tmp_path):
    from bioscope.api import shared_cell_model

    path = shipped_weights("cells")
    assert shared_cell_model(path, "cpu") is shared_cell_model(str(path), "cpu")
    if not torch.cuda.is_available():
        assert shared_cell_model(path, "auto") is shared_cell_model(path, "cpu")
    assert bioscope.load_cell_model(path, "cpu") is not bioscope.load_cell_model(path, "cpu")
    with pytest.raises(InputError, match=r"missing\.safetensors"):
        shared_cell_model(tmp_path / "missing.safetensors", "cpu")


def test_empty_image_warns(model):
    noise = np.random.default_rng(0).normal(50, 2, (64, 64)).clip(0).astype(np.uint16)
    with pytest.warns(BioscopeWarning, match="looks empty"):
        bioscope.count(noise, model=model)
    result = bioscope.segmentation(noise, model=model)  # the flag, not a warning
    assert result.empty


def test_an_image_counts_the_same_in_any_units(model):
    """Float images far from 0..255 (x1e-20, x1e20) count as the 8-bit field; values float32
    cannot hold are refused by what they are, not called NaN."""
    image, _ = nuclei_field(count=12, seed=3)
    expected = bioscope.count(image, model=model)
    for factor in (1e-20, 1e20):
        assert bioscope.count(image * factor, model=model) == expected, factor
    with pytest.raises(InputError, match=r"values up to 1.73e\+302, beyond the float32 range"):
        bioscope.count(image * 1e300, model=model)
    with pytest.raises(InputError, match="NaN or infinite"):
        bioscope.count(np.where(image > 100, np.nan, 1.0), model=model)


def test_channel_counts_the_nuclei_of_a_two_stain_image(model, cli, tmp_path):
    """Nuclei in blue, another stain in green: with the channel given, the API and the command
    line count the blue nuclei alone (the luminance mixes in green's 0.587)."""
    nuclei, _ = nuclei_field(count=15, seed=7)
    other, _ = nuclei_field(count=40, seed=8)
    rgb = np.stack([np.zeros_like(nuclei), other, nuclei], axis=-1)
    expected = bioscope.count(nuclei, model=model)
    assert expected == 15 and bioscope.count(rgb, model=model) == 53  # as the README says
    assert bioscope.count(rgb, model=model, channel=2) == expected
    assert bioscope.count(np.moveaxis(rgb, -1, 0), model=model, channel=2) == expected
    write_image(tmp_path / "rgb.png", rgb)
    assert bioscope.count(tmp_path / "rgb.png", model=model, channel=2) == expected
    table = tmp_path / "c.csv"
    result = cli("cells", "count", str(tmp_path / "rgb.png"), "--channel", "2", "-o", str(table))
    assert result.returncode == 0, result.stderr
    with table.open() as handle:
        assert [int(row["count"]) for row in csv.DictReader(handle)] == [expected]


def test_upscale_accepts_every_spelling_of_a_scale():
    plane = np.random.default_rng(0).random((20, 24)).astype(np.float32) + 0.1
    model = bioscope.load_sr_model(device="cpu")
    outputs = [bioscope.upscale(plane, s, model=model) for s in (2.7, "2.7", "27/10")]
    assert outputs[0].shape == (54, 64)
    for other in outputs[1:]:
        np.testing.assert_array_equal(other, outputs[0])
    with pytest.raises(InputError, match="scale"):
        bioscope.upscale(plane, "abc", model=model)


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        bioscope.nothing  # noqa: B018


def test_upscale_through_plane_enlarges_the_slice_axis_only():
    volume = np.random.default_rng(0).random((24, 20, 6)).astype(np.float32)
    thin = bioscope.upscale(volume, 2, through_plane=True, device="cpu")
    assert thin.shape == (24, 20, 12)


def test_upscale_through_plane_keeps_the_world_of_a_volume():
    from bioscope.io.volumes import Volume

    affine = np.diag([0.9, 0.9, 4.0, 1.0])
    data = np.random.default_rng(1).random((16, 18, 5)).astype(np.float32)
    volume = Volume(data, (0.9, 0.9, 4.0), affine, "RAS", "test", "float32")
    thin = bioscope.upscale(volume, 4, axis=-1, through_plane=True, device="cpu")
    assert thin.data.shape == (16, 18, 20) and thin.voxel_sizes == (0.9, 0.9, 1.0)
    np.testing.assert_allclose(thin.affine @ [3, 4, 0, 1], affine @ [3, 4, 0.5 / 4 - 0.5, 1])


def test_inputs_of_the_wrong_kind_are_refused_by_name(model, tmp_path):
    sr = bioscope.load_sr_model(device="cpu")
    plane = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    for image in (plane > 0.5, plane.astype(np.complex64)):
        with pytest.raises(InputError, match=f"real grey values .* got dtype {image.dtype}"):
            bioscope.upscale(image, 2, model=sr)
        with pytest.raises(InputError, match=f"got dtype {image.dtype}"):
            bioscope.count(image, model=model)
    with pytest.raises(InputError, match="axis must be 0, 1 or 2 for a volume, got 'axial'"):
        bioscope.upscale(np.stack([plane] * 3, -1), 2, model=sr, axis="axial")
    with pytest.raises(InputError, match="a CellPredictor; this call takes one from load_sr_model"):
        bioscope.upscale(plane, 2, model=model)
    with pytest.raises(InputError, match="SRPredictor; this call takes one from load_cell_model"):
        bioscope.count(plane, model=sr)

    path = tmp_path / "complex.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((4, 4, 3), np.complex64), np.eye(4)), path)
    with pytest.raises(InputError, match="complex64 voxels"):
        bioscope.upscale(path, 2, model=sr)


def test_a_file_that_cannot_be_segmented_is_named(model, tmp_path):
    """Errors about a file's pixels name the file; a folder and a channel that is not a whole
    number are refused as such."""
    write_image(tmp_path / "flat.tif", np.full((16, 16), 7, np.uint16))
    write_image(tmp_path / "thin.tif", np.arange(40, dtype=np.uint8).reshape(20, 2))
    with pytest.raises(InputError, match=r"flat\.tif: the image is constant"):
        bioscope.count(tmp_path / "flat.tif", model=model)
    with pytest.raises(InputError, match=r"thin\.tif: the image is 20 x 2 px: .*channel axis"):
        bioscope.count(tmp_path / "thin.tif", model=model)
    with pytest.raises(InputError, match="a folder, not an image"):
        bioscope.count(tmp_path, model=model)
    with pytest.raises(InputError, match="channel must be a whole number, got '1'"):
        bioscope.count(tmp_path / "flat.tif", model=model, channel="1")
    with pytest.raises(InputError, match=r"^diameter must be a positive number"):
        bioscope.count(tmp_path / "flat.tif", model=model, diameter=-1)
