from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, MRImageStorage, generate_uid

from bioscope.errors import BioscopeWarning, InputError
from bioscope.io import read_volume, write_image, write_nifti
from bioscope.io.volumes import describe_nifti, rescaled_affine


def nifti(path, data, affine):
    nib.save(nib.Nifti1Image(data, affine), str(path))
    return path


def test_nifti_round_trip(tmp_path):
    data = np.random.default_rng(0).random((5, 6, 7)).astype(np.float32)
    affine = np.diag([0.5, 0.8, 2.0, 1.0])
    path = write_nifti(tmp_path / "v.nii.gz", data, affine)
    volume = read_volume(path)
    np.testing.assert_array_equal(volume.data, data)
    assert volume.voxel_sizes == (0.5, pytest.approx(0.8), 2.0)
    assert volume.orientation == "RAS"
    np.testing.assert_allclose(volume.affine, affine)


def test_non_canonical_file_is_reoriented(tmp_path):
    """An LPS-ordered file reads as RAS: the voxel at a world point keeps its value."""
    data = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    affine = np.diag([-1.0, -2.0, 3.0, 1.0])  # x points left, y posterior: LPS
    volume = read_volume(nifti(tmp_path / "lps.nii", data, affine))
    assert volume.orientation == "RAS" and volume.voxel_sizes == (1.0, 2.0, 3.0)
    world = affine @ np.array([1, 2, 3, 1])
    index = np.linalg.solve(volume.affine, world)[:3].round().astype(int)
    assert volume.data[tuple(index)] == data[1, 2, 3]


def test_four_d_needs_a_volume(tmp_path):
    data = np.stack([np.full((3, 4, 5), v, np.float32) for v in (1, 2, 3)], axis=-1)
    path = nifti(tmp_path / "4d.nii.gz", data, np.eye(4))
    with pytest.raises(InputError, match="4-D file with 3 volumes; choose one"):
        read_volume(path)
    assert read_volume(path, volume=2).data.max() == 3
    with pytest.raises(InputError, match="out of range"):
        read_volume(path, volume=3)


