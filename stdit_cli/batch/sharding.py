"""One batch over many processes: `torchrun` ranks share the inputs, rank 0 merges the reports.

Under `torchrun` (or any launcher that sets `RANK`, `WORLD_SIZE`, `LOCAL_RANK` and the
`MASTER_ADDR`/`MASTER_PORT` rendezvous of `torch.distributed`), every process reads the same
input list, and process `RANK` takes items `RANK, RANK + WORLD_SIZE, ...` of it: a deterministic
round-robin that depends only on the list, so a rerun gives every rank the same inputs again.
Each rank loads the model once, on `cuda:LOCAL_RANK` when CUDA is used (modulo the number of
visible GPUs, so two ranks can share one GPU), or on the CPU with its share of the cores, and
writes its outputs on its own: outputs never collide (the batch refuses two inputs with one
output), so ranks need no coordination while they work.

The only collective is at the end: a `gloo` process group (CPU sockets, no NCCL needed) gathers
every rank's records on rank 0, which writes the merged report and prints the summary. It waits
for the slowest rank (up to `GATHER_TIMEOUT`); a rank that dies or is interrupted breaks the
gather for the others at once, and its own rank report (`report.rankN.jsonl`, written as it
went) still says what it did.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Mapping, Sequence, TypeVar

#: the end-of-batch gather waits this long for the slowest rank
GATHER_TIMEOUT = datetime.timedelta(days=30)

T = TypeVar("T")


class ShardError(RuntimeError):
    """A distributed launch that cannot work (bad RANK/WORLD_SIZE, no rendezvous)."""


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ShardError(f"environment variable {name}={value!r} is not an integer") from None


@dataclass(frozen=True)
class Shard:
    """This process's place among the ranks (rank 0 of 1 without a launcher)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Shard":
        """Read RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE (torchrun sets all four)."""
        world_size = _env_int(env, "WORLD_SIZE", 1)
        rank = _env_int(env, "RANK", 0)
        local_rank = _env_int(env, "LOCAL_RANK", 0)
        local_world_size = _env_int(env, "LOCAL_WORLD_SIZE", 1)
        if world_size < 1 or not 0 <= rank < world_size:
            raise ShardError(f"RANK={rank} and WORLD_SIZE={world_size} do not make sense together")
        if local_world_size < 1 or not 0 <= local_rank < local_world_size:
            raise ShardError(f"LOCAL_RANK={local_rank} and LOCAL_WORLD_SIZE={local_world_size} do not make sense together")
        return cls(rank, world_size, local_rank, local_world_size)

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def take(self, items: Sequence[T]) -> list[T]:
        """This rank's items: every `world_size`-th, starting at `rank`."""
        return list(items[self.rank :: self.world_size])

    def cpu_threads(self) -> int:
        """This process's share of the machine's cores."""
        return max(1, (os.cpu_count() or 1) // self.local_world_size)

    def use_local_gpu(self, device: str) -> None:
        """Make `cuda` mean `cuda:LOCAL_RANK` (modulo the GPUs present) for this process."""
        import torch  # only once a model is about to load: `stdit denoise` of a bad input never imports it

        if device in ("auto", "cuda") and torch.cuda.is_available():
            torch.cuda.set_device(self.local_rank % torch.cuda.device_count())


class RankGroup:
    """The `gloo` process group that brings every rank's records to rank 0 at the end."""

    def __init__(self, shard: Shard):
        self.shard = shard
        self._started = False

    def start(self) -> None:
        """Join the rendezvous (all ranks meet here before any work, so a bad launch fails fast)."""
        if not self.shard.distributed:
            return
        import torch.distributed as dist

        missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if not os.environ.get(name)]
        if missing:
            raise ShardError(f"WORLD_SIZE={self.shard.world_size} but {' and '.join(missing)} not set: launch with torchrun")
        try:
            dist.init_process_group("gloo", rank=self.shard.rank, world_size=self.shard.world_size, timeout=GATHER_TIMEOUT)
        except (RuntimeError, ValueError) as error:
            raise ShardError(f"torch.distributed could not start: {_one_line(error)}") from None
        self._started = True

    def gather(self, records: list[dict]) -> list[dict] | None:
        """Every rank's records on rank 0 (in rank order, flattened); `[]` on the other ranks.

        None when the gather failed (a rank died or was interrupted): then each rank's own
        report is all there is.
        """
        if not self._started:
            return list(records)
        import torch.distributed as dist

        gathered = [None] * self.shard.world_size if self.shard.rank == 0 else None
        try:
            dist.gather_object(records, gathered, dst=0)
        except (RuntimeError, ValueError):
            return None
        if gathered is None:
            return []
        return [record for rank_records in gathered for record in rank_records]

    def close(self) -> None:
        if self._started:
            import torch.distributed as dist

            try:
                dist.destroy_process_group()
            except (RuntimeError, ValueError):
                pass
            self._started = False


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
