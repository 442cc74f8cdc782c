"""Inference: one predictor per task, built from a checkpoint's inference spec.

* :class:`~bioscope.inference.cells.CellPredictor`: segment and count cells.
* :class:`~bioscope.inference.superres.SRPredictor`: upscale images and volumes by any scale.

Both share :class:`~bioscope.inference.window.SlidingWindow` (tiles, Gaussian blending, batches,
device) and read their settings through :func:`~bioscope.inference.spec.read_spec`.
"""
