"""Does the shipped cell model count one scene alike whatever the file looks like?

Prints, per image, the count of its 8-bit, dim 16-bit, half-size and double-size versions with
``diameter="auto"`` and their spread (the issue asks for 5%), then how close the automatic size
estimate comes to the labels' median diameter on 30 randomised simulated fields. The README's
"same nuclei, other files" figures come from::

    .venv/bin/python benchmarks/cells_consistency.py

``--model PATH`` asks the same of another cell checkpoint (e.g. a candidate before shipping).
"""

from __future__ import annotations

import argparse

import numpy as np

from bioscope.classic import estimate_diameter
from bioscope.data.intensity import PercentileNorm
from bioscope.data.randomised import RandomisedParams, simulate_randomised
from bioscope.data.real_nuclei import load_source
from bioscope.data.targets import median_diameter
from bioscope.inference.cells import CellPredictor
from bioscope.samples import file_versions, nuclei_field


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="cell checkpoint (default: the shipped model)")
    predictor = CellPredictor.from_checkpoint(parser.parse_args().model, device="cpu")
    images = [("simulated field (44 nuclei, seed 5)", nuclei_field(count=44, seed=5)[0])]
    for split in ("train", "test"):
        source = f"ndev-scratch-assay:{split}"
        images += [(f"{source} frame {frame}", image) for frame, image, _ in load_source(source)]
    print("| image | 8-bit | dim 16-bit | 0.5x | 2x | spread |\n|---|---|---|---|---|---|")
    for name, image in images:
        counts = [
            predictor.segment(v, diameter="auto").count
            for v in file_versions(image.astype(float)).values()
        ]
        spread = (max(counts) - min(counts)) / max(counts)
        print(f"| {name} | " + " | ".join(map(str, counts)) + f" | {spread:.1%} |")

    ratios = []
    for seed in range(30):
        field = simulate_randomised(seed, RandomisedParams())
        estimate = estimate_diameter(PercentileNorm().normalize(field.image).image)
        ratios.append((estimate or 0.0) / median_diameter([field.labels]))
    errors = np.abs(np.array(ratios) - 1)
    print(
        f"size estimate on 30 randomised fields: {np.sum(errors < 0.25)} within 25% of the "
        f"labels' median diameter, median error {np.median(errors):.1%}, worst {errors.max():.1%}"
    )


if __name__ == "__main__":
    main()