def test_a_volume_index_for_a_file_of_one_volume_is_refused(tmp_path):
    """--volume 2 on a 3-D file or a 2-D image was silently ignored."""
    three = nifti(tmp_path / "3d.nii.gz", np.ones((3, 4, 5), np.float32), np.eye(4))
    plane = tmp_path / "plane.npy"
    np.save(plane, np.ones((4, 5), np.float32))
    for path in (three, plane):
        assert read_volume(path, volume=0).data.shape[:2] in ((3, 4), (4, 5))
        with pytest.raises(InputError, match="--volume 2 is for 4-D"):
            read_volume(path, volume=2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (np.full((3, 3, 3), np.nan, np.float32), "NaN"),
        (np.zeros((3, 3), np.float32), "3-D"),
    ],
)
def test_bad_nifti_content(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        read_volume(nifti(tmp_path / "bad.nii", content, np.eye(4)))


def test_unreadable_and_missing(tmp_path):
    (tmp_path / "junk.nii.gz").write_bytes(b"not gzip")
    with pytest.raises(InputError, match=r"junk\.nii\.gz: not a readable NIfTI"):
        read_volume(tmp_path / "junk.nii.gz")
    with pytest.raises(InputError, match="no such file"):
        read_volume(tmp_path / "missing.nii")
    (tmp_path / "x.mha").write_bytes(b"x")
    with pytest.raises(InputError, match="unsupported format"):
        read_volume(tmp_path / "x.mha")


def test_npy_and_png(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((4, 6), np.float32))
    volume = read_volume(tmp_path / "a.npy")
    assert volume.data.shape == (4, 6) and volume.orientation == "image" and not volume.is_volume
    np.save(tmp_path / "b.npy", np.ones((2, 4, 6)))
    with pytest.raises(InputError, match="2-D array"):
        read_volume(tmp_path / "b.npy")


def dicom_slice(path, pixels, z, series, *, slope=2.0, intercept=-10.0, frames=None):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID = series
    ds.Modality = "MR"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if frames:
        ds.NumberOfFrames = frames
        ds.SpacingBetweenSlices = 2.5
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelSpacing = [0.5, 0.75]  # row spacing, column spacing
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [0, 0, z]
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return path


def test_dicom_series_is_sorted_and_rescaled(tmp_path):
    series = generate_uid()
    rng = np.random.default_rng(0)
    planes = [rng.integers(0, 1000, (6, 8)).astype(np.uint16) for _ in range(4)]
    for order, index in enumerate([2, 0, 3, 1]):  # file names out of spatial order
        dicom_slice(tmp_path / f"im{order}.dcm", planes[index], z=2.5 * index, series=series)
    (tmp_path / "notes.txt").write_text("ignored")
    volume = read_volume(tmp_path)
    assert volume.data.shape == (8, 6, 4)  # RAS: x (columns), y (rows), z (slices)
    assert volume.voxel_sizes == (0.75, 0.5, 2.5)
    assert volume.orientation == "RAS"
    # LPS rows run anterior->posterior, so RAS y flips them
    expected = np.stack([p * 2.0 - 10.0 for p in planes], axis=-1).transpose(1, 0, 2)[::-1, ::-1, :]
    np.testing.assert_allclose(volume.data, expected)


def test_dicom_affine_starts_at_the_first_slice_in_space_and_each_slice_is_rescaled(tmp_path):
    series = generate_uid()
    for i in range(4):  # files 0..3 at z = 6, 4, 2, 0, each with its own slope
        plane = np.full((4, 6), 100, np.uint16)
        dicom_slice(tmp_path / f"{i}.dcm", plane, z=2.0 * (3 - i), series=series, slope=i + 1)
    volume = read_volume(tmp_path)
    assert volume.affine[2, 3] == 0.0 and volume.affine[2, 2] == 2.0  # from z = 0, step 2
    # slice k (z = 2k) is file 3 - k, slope 4 - k: 100 * (4 - k) - 10
    assert volume.data[0, 0].tolist() == [390.0, 290.0, 190.0, 90.0]


@pytest.mark.parametrize(
    ("positions", "message"),
    [
        ([0, 2, 4, 10, 12], r"not evenly spaced \(steps of 2 to 6 mm\)"),
        ([0, 0, 0], "two slices lie at one position"),
    ],
)
def test_dicom_series_with_gaps_or_repeats_is_refused(tmp_path, positions, message):
    series = generate_uid()
    for i, z in enumerate(positions):
        dicom_slice(tmp_path / f"{i}.dcm", np.zeros((4, 4)), z=float(z), series=series)
    with pytest.raises(InputError, match=message):
        read_volume(tmp_path)


def test_dicom_positions_rounded_by_the_scanner_are_one_grid(tmp_path):
    series = generate_uid()
    for i, z in enumerate([0.0, 0.6, 1.3, 1.9, 2.5]):  # 0.625 mm steps rounded to 0.1 mm
        dicom_slice(tmp_path / f"{i}.dcm", np.zeros((4, 4)), z=z, series=series)
    assert read_volume(tmp_path).voxel_sizes[2] == pytest.approx(0.625)


def test_dicom_with_a_rescale_keeps_its_values_not_the_stored_type(tmp_path):
    """CT stores unsigned integers with intercept -1024: the volume is float32, not uint16 (which
    would clip -1000 HU to 0 when written back with --dtype keep)."""
    series = generate_uid()
    for i in range(2):
        dicom_slice(
            tmp_path / f"{i}.dcm",
            np.full((4, 4), 24),
            z=float(i),
            series=series,
            slope=1,
            intercept=-1024,
        )
    volume = read_volume(tmp_path)
    assert volume.dtype == "float32" and volume.data.min() == -1000


def test_dicom_slices_of_different_sizes_are_refused(tmp_path):
    series = generate_uid()
    dicom_slice(tmp_path / "0.dcm", np.zeros((4, 4)), z=0.0, series=series)
    dicom_slice(tmp_path / "1.dcm", np.zeros((4, 6)), z=2.0, series=series)
    with pytest.raises(InputError, match=r"differ in size \(4 x 4, 4 x 6\)"):
        read_volume(tmp_path)
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(2):
        dicom_slice(frames / f"{i}.dcm", np.zeros((3, 4, 4)), z=float(i), series=series, frames=3)
    with pytest.raises(InputError, match="a folder of multi-frame files"):
        read_volume(frames)


def test_rgb_nifti_is_refused_by_name(tmp_path):
    rgb = np.zeros((4, 4, 3), [("R", "u1"), ("G", "u1"), ("B", "u1")])
    nib.save(nib.Nifti1Image(rgb, np.eye(4)), tmp_path / "rgb.nii")
    with pytest.raises(InputError, match=r"rgb\.nii: .* voxels; bioscope reads one real grey"):
        read_volume(tmp_path / "rgb.nii")


def test_dicom_multiframe(tmp_path):
    stack = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)
    path = dicom_slice(
        tmp_path / "mf.dcm", stack, z=0, series=generate_uid(), slope=1, intercept=0, frames=3
    )
    volume = read_volume(path)
    assert volume.data.shape == (5, 4, 3) and volume.voxel_sizes[2] == 2.5
    assert sorted(volume.data.ravel().tolist()) == list(range(60))


