"""Picture of the SR data pipeline on the built-in template: a slice, its informative crop, HR
patches, and LR versions at x1.5, x2.7 and x4.

    .venv/bin/python scripts/mri_data_figure.py docs/mri-data.png
"""

from __future__ import annotations

import sys

import numpy as np
from matplotlib.figure import Figure

from bioscope.data.degrade import as_scale, degrade
from bioscope.data.mri import informative_crop, random_patches
from bioscope.data.superres import PatchConfig, builtin_slices
from bioscope.report.figures import save_figure


def main(out: str) -> None:
    config = PatchConfig()
    slices = builtin_slices()["test"]
    image = slices[len(slices) // 2]
    crop = informative_crop(image, config.crop)
    patches = random_patches(crop, 3, config.patch, np.random.default_rng(0))
    panels = [(f"template slice {image.shape[0]}x{image.shape[1]}", image),
              (f"informative crop {config.crop}x{config.crop}", crop)]
    panels += [(f"HR patch {i + 1}", p) for i, p in enumerate(patches)]
    for value in ("1.5", "2.7", "4"):
        hr, lr = degrade(patches[0], as_scale(value))
        panels.append((f"patch 1, x{value}: LR {lr.shape[0]}x{lr.shape[1]} of HR {hr.shape[0]}", lr))
    fig = Figure(figsize=(3.2 * 4, 3.4 * 2))
    for ax, (title, panel) in zip(fig.subplots(2, 4).ravel(), panels, strict=True):
        ax.imshow(panel, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    save_figure(fig, out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/mri-data.png")
