"""The latest-brief reads of concurrent requests are gathered: the keys asked for while a batch reads are read together
in the next one (requests for one key sharing a read), errors reach every waiting reader, a reader who left leaves no
unretrieved error, and nothing is kept afterwards."""

from __future__ import annotations

import asyncio
import threading

import pytest
from podbrief_notify.context import Batcher


class Loads:
    """A `load_many` that records its batches and blocks until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.fail = False

    def __call__(self, keys: list[str]) -> dict[str, str | None]:
        self.batches.append(list(keys))
        self.release.wait(5)
        if self.fail:
            raise RuntimeError("the store is gone")
        n = len(self.batches)
        return {k: f"{k}-{n}" for k in keys if k != "nobody"}


async def _asked(batcher: Batcher, *keys: str) -> list[asyncio.Task]:
    tasks = [asyncio.create_task(batcher.get(k)) for k in keys]
    await asyncio.sleep(0.05)  # every one has asked
    return tasks


async def test_concurrent_reads_are_gathered_into_batches_and_share_a_key():
    loads = Loads()
    batcher = Batcher(loads, parallel=1)
    first = await _asked(batcher, "a", "a")  # the first batch starts at once with "a"
    later = await _asked(batcher, "b", "c", "a", "b", "nobody")  # asked while it reads: the next batch
    assert loads.batches == [["a"]]
    loads.release.set()
    assert await asyncio.gather(*first) == ["a-1", "a-1"]
    # "a" asked while its read was under way waits for the next one: that read may have begun before what the caller
    # expects to see (a brief just announced by its webhook) was committed.
    assert await asyncio.gather(*later) == ["b-2", "c-2", "a-2", "b-2", None]
    assert loads.batches == [["a"], ["b", "c", "a", "nobody"]]
    # Nothing is kept: the next request reads again.
    assert await batcher.get("a") == "a-3"


async def test_a_failed_batch_fails_each_of_its_readers_and_the_next_reads_again():
    loads = Loads()
    loads.fail = True
    loads.release.set()
    batcher = Batcher(loads, parallel=1)
    tasks = await _asked(batcher, "a", "b")
    for task in tasks:
        with pytest.raises(RuntimeError, match="the store is gone"):
            await task
    loads.fail = False
    assert await batcher.get("b") == f"b-{len(loads.batches)}"


async def test_a_batch_holds_at_most_its_size_and_the_rest_follow():
    loads = Loads()
    batcher = Batcher(loads, parallel=1, most=2)
    tasks = await _asked(batcher, "a", "b", "c", "d", "e")
    loads.release.set()
    assert await asyncio.gather(*tasks) == ["a-1", "b-1", "c-2", "d-2", "e-3"]
    assert loads.batches == [["a", "b"], ["c", "d"], ["e"]]


async def test_a_failed_read_whose_readers_all_left_logs_no_unretrieved_error():
    import gc

    loads = Loads()
    loads.fail = True
    batcher = Batcher(loads, parallel=1)
    unhandled: list[dict] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        (task,) = await _asked(batcher, "a")
        task.cancel()  # the client hung up
        loads.release.set()
        while batcher._running:
            await asyncio.sleep(0.01)
        del task
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert unhandled == []
