from __future__ import annotations

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, MRImageStorage, generate_uid

from bioscope.errors import InputError
from bioscope.io import read_volume, write_nifti


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
