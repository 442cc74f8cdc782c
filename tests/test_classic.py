"""The classic baseline on hand-made images with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from bioscope.classic import estimate_diameter, segment_classic
from bioscope.errors import InputError
from bioscope.inference.cells import CellPredictor
from bioscope.inference.spec import CellSpec
from bioscope.models import create_model


def discs(shape, centres, radius, rng=None, noise=0.0):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = np.zeros(shape)
    for y, x in centres:
        image[(yy - y) ** 2 + (xx - x) ** 2 <= radius**2] = 1.0
    if noise:
        image = image + (rng or np.random.default_rng(0)).normal(0, noise, shape)
    return image


@pytest.mark.parametrize("radius", [4, 10, 25])
def test_isolated_and_touching_nuclei_of_any_size(radius):
    d = 2 * radius
    centres = [(2 * d, 2 * d), (2 * d, 5 * d), (5 * d, 2 * d), (5 * d, 2 * d + int(1.7 * radius))]
    image = discs((7 * d, 7 * d), centres, radius, noise=0.1)
    result = segment_classic(image, diameter=d)
    assert result.count == 4 and len(np.unique(result.labels)) == 5


def test_nothing_in_noise_or_a_flat_image():
    noise = np.random.default_rng(1).normal(0.0, 1.0, (80, 80))
    assert segment_classic(noise, diameter=16).count == 0
    assert segment_classic(np.ones((20, 20)), diameter=16).count == 0


def test_specks_smaller_than_a_quarter_nucleus_are_dropped():
    image = discs((80, 80), [(20, 20)], 8) + discs((80, 80), [(60, 60)], 2)
    assert segment_classic(image, diameter=16).count == 1


def test_bad_arguments():
    with pytest.raises(InputError, match="2-D"):
        segment_classic(np.zeros((2, 3, 4)), 10)
    with pytest.raises(InputError, match="diameter"):
        segment_classic(np.zeros((8, 8)), -1)


def test_predictor_method_classic_needs_no_network_output():
    net = create_model("unet-tiny")
    predictor = CellPredictor(net, CellSpec(method="classic", diameter=16.0), "t", "cpu")
    image = (discs((64, 96), [(20, 20), (40, 70)], 8, noise=0.05) * 200 + 10).clip(0, 255)
    result = predictor.segment(image.astype(np.uint8))
    assert result.count == 2 and result.method == "classic" and result.maps.shape == (1, 64, 96)
    assert predictor.segment(image.astype(np.uint8), diameter=40).count >= 1


@pytest.mark.parametrize("zoom", [0.5, 1.0, 2.0, 3.0])
def test_diameter_estimate_follows_the_image_scale(zoom):
    """A simulated field and its rescaled copies: the estimate scales with them (within 15%)."""
    from scipy import ndimage

    from bioscope.data.targets import median_diameter
    from bioscope.samples import nuclei_field

    image, labels = nuclei_field(count=40, seed=6)
    truth = median_diameter([labels])
    scaled = ndimage.zoom(image.astype(np.float32), zoom, order=1)
    estimate = estimate_diameter(scaled)
    assert estimate is not None and abs(estimate / (truth * zoom) - 1) < 0.15, (estimate, truth)


def test_diameter_estimate_is_the_same_at_half_and_twice_the_size():
    """The nuclei of one field measured at 0.5x, 1x and 2x agree within 4% once scaled back (a
    fixed 1 px smoothing read the half-size copies 7% and 16% larger)."""
    from scipy import ndimage

    from bioscope.data.intensity import PercentileNorm
    from bioscope.data.randomised import RandomisedParams, simulate_randomised
    from bioscope.samples import nuclei_field

    randomised = simulate_randomised(102, RandomisedParams(side_px=(128, 384))).image
    for image in (nuclei_field(count=40, seed=6)[0], PercentileNorm().normalize(randomised).image):
        image = np.asarray(image, np.float32)
        sizes = [estimate_diameter(ndimage.zoom(image, z, order=1)) / z for z in (0.5, 1, 2)]
        assert max(sizes) - min(sizes) <= 0.04 * max(sizes), sizes


def test_no_estimate_without_objects():
    assert estimate_diameter(np.random.default_rng(0).normal(0, 1, (64, 64))) is None


def test_diameter_estimate_on_randomised_fields_of_every_look():
    """Fields of 8..60 px nuclei, 8/12/16-bit, haze, uneven background, noise: the estimate is
    within 25% of the labels' median diameter on at least 9 of 10 fields."""
    from bioscope.data.intensity import PercentileNorm
    from bioscope.data.randomised import RandomisedParams, simulate_randomised
    from bioscope.data.targets import median_diameter

    params = RandomisedParams(side_px=(128, 384))
    ratios = []
    for seed in range(100, 112):
        field = simulate_randomised(seed, params)
        if field.count < 3:
            continue
        image = PercentileNorm().normalize(field.image).image
        estimate = estimate_diameter(image)
        ratios.append(estimate / median_diameter([field.labels]) if estimate else 0.0)
    assert len(ratios) >= 10
    assert np.mean(np.abs(np.array(ratios) - 1) < 0.25) >= 0.9, np.round(ratios, 2)
