"""The fault matrix through the Python package. The cases and their expected outcomes are
not written here: they are the one table of the mock crate (``mock/src/fault_matrix.rs``),
which the Rust and C suites read too, printed by ``ycm-fault-server --cases-json``. For every
row, a call with the row's client options against a peer serving the row's case returns or
raises what the row says (the exception class of its code, ``http_status``, ``attempts``, a
message fragment, ``api_errcode`` and envelope data), within the row's elapsed bounds. A
closed port, which no peer can script, is a ``ConnectError`` after every retry.

Run with ``-s`` to print the measured matrix (case, class, http, attempts, elapsed).
"""

from __future__ import annotations

import builtins
import functools
import json
import re
import subprocess
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

import pytest

import ycm
from conftest import TOKEN, closed_port_url, fault_server_binary

# The Python classes of each code the table names: the class itself, and the builtin it
# must also be (None: none). Python's own declaration, not a copy of the table.
CLASSES: Dict[str, Tuple[Type[ycm.YcmError], Optional[Type[BaseException]]]] = {
    "YCM_ERR_TIMEOUT": (ycm.TimeoutError, builtins.TimeoutError),
    "YCM_ERR_IO": (ycm.IoError, ConnectionError),
    "YCM_ERR_BAD_RESPONSE": (ycm.BadResponseError, None),
    "YCM_ERR_HTTP": (ycm.HttpError, None),
    "YCM_ERR_RATE_LIMITED": (ycm.RateLimitedError, None),
    "YCM_ERR_API": (ycm.ApiError, None),
}


@functools.lru_cache(maxsize=None)
def table() -> Dict[str, Any]:
    """``ycm-fault-server --cases-json``, parsed."""
    out = subprocess.run(
        [str(fault_server_binary()), "--cases-json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    parsed: Dict[str, Any] = json.loads(out)
    return parsed


def rows() -> List[Dict[str, Any]]:
    cases: List[Dict[str, Any]] = table()["cases"]
    return cases


def code_of(name: str) -> ycm.Code:
    return ycm.Code[name[len("YCM_ERR_") :] if name.startswith("YCM_ERR_") else "OK"]


def call(
    url: str, row: Dict[str, Any]
) -> Tuple[Optional[ycm.UpdateResult], Optional[ycm.YcmError], float]:
    """One update with the row's options; the result or the error, and the seconds taken."""
    with ycm.Client(url, TOKEN, **row["client"]) as client:
        started = time.monotonic()
        try:
            return client.update_user(13329, company="x"), None, time.monotonic() - started
        except ycm.YcmError as err:
            return None, err, time.monotonic() - started


@pytest.mark.parametrize("row", rows(), ids=lambda row: str(row["name"]))
def test_fault_case_yields_its_table_row(
    row: Dict[str, Any], fault_server: Callable[[str], str]
) -> None:
    result, err, elapsed = call(fault_server(row["case"]), row)
    status = err if err is not None else result
    assert status is not None
    print(
        f"\n{row['name']:<30} {type(status).__name__:<17} {status.http_status:>4} "
        f"{status.attempts:>3} {elapsed * 1000:>6.0f}ms  {getattr(err, 'message', '')[:60]!r}"
    )
    if row["code"] == "YCM_OK":
        assert err is None, repr(err)
        assert result is not None and result.status == "Success"
    else:
        assert err is not None, f"{row['name']} must fail"
        error, also = CLASSES[row["code"]]
        assert type(err) is error, repr(err)
        assert err.code is code_of(row["code"]), repr(err)
        if also is not None:
            assert isinstance(err, also), repr(err)
        assert row["message"] in err.message, repr(err)
        assert row["message"] in str(err)
        assert f"attempts {row['attempts']}" in str(err)
    assert status.http_status == row["http_status"], repr(status)
    assert status.attempts == row["attempts"], repr(status)
    if row["api_errcode"] is not None:
        assert err is not None and err.api_errcode == row["api_errcode"], repr(err)
    if row["request_id"] is not None:
        assert status.request_id == row["request_id"], repr(status)
    if row["time"] is not None:
        assert status.timestamp == row["time"], repr(status)
    low, high = row["min_elapsed_ms"] / 1000, row["max_elapsed_ms"] / 1000
    assert low <= elapsed < high, f"{row['name']} took {elapsed:.3f} s, not in {low}..{high}"


def test_every_case_of_the_fault_server_has_its_row() -> None:
    # The cases the binary serves, from its --help (clap lists the possible values).
    help_text = subprocess.run(
        [str(fault_server_binary()), "--help"], capture_output=True, text=True, timeout=30
    ).stdout
    found = re.search(r"\[possible values: ([^\]]+)\]", help_text)
    assert found, help_text
    cases = {name.strip() for name in found.group(1).split(",")}
    assert cases == {row["case"] for row in rows()}
    assert cases <= {row["name"] for row in rows()}
    assert {row["code"] for row in rows()} <= set(CLASSES) | {"YCM_OK"}


def test_a_closed_port_is_a_connect_error() -> None:
    options: Dict[str, Any] = table()["client"]
    with ycm.Client(closed_port_url(), TOKEN, **options) as client:
        started = time.monotonic()
        with pytest.raises(ycm.ConnectError) as raised:
            client.update_user(13329, company="x")
        elapsed = time.monotonic() - started
    err = raised.value
    assert isinstance(err, ConnectionError)
    assert err.code is ycm.Code.CONNECT
    assert (err.http_status, err.attempts) == (0, 3)
    assert err.message
    bound = (options["timeout_ms"] + table()["hang_slack_ms"]) / 1000
    assert elapsed < bound, f"{elapsed:.3f} s"
