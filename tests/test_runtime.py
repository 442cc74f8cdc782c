from __future__ import annotations

import sys

import pytest

from bioscope.runtime import ENV, tune_allocator


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_allocator_tuning_takes_on_glibc_and_can_be_switched_off(monkeypatch):
    assert tune_allocator() is True
    monkeypatch.setenv(ENV, "default")
    assert tune_allocator() is False
