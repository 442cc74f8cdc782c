from __future__ import annotations

import numpy as np
import png
import pytest
import tifffile

from bioscope.errors import InputError
from bioscope.io import read_image, write_image


@pytest.mark.parametrize("suffix", [".tif", ".png", ".TIF"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(7, 5), (7, 5, 3)])
def test_round_trip(tmp_path, suffix, dtype, shape):
    rng = np.random.default_rng(0)
    image = rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)
    path = write_image(tmp_path / f"x{suffix}", image)
    back = read_image(path)
    assert back.dtype == dtype and back.shape == shape
    np.testing.assert_array_equal(back, image)


def test_compressed_tiff_and_float_tiff_round_trip(tmp_path):
    labels = np.zeros((33, 34), np.uint16)
    labels[3:9, 4:20] = 7
    np.testing.assert_array_equal(
        read_image(write_image(tmp_path / "l.tif", labels, compress=True)), labels
    )
    prob = np.linspace(0, 1, 33 * 34, dtype=np.float32).reshape(33, 34)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "p.tif", prob)), prob)


def test_alpha_is_dropped(tmp_path):
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0] = 9
    back = read_image(write_image(tmp_path / "a.png", rgba))
    assert back.shape == (4, 6, 3) and back[0, 0, 0] == 9
    tifffile.imwrite(tmp_path / "a.tif", rgba, photometric="rgb")  # alpha tagged UNASSALPHA
    assert read_image(tmp_path / "a.tif").shape == (4, 6, 3)


def test_sixteen_bit_grey_with_alpha_png_keeps_its_bits(tmp_path):
    grey = np.arange(24, dtype=np.uint16).reshape(4, 6) * 1000
    rows = np.stack([grey, np.full_like(grey, 65535)], -1).reshape(4, 12)
    with (tmp_path / "la.png").open("wb") as handle:
        png.Writer(6, 4, greyscale=True, alpha=True, bitdepth=16).write(handle, rows.tolist())
    back = read_image(tmp_path / "la.png")
    assert back.dtype == np.uint16 and (back == grey).all()


def test_interleaved_samples_that_are_not_rgb_are_channels(tmp_path):
    """Samples within each pixel are RGB only when the TIFF says so: two grey samples (an OME
    two-channel image), or RGB plus an extra sample not tagged alpha, are channels to pick
    from, not an image with its last sample dropped as alpha."""
    two = np.stack([np.full((8, 9), 10, np.uint16), np.full((8, 9), 20, np.uint16)], -1)
    tifffile.imwrite(tmp_path / "two.tif", two, photometric="minisblack", planarconfig="contig")
    with pytest.raises(InputError, match=r"two\.tif: holds 2 channels \(axes CYX"):
        read_image(tmp_path / "two.tif")
    assert (read_image(tmp_path / "two.tif", channel=1) == 20).all()
    four = np.concatenate([two, two], -1)
    tifffile.imwrite(tmp_path / "four.tif", four, photometric="rgb", extrasamples=["unspecified"])
    with pytest.raises(InputError, match="holds 4 channels"):
        read_image(tmp_path / "four.tif")
    tifffile.imwrite(
        tmp_path / "three.tif", four[..., :3], photometric="minisblack", planarconfig="contig"
    )
    with pytest.raises(InputError, match="holds 3 channels"):
        read_image(tmp_path / "three.tif")


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.tif: no such file"):
        read_image(tmp_path / "nope.tif")


@pytest.mark.parametrize("name", ["junk.tif", "junk.png"])
def test_unreadable_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"this is not an image")
    with pytest.raises(InputError, match=name):
        read_image(tmp_path / name)


def test_unsupported_suffix(tmp_path):
    (tmp_path / "x.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(InputError, match=r"unsupported image format '\.jpg'"):
        read_image(tmp_path / "x.jpg")


def test_stack_refused_unless_allowed(tmp_path):
    tifffile.imwrite(tmp_path / "s.tif", np.zeros((4, 5, 6), np.uint8), photometric="minisblack")
    with pytest.raises(InputError, match=r"stack of planes \(shape \(4, 5, 6\)\)"):
        read_image(tmp_path / "s.tif")
    assert read_image(tmp_path / "s.tif", allow_stack=True).shape == (4, 5, 6)


def test_singleton_page_is_squeezed(tmp_path):
    tifffile.imwrite(tmp_path / "s.tif", np.ones((1, 5, 6), np.uint16))
    assert read_image(tmp_path / "s.tif").shape == (5, 6)


def test_nan_and_empty_refused(tmp_path):
    tifffile.imwrite(tmp_path / "nan.tif", np.full((3, 4), np.nan, np.float32))
    with pytest.raises(InputError, match="NaN"):
        read_image(tmp_path / "nan.tif")
    tifffile.imwrite(tmp_path / "empty.tif", np.zeros((0, 4), np.uint8))
    with pytest.raises(InputError, match="empty"):
        read_image(tmp_path / "empty.tif")


def test_write_refuses_bad_input_and_keeps_old_file(tmp_path):
    path = write_image(tmp_path / "keep.png", np.full((3, 3), 5, np.uint8))
    with pytest.raises(InputError, match="dtype float32"):
        write_image(path, np.zeros((3, 3), np.float32))
    with pytest.raises(InputError, match=r"shape \(3, 3, 3, 3\)"):
        write_image(path, np.zeros((3, 3, 3, 3), np.uint8))
    assert read_image(path)[0, 0] == 5
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]  # no temporary left behind


