"""The npe2 manifest: valid, every command importable, and found through the entry point."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

npe2 = pytest.importorskip("npe2", reason="the manifest is checked with the napari extra")

import bioscope.napari  # noqa: E402

MANIFEST = Path(bioscope.napari.__file__).with_name("napari.yaml")


def test_manifest_is_valid_and_imports() -> None:
    manifest = npe2.PluginManifest.from_file(MANIFEST)
    assert manifest.name == "bioscope"
    manifest.validate_imports()  # every python_name resolves to a callable
    contributions = manifest.contributions
    commands = {c.id for c in contributions.commands}
    used = [w.command for w in contributions.widgets]
    used += [r.command for r in contributions.readers] + [
        s.command for s in contributions.sample_data
    ]
    assert set(used) == commands
    assert {s.key for s in contributions.sample_data} == {"nuclei", "mri_slice", "mri_volume"}
    assert contributions.readers[0].filename_patterns == ["*.nii", "*.nii.gz"]


def test_entry_point_names_the_manifest() -> None:
    [point] = [e for e in entry_points(group="napari.manifest") if e.name == "bioscope"]
    assert point.value == "bioscope.napari:napari.yaml"
    assert npe2.PluginManifest.from_distribution("bioscope").name == "bioscope"
