"""The fault matrix through the Python package: every case of ``ycm-fault-server`` (a scripted
raw-TCP peer, the same cases as the Rust ``tests/fault_matrix.rs``) raises the documented
exception with the documented ``http_status`` and ``attempts``, a useful message, and within
the call's time budget. Transient faults are retried to success; a closed port is a
``ConnectError`` after every retry.

Run with ``-s`` to print the measured matrix (case, class, http, attempts, elapsed).
"""

from __future__ import annotations

import builtins
import re
import subprocess
import time
from typing import Any, Callable, Dict, NamedTuple, Optional, Type

import pytest

import ycm
from conftest import TOKEN, closed_port_url, fault_server_binary

BUDGET_S = 1.5
SLACK_S = 3.0  # generous: this bound catches hangs, not slowness
# The Rust matrix's budgets: 1.5 s per call, 500 ms per connect, 2 retries with short waits.
OPTIONS: Dict[str, Any] = {
    "timeout_ms": int(BUDGET_S * 1000),
    "connect_timeout_ms": 500,
    "max_retries": 2,
    "retry_base_ms": 10,
    "retry_max_ms": 50,
}


class Expect(NamedTuple):
    error: Type[ycm.YcmError]
    code: ycm.Code
    http_status: int
    attempts: int
    message: str
    also: Optional[Type[BaseException]] = None  # the builtin class it must also be


TIMED_OUT = "did not complete within timeout_ms"
NOT_FOUND = "user not found (errcode 20001)"

# Every failing case of tests/fault_matrix.rs, with the same expectations.
MATRIX: Dict[str, Expect] = {
    "silent": Expect(ycm.TimeoutError, ycm.Code.TIMEOUT, 0, 1, TIMED_OUT, builtins.TimeoutError),
    "stall-after-headers": Expect(
        ycm.TimeoutError, ycm.Code.TIMEOUT, 200, 1, TIMED_OUT, builtins.TimeoutError
    ),
    "drip": Expect(ycm.TimeoutError, ycm.Code.TIMEOUT, 0, 1, TIMED_OUT, builtins.TimeoutError),
    "close-mid-body": Expect(
        ycm.IoError, ycm.Code.IO, 200, 3, "connection failed", ConnectionError
    ),
    "reset": Expect(ycm.IoError, ycm.Code.IO, 0, 3, "connection failed", ConnectionError),
    "non-json-200": Expect(ycm.BadResponseError, ycm.Code.BAD_RESPONSE, 200, 1, "not JSON"),
    "missing-request-id": Expect(
        ycm.BadResponseError, ycm.Code.BAD_RESPONSE, 200, 1, '"requestId" is missing'
    ),
    "missing-status": Expect(
        ycm.BadResponseError, ycm.Code.BAD_RESPONSE, 200, 1, '"status" is missing'
    ),
    "missing-time": Expect(
        ycm.BadResponseError, ycm.Code.BAD_RESPONSE, 200, 1, '"time" is missing'
    ),
    "huge": Expect(
        ycm.BadResponseError, ycm.Code.BAD_RESPONSE, 200, 1, "larger than max_response_bytes"
    ),
    "html-502": Expect(
        ycm.HttpError, ycm.Code.HTTP, 502, 3, "HTTP 502: <html><head><title>502 Bad Gateway"
    ),
    "failed-errcode": Expect(ycm.ApiError, ycm.Code.API, 200, 1, NOT_FOUND),
    "failed-errno": Expect(ycm.ApiError, ycm.Code.API, 200, 1, NOT_FOUND),
    "failed-detail-message": Expect(ycm.ApiError, ycm.Code.API, 200, 1, NOT_FOUND),
    "failed-message": Expect(ycm.ApiError, ycm.Code.API, 200, 1, "user not found"),
    "not-http": Expect(ycm.BadResponseError, ycm.Code.BAD_RESPONSE, 0, 1, "not valid HTTP"),
    "redirect-elsewhere": Expect(ycm.HttpError, ycm.Code.HTTP, 307, 1, "HTTP 307"),
}


