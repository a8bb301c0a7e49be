"""Log records reach ``logging.getLogger("ycm")``: one DEBUG record per HTTP attempt on
``ycm.http`` (method, path, status, attempt, elapsed, requestId as record attributes), one
WARNING per retry, one INFO per token fetch on ``ycm.auth``; the package adds only a
``NullHandler``; the native callback is installed only at the level some logger wants; an
exception raised while forwarding never disturbs the call."""

from __future__ import annotations

import logging
from typing import Callable, Iterator, List

import pytest

import ycm
import ycm.aio
from ycm import _ffi, _log
from conftest import CLIENT_ID, CLIENT_SECRET, TOKEN, LogCapture, Mock

USER_PATH = "/dm/open_api/v1/users/13329"


def http(records: List[logging.LogRecord], level: int) -> List[logging.LogRecord]:
    return [r for r in records if r.name == "ycm.http" and r.levelno == level]


def test_the_package_adds_only_a_null_handler() -> None:
    logger = logging.getLogger("ycm")
    assert [type(h) for h in logger.handlers] == [logging.NullHandler]
    assert logger.level == logging.NOTSET and logger.propagate
    for child in ("ycm.http", "ycm.auth"):
        assert logging.getLogger(child).handlers == []


def test_one_debug_record_per_attempt(mock: Mock, ycm_logs: LogCapture) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        result = client.update_user(13329, company="Logged")
    [record] = http(ycm_logs.records, logging.DEBUG)
    assert record.method == "PUT" and record.path == USER_PATH  # type: ignore[attr-defined]
    assert record.http_status == 200 and record.attempt == 1  # type: ignore[attr-defined]
    assert record.request_id == result.request_id  # type: ignore[attr-defined]
    assert isinstance(record.elapsed_ms, int) and record.elapsed_ms >= 0  # type: ignore[attr-defined]
    assert record.getMessage()
    assert _log.last_callback_error is None


def test_a_default_formatter_shows_method_path_status_time_and_attempt(
    mock: Mock, ycm_logs: LogCapture
) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        client.update_user(13329, company="Readable")
    [record] = http(ycm_logs.records, logging.DEBUG)
    line = logging.Formatter().format(record)
    elapsed = record.elapsed_ms  # type: ignore[attr-defined]
    assert line == f"PUT {USER_PATH} -> 200 in {elapsed} ms (attempt 1)"


def test_a_retry_and_a_refused_connection_read_on_their_own(
    mock: Mock, ycm_logs: LogCapture
) -> None:
    mock.faults(fail_next=1, fail_status=503)
    with ycm.Client(mock.url, TOKEN, retry_base_ms=10, retry_max_ms=20) as client:
        client.get_user(13329)
    [warning] = http(ycm_logs.records, logging.WARNING)
    assert warning.getMessage().startswith(f"GET {USER_PATH}: retrying after attempt 1")
    first = http(ycm_logs.records, logging.DEBUG)[0]
    assert first.getMessage().startswith(f"GET {USER_PATH} -> 503 in ")
    ycm_logs.records.clear()
    # A port nothing listens on: the attempt gets no response at all.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with ycm.Client(f"http://127.0.0.1:{port}", TOKEN, max_retries=0) as closed:
        with pytest.raises(ycm.ConnectError):
            closed.get_user(13329)
    [record] = http(ycm_logs.records, logging.DEBUG)
    message = record.getMessage()
    assert message.startswith(f"GET {USER_PATH} -> no response in "), message
    assert "(attempt 1): " in message and len(message.split("(attempt 1): ")[1]) > 0
    assert record.http_status == 0  # type: ignore[attr-defined]


def test_a_retry_logs_a_warning_between_two_attempts(mock: Mock, ycm_logs: LogCapture) -> None:
    mock.faults(fail_next=1, fail_status=503)
    with ycm.Client(mock.url, TOKEN, retry_base_ms=10, retry_max_ms=20) as client:
        result = client.update_user(13329, company="Retried")
    assert result.attempts == 2
    attempts = http(ycm_logs.records, logging.DEBUG)
    assert [(r.attempt, r.http_status) for r in attempts] == [(1, 503), (2, 200)]  # type: ignore[attr-defined]
    [warning] = http(ycm_logs.records, logging.WARNING)
    assert "503" in warning.getMessage() or warning.http_status == 503  # type: ignore[attr-defined]
    order = [r for r in ycm_logs.records if r.name == "ycm.http"]
    assert order.index(warning) == 1  # between the two attempts


