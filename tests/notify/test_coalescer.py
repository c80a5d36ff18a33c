"""Concurrent reads of one user's latest brief share a single store read; nothing is kept afterwards."""

from __future__ import annotations

import asyncio

from podbrief_notify.context import Coalescer


async def test_concurrent_loads_of_one_key_share_a_single_load_and_nothing_is_cached():
    coalescer = Coalescer()
    loads = []
    release = asyncio.Event()

    async def load() -> str:
        number = len(loads) + 1
        loads.append(number)
        await release.wait()
        return f"brief-{number}"

    waiting = [asyncio.create_task(coalescer.get_or_load("user", load)) for _ in range(5)]
    other = asyncio.create_task(coalescer.get_or_load("someone else", load))
    await asyncio.sleep(0.01)  # every reader has asked
    release.set()
    # One load for the five readers of "user", one for the other key.
    assert await asyncio.gather(*waiting) == ["brief-1"] * 5 and await other == "brief-2"
    assert len(loads) == 2
    # The next read after the burst loads again: a new brief is never hidden behind a cached one.
    assert await coalescer.get_or_load("user", load) == "brief-3" and len(loads) == 3
