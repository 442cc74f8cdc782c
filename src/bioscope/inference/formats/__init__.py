"""Exporting the shipped kinds of model as TorchScript or ONNX, beside their safetensors weights.

* :func:`~bioscope.inference.formats.exporters.export_cell_model`,
  :func:`~bioscope.inference.formats.exporters.export_sr_model`: one call per file and its
  JSON sidecar (what ``bioscope cells export`` and ``bioscope sr export`` run).
* :mod:`~bioscope.inference.formats.graphs`: the networks as exported.
* :mod:`~bioscope.inference.formats.dft`: matrix-product DFTs for ONNX.
* :mod:`~bioscope.inference.formats.writers`: TorchScript and ONNX files, written atomically.
"""

from bioscope.inference.formats.exporters import (
    FORMATS,
    export_cell_model,
    export_sr_model,
    sidecar_path,
)

__all__ = ["FORMATS", "export_cell_model", "export_sr_model", "sidecar_path"]
