"""``ycm.aio.AsyncClient``: the calls of ``ycm.Client`` awaited, cancellation that stops the
native call (the relay sees its connection closed) before ``CancelledError`` propagates,
and calls that really run in parallel on the client's pool."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Callable, List

import pytest

import ycm
import ycm.aio
from conftest import TOKEN, Mock
from proxy import Proxy


def public(cls: type) -> "set[str]":
    return {n for n in vars(cls) if not n.startswith("_")}


def test_methods_mirror_the_sync_client() -> None:
    assert public(ycm.Client) - {"__init__"} <= public(ycm.aio.AsyncClient)
    for name in ("update_user", "get_user", "list_users", "iter_users", "set_access_token"):
        sync = inspect.signature(getattr(ycm.Client, name))
        coro = inspect.signature(getattr(ycm.aio.AsyncClient, name))
        assert list(sync.parameters) == list(coro.parameters), name
    init = inspect.signature(ycm.aio.AsyncClient.__init__).parameters
    assert [p for p in init if p != "max_workers"] == list(inspect.signature(ycm.Client.__init__).parameters)


def test_calls_and_iteration(mock: Mock) -> None:
    async def main() -> None:
        async with ycm.aio.AsyncClient(mock.url, TOKEN) as client:
            result = await client.update_user(13329, company="Async Co")
            assert result.http_status == 200
            assert (await client.get_user(13329)).company == "Async Co"
            page = await client.list_users(page_size=5)
            assert len(page.users) == 5
            ids = [user.user_id async for user in client.iter_users(page_size=50)]
            assert len(ids) == page.total == len(set(ids))
            with pytest.raises(ycm.InvalidBodyError):
                await client.update_user(13329, {"nope": 1})
            with pytest.raises(ycm.ApiError):
                await client.get_user(99_999_999)
        assert client.closed
        with pytest.raises(ycm.ClientClosedError):
            await client.get_user(13329)

    asyncio.run(main())
    assert mock.user(13329)["company"] == "Async Co"


def test_cancelling_the_task_stops_the_native_call(mock: Mock) -> None:
    relay = Proxy(mock.url)

    async def main() -> float:
        async with ycm.aio.AsyncClient(relay.url, TOKEN, timeout_ms=60000, max_retries=0) as client:
            await client.get_user(13329)  # the pooled connection
            mock.faults(latency_ms=30_000)
            task = asyncio.create_task(client.get_user(13330))
            await asyncio.sleep(0.3)
            sent = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            delay = time.monotonic() - sent
            # The call had stopped when CancelledError arrived: its connection is closed.
            assert relay.wait_closed(0, timeout=1.0) is not None
            mock.faults()
            assert (await client.get_user(13331)).user_id == 13331
            assert len(relay.snapshot()) == 2
            return delay

    try:
        delay = asyncio.run(main())
    finally:
        relay.close()
    print(f"CancelledError {delay * 1000:.0f} ms after task.cancel()")
    assert delay < 2.0  # the figure is 0.5 s; measured, see the output


@pytest.mark.parametrize("workers", [100, 8])
def test_concurrent_tasks_run_in_parallel(
    start_mock_with: Callable[..., Mock], workers: int
) -> None:
    latency, tasks = 0.05, 100
    mock = start_mock_with("--latency-ms", "50")

    async def main() -> float:
        async with ycm.aio.AsyncClient(mock.url, TOKEN, max_workers=workers) as client:
            await client.get_user(13329)
            started = time.monotonic()
            users: List[ycm.User] = await asyncio.gather(
                *(client.get_user(20001 + n % 117) for n in range(tasks))
            )
            elapsed = time.monotonic() - started
            assert [u.user_id for u in users] == [20001 + n % 117 for n in range(tasks)]
            return elapsed

    elapsed = asyncio.run(main())
    ideal = latency * -(-tasks // workers)
    print(f"{tasks} tasks, {workers} workers: {elapsed * 1000:.0f} ms, {elapsed / ideal:.2f}x the ideal {ideal * 1000:.0f} ms")
    # Generous: guards against calls being serialised (which would take tasks * latency).
    assert elapsed < max(3 * ideal, 0.5 * tasks * latency)
