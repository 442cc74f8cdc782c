"""Multi-process training set-up read from torchrun's environment (gloo on CPU, nccl on GPU)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from bioscope.device import resolve_device

#: Tensors a collective was given from Python, kept for the life of the process. Gloo drops its
#: finished work on its own thread; a tensor whose last owner is that work needs the GIL to be
#: freed, and the main thread holds the GIL while it tears the process group down: two-rank CPU
#: runs now and then hung at exit that way (``all_gather_object``'s buffers, seen with gdb).
_IN_FLIGHT: list[torch.Tensor] = []


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
    down while its peer still uses it can leave that peer hanging at exit."""
    if context.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def gather_strings(context: DistContext, value: str) -> list[str]:
    """Every rank's ``value``, in rank order (just ``[value]`` in a single process)."""
    if not context.distributed:
        return [value]
    device = context.device
    data = torch.tensor(list(value.encode()), dtype=torch.uint8, device=device)
    size = torch.tensor([data.numel()], dtype=torch.int64, device=device)
    sizes = [torch.zeros_like(size) for _ in range(context.world_size)]
    dist.all_gather(sizes, size)
    longest = max(int(n) for n in sizes)
    padded = torch.zeros(longest, dtype=torch.uint8, device=device)
    padded[: data.numel()] = data
    out = [torch.zeros_like(padded) for _ in range(context.world_size)]
    dist.all_gather(out, padded)
    _IN_FLIGHT.extend([size, *sizes, padded, *out])
    return [bytes(t[: int(n)].tolist()).decode() for t, n in zip(out, sizes, strict=True)]
