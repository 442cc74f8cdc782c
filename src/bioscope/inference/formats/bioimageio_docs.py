"""What a bioimage.io package says about itself: its README, citations and cover image.

The README says what the model is, what the package's preprocessing does and where it differs
from bioscope's own (:mod:`bioscope.data.intensity`), and how to turn the output into bioscope's
results. A model card beside the checkpoint (``cells-default.md`` beside
``cells-default.safetensors``) is appended as it is: the shipped models' cards say what they were
trained on.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bioscope.data.intensity import MAX_STRETCH, NOISE_SPAN
from bioscope.inference.spec import CellSpec, SRSpec

#: Citation of the paper behind the cell model (its arXiv DOI; the ICMLA'20 version is titled
#: "Optimizing CNN using Fast Fourier Transformation for Object Recognition").
CELL_CITATION = {
    "text": "Nair V, Chatterjee M, Tavakoli N, Siami Namin A, Snoeyink C. Fast Fourier "
    "Transformation for Optimizing Convolutional Neural Networks in Object Recognition. "
    "arXiv:2010.04257 (2020); IEEE ICMLA 2020.",
    "doi": "10.48550/arXiv.2010.04257",
}
#: Citation of the paper behind the SR model.
SR_CITATION = {
    "text": "Tan C, Zhu J, Lio' P. Arbitrary Scale Super-Resolution for Brain MRI Images. "
    "Artificial Intelligence Applications and Innovations (AIAI 2020), IFIP AICT 583, "
    "pp. 165-176. Springer (2020).",
    "doi": "10.1007/978-3-030-49161-1_15",
}
#: What the two weight formats need, in every README.
WEIGHTS = """## Weights