@pytest.mark.parametrize("case", sorted(MATRIX))
def test_fault_yields_its_error_within_the_budget(
    case: str, fault_server: Callable[[str], str]
) -> None:
    want = MATRIX[case]
    url = fault_server(case)
    with ycm.Client(url, TOKEN, **OPTIONS) as client:
        started = time.monotonic()
        with pytest.raises(ycm.YcmError) as raised:
            client.update_user(13329, company="x")
        elapsed = time.monotonic() - started
    err = raised.value
    print(
        f"\n{case:<22} {type(err).__name__:<17} {err.http_status:>4} {err.attempts:>3} "
        f"{elapsed * 1000:>6.0f}ms  {err.message[:60]!r}"
    )
    assert type(err) is want.error, repr(err)
    assert err.code is want.code, repr(err)
    if want.also is not None:
        assert isinstance(err, want.also), repr(err)
    assert err.http_status == want.http_status, repr(err)
    assert err.attempts == want.attempts, repr(err)
    assert want.message in err.message, repr(err)
    assert want.message in str(err)
    assert f"attempts {want.attempts}" in str(err)
    assert elapsed < BUDGET_S + SLACK_S, f"{case} took {elapsed:.3f} s"


def test_every_case_of_the_fault_server_is_covered() -> None:
    # The cases the binary knows, from its --help (clap lists the possible values); the two
    # that end in success are the retry tests below.
    help_text = subprocess.run(
        [str(fault_server_binary()), "--help"], capture_output=True, text=True, timeout=30
    ).stdout
    found = re.search(r"\[possible values: ([^\]]+)\]", help_text)
    assert found, help_text
    cases = {name.strip() for name in found.group(1).split(",")}
    assert cases == set(MATRIX) | {"503-then-200", "429-then-200"}


def test_503_then_200_is_retried_to_success(fault_server: Callable[[str], str]) -> None:
    with ycm.Client(fault_server("503-then-200"), TOKEN, **OPTIONS) as client:
        result = client.update_user(13329, company="x")
    assert result.status == "Success"
    assert result.http_status == 200
    assert result.attempts == 2
    assert result.request_id == "0123456789abcdef0123456789abcdef"


def test_429_then_200_waits_for_retry_after(fault_server: Callable[[str], str]) -> None:
    # As in the Rust test: a budget that leaves room for the announced one-second wait.
    with ycm.Client(fault_server("429-then-200"), TOKEN, timeout_ms=5000) as client:
        started = time.monotonic()
        result = client.update_user(13329, company="x")
        elapsed = time.monotonic() - started
    assert result.attempts == 2
    assert result.http_status == 200
    assert elapsed >= 0.95, f"Retry-After: 1 was not honoured ({elapsed:.3f} s)"


def test_a_retry_after_beyond_the_budget_stops_at_once(
    fault_server: Callable[[str], str],
) -> None:
    with ycm.Client(fault_server("429-then-200"), TOKEN, timeout_ms=500) as client:
        started = time.monotonic()
        with pytest.raises(ycm.RateLimitedError) as raised:
            client.update_user(13329, company="x")
        elapsed = time.monotonic() - started
    assert raised.value.code is ycm.Code.RATE_LIMITED
    assert (raised.value.http_status, raised.value.attempts) == (429, 1)
    assert elapsed < 0.95, f"waited for Retry-After: {elapsed:.3f} s"


def test_a_closed_port_is_a_connect_error() -> None:
    with ycm.Client(closed_port_url(), TOKEN, **OPTIONS) as client:
        started = time.monotonic()
        with pytest.raises(ycm.ConnectError) as raised:
            client.update_user(13329, company="x")
        elapsed = time.monotonic() - started
    err = raised.value
    assert isinstance(err, ConnectionError)
    assert err.code is ycm.Code.CONNECT
    assert (err.http_status, err.attempts) == (0, 3)
    assert err.message
    assert elapsed < BUDGET_S + SLACK_S, f"{elapsed:.3f} s"
