"""One process or many: the torchrun environment, DistributedDataParallel and feature gathering.

Under ``torchrun --nproc_per_node N`` the ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` variables are set and every rank
joins one process group: NCCL when it drives a CUDA GPU, gloo on CPUs. Without them everything runs in one
process and these helpers are no-ops.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

from edgebind.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands.

    Attributes:
        rank: global rank (0 in one process).
        world_size: number of ranks (1 in one process).
        local_rank: rank on this machine; picks the GPU.
        device: the torch device this rank computes on.
        backend: "nccl", "gloo" or "" (no process group).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    backend: str = ""

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def pick_device(device: str = "auto", local_rank: int = 0) -> torch.device:
    """"auto" -> this rank's CUDA GPU if there is one, else CPU; "cpu"/"cuda"/"cuda:N" as given.

    Raises:
        ConfigError: CUDA was asked for but is not available.
    """
    if device == "auto":
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {device} asked for CUDA but torch {torch.__version__} sees no GPU; "
                          "use --device cpu.")
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local_rank)
    return dev


def init_distributed(device: str = "auto") -> DistEnv:
    """Join torchrun's process group when its variables are set; otherwise a single-process env.

    Args:
        device: "auto", "cpu", "cuda" (this rank's local GPU) or "cuda:N".

    Returns:
        The :class:`DistEnv`; with several ranks the default process group is initialised.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local_rank)
    if world <= 1:
        return DistEnv(device=dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    logger.info("rank %d/%d on %s (%s)", rank, world, dev, backend)
    return DistEnv(rank, world, local_rank, dev, backend)


def shutdown(env: DistEnv) -> None:
    """Leave the process group (no-op in one process)."""
    if env.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(env: DistEnv) -> None:
    """Wait for every rank (no-op in one process)."""
    if env.distributed:
        if env.backend == "nccl":
            dist.barrier(device_ids=[env.device.index or 0])
        else:
            dist.barrier()


def gather_rows(x: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """All ranks' (b, ...) tensors concatenated in rank order; the local rows keep their autograd graph.

    Every rank must pass the same ``b``. The other ranks' rows carry no gradient, so each rank's backward only
    reaches its own rows (open_clip's ``gather_with_grad=False``); callers multiply a global loss by
    ``world_size`` so that DDP's gradient average equals the one-process gradient.
    """
    if not env.distributed:
        return x
    parts = [torch.empty_like(x) for _ in range(env.world_size)]
    dist.all_gather(parts, x.detach().contiguous())
    parts[env.rank] = x
    return torch.cat(parts)


def all_reduce_mean(values: dict[str, float], env: DistEnv) -> dict[str, float]:
    """Mean of scalar logs across ranks (for display only)."""
    if not env.distributed or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=env.device)
    dist.all_reduce(t)
    return {k: float(v) / env.world_size for k, v in zip(keys, t.tolist(), strict=True)}


def gather_strided_rows(local: torch.Tensor, total: int, env: DistEnv) -> torch.Tensor:
    """Rebuild a (total, ...) tensor whose row i was computed by rank ``i % world_size``.

    Args:
        local: (ceil-or-floor(total / world), ...) rows ``rank::world_size`` computed here.
        total: number of rows in all.
        env: the distributed env.
    """
    if not env.distributed:
        return local
    per = -(-total // env.world_size)
    pad = torch.zeros((per, *local.shape[1:]), dtype=local.dtype, device=local.device)
    pad[: len(local)] = local
    parts = [torch.empty_like(pad) for _ in range(env.world_size)]
    dist.all_gather(parts, pad)
    out = torch.empty((total, *local.shape[1:]), dtype=local.dtype, device=local.device)
    for r, part in enumerate(parts):
        n = len(range(r, total, env.world_size))
        out[r::env.world_size] = part[:n]
    return out
