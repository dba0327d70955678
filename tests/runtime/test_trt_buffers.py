"""The TensorRT runner frees its device buffers on every error while binding them.

TensorRT and a GPU cannot be installed here, so the engine's execution context and cudaMalloc are stood in for by
two small recorders; what is under test is edgebind's own bookkeeping (``runtime.trt.bind_buffers``), which the
runner's ``activate`` uses for every buffer it allocates.
"""

from __future__ import annotations

import pytest

from edgebind.errors import BundleError
from edgebind.runtime.trt import bind_buffers


class Allocations:
    """Hands out numbered 'device pointers' and records which are still allocated."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.live: set[int] = set()
        self.count = 0
        self.fail_at = fail_at

    def __call__(self, nbytes: int) -> Allocations.Buffer:
        self.count += 1
        if self.count == self.fail_at:
            raise BundleError("CUDA cudaMalloc failed: cudaErrorMemoryAllocation.")
        return Allocations.Buffer(self, self.count)

    class Buffer:
        def __init__(self, owner: Allocations, ptr: int) -> None:
            self.owner, self.ptr = owner, ptr
            owner.live.add(ptr)

        def close(self) -> None:
            self.owner.live.discard(self.ptr)


class Context:
    def __init__(self, refuse: str | None) -> None:
        self.refuse = refuse
        self.addresses: dict[str, int] = {}

    def set_tensor_address(self, name: str, ptr: int) -> bool:
        if name == self.refuse:
            return False
        self.addresses[name] = ptr
        return True


SIZES = [("imu", 4 * 6 * 2000), ("embedding", 4 * 1024)]


def test_all_buffers_bound_on_success() -> None:
    alloc, ctx = Allocations(), Context(refuse=None)
    bufs = bind_buffers(ctx, SIZES, alloc, "imu.engine")
    assert [b.ptr for b in bufs] == [1, 2] and ctx.addresses == {"imu": 1, "embedding": 2}
    assert alloc.live == {1, 2}


@pytest.mark.parametrize("refuse", ["imu", "embedding"])
def test_refused_address_frees_every_buffer(refuse: str) -> None:
    alloc = Allocations()
    with pytest.raises(BundleError, match=f"TensorRT refused the device address of '{refuse}' in imu.engine; rebuild"):
        bind_buffers(Context(refuse), SIZES, alloc, "imu.engine; rebuild it: edgebind build-engine B")
    assert alloc.live == set()


def test_failed_allocation_frees_the_earlier_buffers() -> None:
    alloc = Allocations(fail_at=2)
    with pytest.raises(BundleError, match="cudaMalloc failed"):
        bind_buffers(Context(None), SIZES, alloc, "imu.engine")
    assert alloc.count == 2 and alloc.live == set()