def test_planar_rgb_stack_is_reported_with_its_channels_moved(tmp_path):
    """A (2, 3, H, W) planar RGB TIFF: the refusal says the channels were moved last, so the
    shape it shows is not mistaken for the file's own axis order."""
    tifffile.imwrite(
        tmp_path / "p.tif",
        np.zeros((2, 3, 8, 9), np.uint8),
        photometric="rgb",
        planarconfig="separate",
    )
    with pytest.raises(
        InputError, match=r"a 4-D array \(shape \(2, 8, 9, 3\), channels moved last\)"
    ):
        read_image(tmp_path / "p.tif")


def test_channel_picks_the_nuclear_stain(tmp_path):
    """``channel`` keeps one channel of an RGB PNG or a (C, H, W) TIFF, and names what is wrong
    when there is no such channel or no way to tell the channel axis."""
    rgb = np.zeros((8, 9, 3), np.uint8)
    rgb[..., 1], rgb[..., 2] = 3, 7
    write_image(tmp_path / "rgb.png", rgb)
    assert (read_image(tmp_path / "rgb.png", channel=2) == 7).all()
    planes = np.stack([np.full((8, 9), i, np.uint16) for i in (10, 20)])
    tifffile.imwrite(tmp_path / "chw.tif", planes, photometric="minisblack")
    assert (read_image(tmp_path / "chw.tif", channel=1) == 20).all()
    write_image(tmp_path / "grey.png", np.ones((8, 9), np.uint8))
    assert read_image(tmp_path / "grey.png", channel=0).shape == (8, 9)
    with pytest.raises(InputError, match=r"rgb\.png: no channel 3; the image has 3 \(0 to 2\)"):
        read_image(tmp_path / "rgb.png", channel=3)
    with pytest.raises(InputError, match=r"grey\.png: no channel 1; the image has 1"):
        read_image(tmp_path / "grey.png", channel=1)
    tifffile.imwrite(
        tmp_path / "tc.tif", np.zeros((2, 3, 8, 9), np.uint8), photometric="minisblack"
    )
    with pytest.raises(InputError, match=r"cannot tell which axis of shape \(2, 3, 8, 9\)"):
        read_image(tmp_path / "tc.tif", channel=1)


def test_channel_follows_the_tiff_axes(tmp_path):
    """ImageJ and OME metadata name a TIFF's axes: ``channel`` takes the ``C`` axis of a ZCYX
    hyperstack, is refused on a Z-stack or time series (its planes are not channels), and a
    file with several named channels and none picked is refused, not read as a stack."""
    zcyx = np.arange(2 * 3, dtype=np.uint16).reshape(2, 3, 1, 1) * np.ones((1, 1, 8, 9), np.uint16)
    tifffile.imwrite(tmp_path / "zc.tif", zcyx, imagej=True, metadata={"axes": "ZCYX"})
    assert (read_image(tmp_path / "zc.tif", channel=1, allow_stack=True) == zcyx[:, 1]).all()
    with pytest.raises(InputError, match="a stack of planes"):
        read_image(tmp_path / "zc.tif", channel=1)
    cyx = zcyx[1]
    tifffile.imwrite(tmp_path / "c.tif", cyx, imagej=True, metadata={"axes": "CYX"})
    assert (read_image(tmp_path / "c.tif", channel=2) == 5).all()
    with pytest.raises(InputError, match=r"c\.tif: no channel 3; the image has 3"):
        read_image(tmp_path / "c.tif", channel=3)
    for name in ("c.tif", "zc.tif"):
        with pytest.raises(InputError, match=r"holds 3 channels \(axes Z?CYX.*--channel N"):
            read_image(tmp_path / name, allow_stack=True)
    tifffile.imwrite(tmp_path / "z.tif", cyx, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(tmp_path / "t.ome.tif", cyx, ome=True, metadata={"axes": "TYX"})
    for name, axes in (("z.tif", "ZYX"), ("t.ome.tif", "TYX")):
        with pytest.raises(InputError, match=f"its axes {axes} .* are planes, not channels"):
            read_image(tmp_path / name, channel=0)
        assert read_image(tmp_path / name, allow_stack=True).shape == (3, 8, 9)
