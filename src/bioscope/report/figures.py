"""Saving matplotlib figures (object API: no pyplot state, no backend switching)."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure

from bioscope.io import atomic_path


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 100) -> Path:
    """Lay out and save ``fig`` atomically as PNG."""
    with atomic_path(path) as tmp:
        fig.tight_layout()
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)