`torchscript` needs only a TorchScript runtime (what deepImageJ, QuPath, ilastik and
bioimageio.core load); `pytorch_state_dict` builds the network with bioscope's own code
(`bioscope.inference.formats.bioimageio`), so it needs bioscope installed. Both give the same
outputs (bioimageio.core's test-run checks)."""
#: Height the cover image is enlarged to (at least), by a whole factor.
COVER_HEIGHT = 256


def model_card(checkpoint: str | os.PathLike[str]) -> str:
    """The model card beside ``checkpoint`` (same name, ``.md``), or ``""`` when there is none."""
    card = Path(checkpoint).with_suffix(".md")
    return card.read_text(encoding="utf-8") if card.is_file() else ""


def cell_readme(
    title: str, spec: CellSpec, channels: list[str], info: dict[str, Any], card: str
) -> str:
    """The README of cell package ``title``: the model, its input and output, how its
    preprocessing differs from bioscope's, and the model card (``info``: ``model``,
    ``checkpoint``)."""
    norm = spec.normalization
    size = (
        f"Nuclei should be about {spec.diameter:g} px across, as in training: rescale images "
        "with much smaller or larger nuclei first (what bioscope's `--diameter` does)."
        if spec.diameter is not None
        else "Images are taken at the resolution the model was trained at."
    )
    distance = (
        "\n  - `centre_distance`: the per-nucleus distance map (1 at nucleus centres, falling "
        "to 0 at their edges);"
        if len(channels) > 1
        else ""
    )
    return f"""# {title}

bioscope's `{info["model"]}` (checkpoint `{info["checkpoint"]}`), a U-Net that segments
fluorescent nuclei in 2-D grey images. bioscope's `fft-unet` models put a Fourier input block
(rfft2, a 3 x 3 convolution on the real and imaginary parts, irfft2) in front of the U-Net of Nair
et al. (2020).

## Input and output

- Input `raw`: one grey channel, any height and width of at least 16 px (the network pads the
  bottom and right by reflection to a multiple of 16 and crops back). {size}
- Output `probabilities`, after the package's `sigmoid`, one channel per network output:
  - `nuclei`: the probability that a pixel is nucleus;{distance}

  bioscope's mask is `nuclei > {spec.threshold:g}`, and it separates and counts nuclei with
  counting method `{spec.method}`; neither is part of the package.

## Preprocessing, and how it differs from bioscope's

The package normalises each image with `scale_range`: `(x - P{norm.low:g}) / (P{norm.high:g} -
P{norm.low:g} + 1e-6)` with P the image's own percentiles (linear interpolation), not clipped.
bioscope (`bioscope cells predict`, `bioscope.segment`) does the same and in addition

1. never divides by less than {NOISE_SPAN:g} times the image's noise sigma (1.4826 times the
   median absolute deviation of its horizontal and vertical pixel differences, over sqrt 2), so
   a field with nothing in it is not stretched until its noise looks like nuclei;
2. never lets the brightest structure (the 3 x 3 median filter's maximum) stand more than
   {MAX_STRETCH:g} spans above P{norm.low:g} (`MAX_STRETCH`), so a field with one or two small
   nuclei on smooth background is not stretched either;
3. turns RGB into grey (0.299 R + 0.587 G + 0.114 B);
4. runs images up to 1024 px a side in one pass and larger ones in 512 px tiles overlapping by
   64 px, blended with a Gaussian weight. bioimage.io tools tile as they do: give them tiles of
   256 px or more, overlapping by 32 px or more (the Fourier block sees the whole tile).

On images with several nuclei, 1 and 2 do not apply and the package gives bioscope's
probabilities. On empty or nearly empty fields the package stretches the background further
than bioscope and may find nuclei in noise.

{WEIGHTS}

## Validation

bioscope's tests build this package from the shipped checkpoint, test-run it offline with
`bioimageio.core` (both weight formats), and check that its output on the test image equals
bioscope's own probabilities within 1e-4. For accuracy on real and simulated data see the model
card below.

## Citation

{CELL_CITATION["text"]} https://doi.org/{CELL_CITATION["doi"]}

{card}"""


def sr_readme(title: str, spec: SRSpec, scale: Fraction, info: dict[str, Any], card: str) -> str:
    """The README of SR package ``title`` at ``scale``: the model, its input and output, how
    its preprocessing differs from bioscope's, and the model card."""
    low, high = spec.normalization
    p, q = scale.numerator, scale.denominator
    rows = f"{p} h" if q == 1 else f"floor({p} h / {q})"
    return f"""# {title}

bioscope's `{info["model"]}` (checkpoint `{info["checkpoint"]}`), trained on scales
{spec.scales[0]:g} to {spec.scales[1]:g}. bioscope's `meta-srgan` (Tan, Zhu and Lio' 2020) is
an SRResNet body with a Meta-Upscale head and a bicubic skip, one network for every scale; a
bioimage.io package cannot take the scale as an input, so this one holds it at
x{float(scale):g} (`bioscope sr export --format bioimageio --scale S` writes others).

## Input and output

- Input `lr`: one grey channel (an MRI slice, or one plane of a volume), h x w pixels, each
  at least 2.
- Output `sr`: {rows} x {rows.replace("h", "w")} pixels, in the input's normalised units
  (below). Output pixel i sits at input coordinate (i + 1/2) / {float(scale):g} - 1/2.

## Preprocessing, and how it differs from bioscope's

The package normalises each input with `scale_range`: `(x - min) / (P{high:g} - min + 1e-6)`
over all its pixels, not clipped, and leaves the output in these units: multiply it by
`P{high:g} - min + 1e-6` and add `min` to return to the input's. bioscope (`bioscope sr upscale`,
`bioscope.upscale`) instead

1. takes one window for a whole volume, from its voxels above zero: `lo = min(P{low:g}, 0)`,
   which is 0, and `hi = P{high:g}`. The package's lower bound is the input's minimum: the same
   for MRI with air at 0. Its P{high:g} is taken over every pixel of one slice, air included: on
   the built-in template's axial slices 60-130 it lies within 5% of bioscope's hi, and up to
   17% below it on slices near the top and bottom of the head;
2. maps the output back to the input's units, and clips integer data to the input's range.

Give the package whole slices: a tile of a slice is normalised by its own percentiles. The
network learned from the low-resolution images its model card names (the shipped model: a
mixture of antialiased bicubic downsampling, k-space truncation and thick slices); this package
enlarges both axes by one scale.

{WEIGHTS}

## Validation

bioscope's tests build this package from the shipped checkpoint, test-run it offline with
`bioimageio.core` (both weight formats), and check that its output on the test image equals
bioscope's upscaler on the same normalised input within 1e-4. For accuracy on held-out MRI
slices see the model card below.

## Citation

{SR_CITATION["text"]} https://doi.org/{SR_CITATION["doi"]}

{card}"""


def write_cover(path: Path, left: np.ndarray, right: np.ndarray) -> Path:
    """Write ``left | right`` as a grey PNG: 2-D arrays in normalised units, 0 black and 1
    white (clipped); ``left`` is enlarged to ``right``'s size by nearest neighbour, and both by a
    whole factor to at least :data:`COVER_HEIGHT` px high."""
    height, width = right.shape
    panels = [
        Image.fromarray((np.clip(a, 0, 1) * 255).round().astype(np.uint8)) for a in (left, right)
    ]
    cover = Image.new("L", (2 * width, height))
    cover.paste(panels[0].resize((width, height), Image.Resampling.NEAREST), (0, 0))
    cover.paste(panels[1], (width, 0))
    factor = -(-COVER_HEIGHT // height)
    cover.resize((2 * width * factor, height * factor), Image.Resampling.NEAREST).save(path)
    return path