def test_a_token_fetch_logs_info_on_ycm_auth(mock: Mock, ycm_logs: LogCapture) -> None:
    with ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as client:
        client.get_user(13329)
        client.get_user(13329)  # the token is reused: no second fetch
    auth = [r for r in ycm_logs.records if r.name == "ycm.auth"]
    assert [r.levelno for r in auth] == [logging.INFO]
    assert mock.stats()["token_requests"] == 1
    texts = ycm_logs.texts()
    assert not any(CLIENT_SECRET in t or TOKEN in t for t in texts)


def test_the_asyncio_client_logs_too(mock: Mock, ycm_logs: LogCapture) -> None:
    import asyncio

    async def main() -> None:
        async with ycm.aio.AsyncClient(mock.url, TOKEN) as client:
            await client.get_user(13329)

    asyncio.run(main())
    [record] = http(ycm_logs.records, logging.DEBUG)
    assert record.method == "GET"  # type: ignore[attr-defined]


@pytest.fixture
def restore_levels() -> Iterator[None]:
    loggers = [logging.getLogger(n) for n in ("ycm", "ycm.http", "ycm.auth")]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels):
        logger.setLevel(level)
    _log.refresh()


def test_the_native_level_follows_the_loggers(mock: Mock, restore_levels: None) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        client.get_user(13329)
        # Logging at its default (root WARNING): only retries would cross the callback.
        assert _log._native_level == _ffi.YCM_LOG_WARN
        logging.getLogger("ycm.auth").setLevel(logging.INFO)
        client.get_user(13329)
        assert _log._native_level == _ffi.YCM_LOG_INFO
        logging.getLogger("ycm.http").setLevel(logging.DEBUG)
        client.get_user(13329)
        assert _log._native_level == _ffi.YCM_LOG_DEBUG
        for name in ("ycm", "ycm.http", "ycm.auth"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        client.get_user(13329)
        assert _log._native_level == 0  # no callback at all


def test_a_failing_filter_never_breaks_the_call(
    mock: Mock, ycm_logs: LogCapture, restore_levels: None
) -> None:
    def explode(record: logging.LogRecord) -> bool:
        raise RuntimeError("a filter failed")

    logger = logging.getLogger("ycm.http")
    logger.addFilter(explode)
    try:
        with ycm.Client(mock.url, TOKEN) as client:
            assert client.get_user(13329).user_id == 13329
    finally:
        logger.removeFilter(explode)
        error, _log.last_callback_error = _log.last_callback_error, None
    assert isinstance(error, RuntimeError)
    assert http(ycm_logs.records, logging.DEBUG) == []


def test_records_never_hold_a_secret(
    start_mock_with: Callable[..., Mock], ycm_logs: LogCapture
) -> None:
    secret = "LogSweepSecret/with+odd=chars"
    token = "LogSweepStaticToken0123456789"
    mock = start_mock_with("--access-token", token, "--client-secret", secret)
    with ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=secret) as creds:
        creds.update_user(13329, company="x")
        mock.expire()
        creds.get_user(13329)  # refresh after a 401
    with ycm.Client(mock.url, token) as static:
        mock.faults(fail_next=1, fail_status=503)
        static.get_user(13329)
    with ycm.Client(mock.url, client_id=CLIENT_ID, client_secret="wrong" + secret) as wrong:
        with pytest.raises(ycm.UnauthorizedError):
            wrong.get_user(13329)
    texts = ycm_logs.texts()
    assert {r.name for r in ycm_logs.records} >= {"ycm.http", "ycm.auth"}
    for text in texts:
        for value in (secret, token, "wrong" + secret):
            assert value not in text, text
