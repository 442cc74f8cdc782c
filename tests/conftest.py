"""Shared fixtures: small simulated BBBC005-layout folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bioscope.data.simcep import SimcepParams
from bioscope.data.synthetic import SimulationPlan, simulate_bbbc005

#: A field of 96 x 128 pixels with proportionally smaller cells: fast, same code paths.
SMALL = SimcepParams(height=96, width=128, nucleus_radius=5.0)


@pytest.fixture(scope="session")
def small_plan() -> SimulationPlan:
    return SimulationPlan(counts=(1, 5, 10), blurs=(1, 7, 23), sites=3, seed=7, params=SMALL)


@pytest.fixture(scope="session")
def sim_folder(tmp_path_factory: pytest.TempPathFactory, small_plan: SimulationPlan) -> Path:
    root = tmp_path_factory.mktemp("sim")
    simulate_bbbc005(root, small_plan, workers=1)
    return root
