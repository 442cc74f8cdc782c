"""The bioscope napari plugin (manifest ``napari.yaml``; install with ``bioscope[napari]``).

* :mod:`~bioscope.napari.cells`: segment and count nuclei (labels and centroid layers).
* :mod:`~bioscope.napari.superres`: super-resolve an image or a volume, placed in the world.
* :mod:`~bioscope.napari.reader`: read NIfTI files as image layers in world (RAS, mm) space.
* :mod:`~bioscope.napari.samples`: a simulated BBBC005 field and the MRI template.
* :mod:`~bioscope.napari.widgets`: the magicgui widgets around the plain functions above.

Every function but the widgets returns napari layer data and imports neither napari nor Qt, so
it runs and is tested without a display.
"""

from typing import Any

#: napari layer data: ``(data, layer keyword arguments, layer type)``.
LayerData = tuple[Any, dict[str, Any], str]
