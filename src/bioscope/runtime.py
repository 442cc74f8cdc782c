"""Process-wide CPU settings that the command line applies (importing bioscope changes nothing).

glibc serves every block above its mmap threshold (at most 32 MiB) with a fresh ``mmap`` and
unmaps it on free, so each large activation of a training step or a 696 x 520 prediction is
page-faulted and zero-filled anew by the kernel. On this project's CPU that made element-wise ops
5-7x slower than memory bandwidth allows and a U-Net training step 1.5x slower. Serving all blocks
from the heap and keeping up to 1 GiB of freed memory there removes the faults (jemalloc and
tcmalloc, which PyTorch's CPU tuning guide recommends, do the same by design).
"""

from __future__ import annotations

import ctypes
import os
import sys

#: ``mallopt`` parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: Set to ``default`` to leave the allocator as it is.
ENV = "BIOSCOPE_MALLOC"


def tune_allocator(keep_bytes: int = 1 << 30) -> bool:
    """Serve large blocks from glibc's heap and keep ``keep_bytes`` of freed memory there.

    Returns whether the setting took (False off glibc/Linux or when ``BIOSCOPE_MALLOC=default``).
    """
    if os.environ.get(ENV) == "default" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, keep_bytes))
