"""Exporting the shipped kinds of model as TorchScript, ONNX or bioimage.io packages, beside
their safetensors weights.

* :func:`~bioscope.inference.formats.exporters.export_cell_model`,
  :func:`~bioscope.inference.formats.exporters.export_sr_model`: one call per file and its
  JSON sidecar (what ``bioscope cells export`` and ``bioscope sr export`` run), whatever the
  format.
* :mod:`~bioscope.inference.formats.choices`: the formats, their file endings and the packages
  each needs.
* :mod:`~bioscope.inference.formats.bioimageio`: bioimage.io model packages.
* :mod:`~bioscope.inference.formats.graphs`: the networks as exported.
* :mod:`~bioscope.inference.formats.dft`: matrix-product DFTs for ONNX.
* :mod:`~bioscope.inference.formats.writers`: TorchScript and ONNX files, written atomically.
"""

from bioscope.inference.formats.choices import BIOIMAGEIO, FORMATS, sidecar_path
from bioscope.inference.formats.exporters import export_cell_model, export_sr_model

__all__ = ["BIOIMAGEIO", "FORMATS", "export_cell_model", "export_sr_model", "sidecar_path"]
