"""Multi-process training set-up read from torchrun's environment (gloo on CPU, nccl on GPU)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from bioscope.device import resolve_device

#: Seconds the main thread leaves the GIL to gloo's threads before the process group is freed.
GLOO_GRACE_S = 0.5


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: rank, world size, device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process (rank 0) writes files and shows progress."""
        return self.rank == 0

    def wrap(self, net: nn.Module) -> nn.Module:
        """Wrap ``net`` in DDP when distributed, else return it."""
        if not self.distributed:
            return net
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(net, device_ids=device_ids)


def init_distributed(device: str | None = None) -> DistContext:
    """Read ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` (set by torchrun) and join the process group.

    Without those variables this is a single process. The backend is nccl when CUDA is used, gloo
    otherwise. ``device`` forces ``"cpu"`` or ``"cuda"``; by default CUDA is used when present.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = resolve_device(device).type == "cuda"
    if use_cuda:
        torch.cuda.set_device(local_rank)
        chosen = torch.device("cuda", local_rank)
    else:
        chosen = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return DistContext(rank, world_size, local_rank, chosen)


def close_distributed(context: DistContext) -> None:
    """Leave the process group, if one was joined, after a barrier: a rank that tears the group
    down while its peer still uses it can leave that peer hanging at exit. Then a pause with the
    GIL released, so gloo's worker thread can free its finished work first: freeing a tensor
    Python made (``all_gather_object``'s buffers, held by the barrier's work) takes the GIL, and
    the main thread holds the GIL while it frees the group at exit, joining that thread (a
    deadlock two-rank CPU runs now and then hit at exit, seen with gdb)."""
    if context.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
        time.sleep(GLOO_GRACE_S)


def gather_strings(context: DistContext, value: str) -> list[str]:
    """Every rank's ``value``, in rank order (just ``[value]`` in a single process)."""
    if not context.distributed:
        return [value]
    out: list[str | None] = [None] * context.world_size
    dist.all_gather_object(out, value)
    return [str(v) for v in out]