def test_dicom_errors(tmp_path):
    path = dicom_slice(tmp_path / "j2k.dcm", np.zeros((4, 4)), 0, generate_uid())
    ds = pydicom.dcmread(str(path))
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.PixelData = encapsulate([b"\x00" * 8])  # not a real JPEG 2000 stream
    ds["PixelData"].VR = "OB"
    ds.save_as(str(path), enforce_file_format=True)
    with pytest.raises(InputError, match="transfer syntax JPEG 2000"):
        read_volume(path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no DICOM images"):
        read_volume(tmp_path / "empty")
    (tmp_path / "two").mkdir()
    for i, series in enumerate((generate_uid(), generate_uid())):
        dicom_slice(tmp_path / "two" / f"{i}.dcm", np.zeros((4, 4)), i, series)
    with pytest.raises(InputError, match="2 DICOM series"):
        read_volume(tmp_path / "two")


@pytest.mark.parametrize("name", ["zero.nii", "singular.nii.gz"])
def test_singular_affine_is_refused_naming_the_file(tmp_path, name):
    image = nib.Nifti1Image(np.ones((4, 4, 3), np.float32), np.eye(4))
    image.set_qform(None, code=0)  # nibabel cannot decompose these into a qform: an sform alone
    image.set_sform(np.zeros((4, 4)) if name == "zero.nii" else np.diag([1, 1, 0, 1.0]), code=1)
    nib.save(image, tmp_path / name)
    for read in (read_volume, describe_nifti):
        with pytest.raises(InputError, match=rf"{name}: singular affine"):
            read(tmp_path / name)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_text_and_truncated_nifti_files_are_refused(tmp_path, suffix):
    text = tmp_path / f"text{suffix}"
    text.write_text("this is not an image\n" * 40)
    whole = nifti(tmp_path / f"whole{suffix}", np.ones((20, 20, 20), np.float32), np.eye(4))
    truncated = tmp_path / f"truncated{suffix}"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    for path in (text, truncated):
        for read in (read_volume, describe_nifti):
            with pytest.raises(InputError, match=rf"{path.name}: (not a readable|cannot read)"):
                read(path)


def test_header_survives_a_resampled_write(tmp_path, stored_las, header_kept):
    data = np.arange(6 * 8 * 3, dtype=np.int16).reshape(6, 8, 3)
    volume = read_volume(stored_las(tmp_path / "in.nii.gz", data))
    assert volume.orientation == "RAS" and volume.disk_orientation == "LAS"
    enlarged = volume.data.repeat(2, axis=0).repeat(2, axis=1)  # in-plane x2 (axial slices)
    affine = rescaled_affine(volume.affine, [0.5, 0.5, 1.0])
    out = write_nifti(tmp_path / "out.nii.gz", enlarged, affine, like=volume.header)
    written = nib.load(out)
    header_kept(written)
    assert written.shape == (12, 16, 3)
    np.testing.assert_allclose(written.header.get_zooms(), (1.0, 1.0, 4.0))
    np.testing.assert_allclose(written.get_qform(), written.get_sform())
    back = read_volume(out)
    np.testing.assert_array_equal(back.data, enlarged)
    np.testing.assert_allclose(back.affine, affine)
    # on disk, stored voxel (i, j, k) is the input's voxel (i // 2, j // 2, k) again
    np.testing.assert_array_equal(np.asarray(written.dataobj)[::2, ::2], data)


def test_keep_writes_the_stored_type_rounded_and_clipped(tmp_path, stored_las):
    data = np.array([-32768, -5, 7, 32767, 0, 1, 2, 3], np.int16).reshape(2, 2, 2)
    volume = read_volume(stored_las(tmp_path / "in.nii", data))
    delta = np.array([-10.0, -0.6, 0.4, 10.0, -0.4, 0.6, 0.0, 0.0], np.float32).reshape(2, 2, 2)
    changed = volume.data + delta
    out = write_nifti(tmp_path / "k.nii", changed, volume.affine, like=volume.header, dtype="keep")
    written = nib.load(out)
    assert written.get_data_dtype() == np.int16
    expected = np.clip(np.round(changed), -32768, 32767)
    np.testing.assert_array_equal(read_volume(out).data, expected)
    floats = write_nifti(tmp_path / "f.nii", changed, volume.affine, volume.header, "float32")
    assert nib.load(floats).get_data_dtype() == np.float32
    np.testing.assert_array_equal(read_volume(floats).data, changed)


def test_keep_keeps_the_stored_scaling(tmp_path, stored_las):
    """int16 with slope 0.01: rounding the values themselves to integers would lose them."""
    raw = np.arange(24, dtype=np.int16).reshape(2, 4, 3) * 37
    volume = read_volume(stored_las(tmp_path / "in.nii.gz", raw, slope=0.01, inter=-3.0))
    out = write_nifti(
        tmp_path / "k.nii.gz", volume.data + 0.004, volume.affine, volume.header, "keep"
    )
    written = nib.load(out)
    assert written.get_data_dtype() == np.int16
    assert (written.dataobj.slope, written.dataobj.inter) == pytest.approx((0.01, -3.0))
    np.testing.assert_allclose(read_volume(out).data, volume.data, atol=1e-5)


def test_bad_dtype_for_write_nifti(tmp_path):
    with pytest.raises(ValueError, match="needs the source header"):
        write_nifti(tmp_path / "a.nii", np.zeros((2, 2, 2)), np.eye(4), dtype="keep")
    with pytest.raises(ValueError, match="dtype must be"):
        write_nifti(tmp_path / "a.nii", np.zeros((2, 2, 2)), np.eye(4), dtype="int8")
    assert nib.load(write_nifti(tmp_path / "a.nii", np.zeros((2, 2)), np.eye(4))).shape == (2, 2, 1)


def test_describe_gives_the_canonical_order_as_read_volume_does(tmp_path):
    """Stored ASR (disk axis 0 runs anterior, 1 superior, 2 right): RAS is disk axes 2, 0, 1."""
    affine = np.array([[0, 0, 1.0, 0], [2.0, 0, 0, 0], [0, 3.0, 0, 0], [0, 0, 0, 1]])
    data = np.random.default_rng(0).random((3, 4, 5, 2)).astype(np.float32)
    path = nifti(tmp_path / "asr.nii", data, affine)
    info = describe_nifti(path)
    assert info["disk_orientation"] == "ASR" and info["orientation"] == "RAS"
    assert info["shape"] == [5, 3, 4, 2] and info["voxel_sizes"] == [1.0, 2.0, 3.0]
    assert info["volumes"] == 2 and info["min"] == pytest.approx(float(data.min()))
    volume = read_volume(path, volume=1)
    assert list(volume.data.shape) == info["shape"][:3]
    assert list(volume.voxel_sizes) == info["voxel_sizes"]


def test_rgb_image_is_read_as_luminance_with_a_warning(tmp_path):
    """An RGB PNG becomes one grey plane, and the user is told (it was silent)."""
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[..., 1] = 100
    write_image(tmp_path / "rgb.png", rgb)
    with pytest.warns(BioscopeWarning, match=r"rgb\.png: an RGB image, read as its luminance"):
        volume = read_volume(tmp_path / "rgb.png")
    assert volume.data.shape == (4, 5) and np.allclose(volume.data, 100 * 0.587, atol=0.01)
    write_image(tmp_path / "grey.png", np.repeat(rgb[..., 1:2], 3, axis=-1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # grey stored as RGB loses nothing: no warning
        assert np.allclose(read_volume(tmp_path / "grey.png").data, 100, atol=0.01)
