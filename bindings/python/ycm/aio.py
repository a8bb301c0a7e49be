"""asyncio: :class:`AsyncClient` mirrors :class:`ycm.Client` method for method.

>>> import asyncio, ycm.aio
>>> async def main() -> None:
...     async with ycm.aio.AsyncClient("https://ycm.example.com", "ACCESS_TOKEN") as client:
...         await client.update_user(13329, company="New Company Name")
...         async for user in client.iter_users():
...             print(user.user_id, user.company)

Each call runs the blocking native call on a bounded thread pool owned by the client
(``max_workers`` threads, default 8), so at most that many calls are in flight at once and
the event loop never blocks on I/O. Arguments are checked on the event loop's thread before
anything is submitted (refusals raise at once, as in :class:`ycm.Client`). Cancelling the
task that awaits a call (``task.cancel()``, ``asyncio.wait_for`` timing out, a
``TaskGroup`` failing) triggers the call's ``ycm_cancel``: the library stops it within about
100 ms and drops its connection, and the task waits for the native call to end before
``asyncio.CancelledError`` propagates, so nothing of the call outlives the task.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from typing import Any, AsyncIterator, Mapping, Optional, TypeVar, Union

from . import _ffi, _log
from ._calls import Cancel, block_outside_signals, free_out_string
from ._client import (
    Client,
    Operation,
    PbxLimit,
    RecordsLike,
    apply_sync_operation,
    check_progress,
    plan_sync_operation,
    build_update_body,
    get_user_operation,
    list_users_operation,
    more_pages,
    update_operation,
    _user_id,
)
from ._errors import check
from ._sync import ProgressCallback, SyncPlan, SyncReport, apply_options
from ._types import UpdateResult, User, UserPage

__all__ = ["AsyncClient"]

T = TypeVar("T")

DEFAULT_MAX_WORKERS = 8


def _run_native(operation: Operation[Any], handle: Any, cancel: Any) -> _ffi.ycm_status:
    return operation.call(handle, cancel)


class AsyncClient:
    """An asyncio YCM client. Takes the arguments of :class:`ycm.Client`, plus
    ``max_workers``: the size of the client's thread pool, hence the most calls in flight
    at once (default 8).

    Use it as ``async with AsyncClient(...) as client`` or call :meth:`aclose` (or
    :meth:`close`, which blocks) when done; after closing, calls raise
    :class:`ycm.ClientClosedError`. One client may serve any number of tasks; it belongs to
    no particular event loop.
    """

    def __init__(
        self,
        base_url: str,
        access_token: Optional[str] = None,
        *,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        user_agent: Optional[str] = None,
        timeout_ms: Optional[int] = None,
        connect_timeout_ms: Optional[int] = None,
        max_retries: Optional[int] = None,
        retry_base_ms: Optional[int] = None,
        retry_max_ms: Optional[int] = None,
        max_response_bytes: Optional[int] = None,
        ca_file: Optional[str] = None,
        allow_insecure_http: Optional[bool] = None,
        check_reseller_limit: Optional[bool] = None,
        rate_limit: Optional[str] = None,
        shared_state: Optional[str] = None,
        state_dir: Optional[str] = None,
        proxy: Optional[str] = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
    ) -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(f"max_workers must be an int >= 1, got {max_workers!r}")
        self._client = Client(
            base_url,
            access_token,
            client_id=client_id,
            client_secret=client_secret,
            user_agent=user_agent,
            timeout_ms=timeout_ms,
            connect_timeout_ms=connect_timeout_ms,
            max_retries=max_retries,
            retry_base_ms=retry_base_ms,
            retry_max_ms=retry_max_ms,
            max_response_bytes=max_response_bytes,
            ca_file=ca_file,
            allow_insecure_http=allow_insecure_http,
            check_reseller_limit=check_reseller_limit,
            rate_limit=rate_limit,
            shared_state=shared_state,
            state_dir=state_dir,
            proxy=proxy,
        )
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers,
            thread_name_prefix="ycm-aio",
            initializer=block_outside_signals,
        )
        self._max_workers = max_workers

    @classmethod
    def from_profile(
        cls,
        name: Optional[str] = None,
        *,
        config_file: Optional[str] = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
        **options: Any,
    ) -> "AsyncClient":
        """:meth:`ycm.Client.from_profile`, for asyncio (plus ``max_workers``)."""
        from pathlib import Path

        from . import _profile

        keywords = _profile.resolve(
            name,
            options,
            _profile.client_keywords(Client.__init__),
            config_file=None if config_file is None else Path(config_file),
        )
        base_url = keywords.pop("base_url")
        return cls(base_url, max_workers=max_workers, **keywords)

    # --- lifetime ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._client.base_url

    @property
    def closed(self) -> bool:
        return self._client.closed

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def close(self) -> None:
        """Frees the handle and the thread pool. Idempotent; blocks until calls under way
        end (prefer :meth:`aclose` inside a coroutine)."""
        self._client.close()
        self._pool.shutdown(wait=False)

    async def aclose(self) -> None:
        """Like :meth:`close`, waiting for calls under way without blocking the loop."""
        if self._client.closed:
            return
        await asyncio.to_thread(self.close)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<ycm.aio.AsyncClient {self.base_url!r} {state}>"

    async def _perform(self, operation: Operation[T]) -> T:
        _log.refresh()
        client = self._client
        handle = client._acquire()
        try:
            cancel = Cancel()
            try:
                future = self._pool.submit(_run_native, operation, handle, cancel.pointer)
            except BaseException:
                cancel.free()
                raise
        except BaseException:
            client._release()
            raise
        # The handle and the cancel are given back when the native call ends, whatever
        # becomes of this coroutine (it may be abandoned without being resumed).
        future.add_done_callback(lambda _: client._release())
        waited = asyncio.wrap_future(future)
        try:
            try:
                status = await asyncio.shield(waited)
            except asyncio.CancelledError:
                if future.cancel():
                    raise  # still queued behind busy workers: it never started
                cancel.trigger()
                while not waited.done():
                    try:
                        await asyncio.shield(waited)
                    except asyncio.CancelledError:
                        continue  # cancelled again while the call stops: still wait
                if not waited.cancelled() and waited.exception() is None:
                    free_out_string(operation.out)
                raise
        finally:
            # No trigger can follow: free the cancel once the native call has returned.
            future.add_done_callback(lambda _: cancel.free())
        return operation.finish(check(status))

    # --- calls ---------------------------------------------------------------------------

    def set_access_token(self, access_token: str) -> None:
        """Replaces the bearer token (no I/O, so not a coroutine). Calls under way keep the old."""
        self._client.set_access_token(access_token)

    async def update_user(
        self,
        user_id: int,
        fields: Optional[Mapping[str, Any]] = None,
        *,
        company: Optional[str] = None,
        first_name: Optional[str] = None,
        last_name: Optional[str] = None,
        email: Optional[str] = None,
        phone: Optional[str] = None,
        mobile: Optional[str] = None,
        address: Optional[str] = None,
        remark: Optional[str] = None,
        two_factor_authentication_enable: Optional[str] = None,
        pbx_creation_limit: Optional[PbxLimit] = None,
        disable_two_factor: bool = False,
    ) -> UpdateResult:
        """:meth:`ycm.Client.update_user`, awaited."""
        _user_id(user_id)
        body = build_update_body(
            fields,
            {
                "company": company,
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "phone": phone,
                "mobile": mobile,
                "address": address,
                "remark": remark,
                "two_factor_authentication_enable": two_factor_authentication_enable,
                "pbx_creation_limit": pbx_creation_limit,
            },
            disable_two_factor,
        )
        return await self._perform(update_operation(user_id, body))

    async def get_user(self, user_id: int) -> User:
        """:meth:`ycm.Client.get_user`, awaited."""
        return await self._perform(get_user_operation(user_id))

    async def list_users(
        self, page_size: int = 10, page_number: int = 1, sort: Optional[str] = None
    ) -> UserPage:
        """:meth:`ycm.Client.list_users`, awaited."""
        return await self._perform(list_users_operation(page_size, page_number, sort))

    async def plan_sync(self, records: RecordsLike) -> SyncPlan:
        """:meth:`ycm.Client.plan_sync`, awaited (a records path is read on the loop's
        thread before anything is submitted)."""
        return await self._perform(plan_sync_operation(records))

    async def apply_sync(
        self,
        plan_or_records: Union[SyncPlan, RecordsLike],
        *,
        concurrency: int = 4,
        rate: Optional[int] = None,
        interval_s: float = 60,
        burst: Optional[int] = None,
        journal: Union[str, "os.PathLike[str]", None] = None,
        max_failures: Optional[int] = None,
        on_progress: Optional[ProgressCallback] = None,
    ) -> SyncReport:
        """:meth:`ycm.Client.apply_sync`, awaited. The run occupies one thread of the pool;
        ``on_progress`` is called on that thread (not the event loop's: reach the loop with
        ``loop.call_soon_threadsafe``). Cancelling the task stops scheduling, waits for the
        updates in flight to end (they are journalled), then raises
        ``asyncio.CancelledError``."""
        options = apply_options(concurrency, rate, interval_s, burst, journal, max_failures)
        callback = check_progress(on_progress)
        if isinstance(plan_or_records, SyncPlan):
            plan = plan_or_records
        else:
            plan = await self.plan_sync(plan_or_records)
        return await self._perform(apply_sync_operation(plan, options, callback))

    async def iter_users(
        self, page_size: int = 50, sort: Optional[str] = "userId"
    ) -> AsyncIterator[User]:
        """:meth:`ycm.Client.iter_users` as an async iterator (``async for``)."""
        number = 1
        while True:
            page = await self.list_users(page_size=page_size, page_number=number, sort=sort)
            for user in page.users:
                yield user
            if not more_pages(page, number, page_size):
                return
            number += 1
