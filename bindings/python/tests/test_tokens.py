"""Managed tokens against a ycm-mock whose tokens live one second: a long run crosses
several expiries without one failed call and fetches tokens about once per lifetime, and
many threads meeting an expired token share one token request."""

from __future__ import annotations

import threading
import time
from typing import Iterator, List

import pytest

import ycm
from conftest import CLIENT_ID, CLIENT_SECRET, Mock, start_mock


@pytest.fixture(scope="module")
def short_ttl_mock() -> Iterator[Mock]:
    with start_mock("--token-ttl", "1", "--no-static-token") as server:
        yield server


def test_updates_across_several_expiries(short_ttl_mock: Mock) -> None:
    mock = short_ttl_mock
    mock.reset()
    updates = 0
    with ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as client:
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            client.update_user(13329, remark=f"update {updates}")  # any failure raises
            updates += 1
            time.sleep(0.01)
    stats = mock.stats()
    assert stats["update_user"] >= updates  # a replay after a 401 counts twice
    assert updates > 50
    # About one token per lifetime (1 s), not one per call.
    assert 3 <= stats["token_requests"] <= 10, stats


def test_threads_share_one_token_fetch(short_ttl_mock: Mock) -> None:
    mock = short_ttl_mock
    mock.reset()
    threads = 16
    errors: List[BaseException] = []
    with ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as client:
        start = threading.Barrier(threads)

        def work() -> None:
            try:
                start.wait()
                client.update_user(13329, company="herd")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert errors == []
    stats = mock.stats()
    assert stats["token_requests"] == 1, stats
    assert stats["update_user"] == threads
