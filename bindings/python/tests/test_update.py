"""Updates against ycm-mock: success and the change seen by the server, the result's
fields, every validation rule refused with nothing sent, API failures, auth and transport
errors, retries, threads."""

from __future__ import annotations

import builtins
import dataclasses
import socket
import threading
import time
from datetime import timedelta, timezone
from typing import Any, Dict, List, Tuple

import pytest

import ycm
from conftest import TOKEN, Mock


def fast_client(mock: Mock, **options: Any) -> ycm.Client:
    """A client with short backoff, so retry tests stay quick."""
    options.setdefault("retry_base_ms", 10)
    options.setdefault("retry_max_ms", 50)
    return ycm.Client(mock.url, TOKEN, **options)


def test_update_changes_the_user(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        result = client.update_user(13329, {"company": "New Company Name"}, first_name="Ann")
        assert mock.user(13329)["company"] == "New Company Name"
        assert mock.user(13329)["firstName"] == "Ann"
        user = client.get_user(13329)
        assert (user.company, user.first_name) == ("New Company Name", "Ann")
    assert result.status == "Success"
    assert mock.stats()["update_user"] == 1


def test_update_result_fields(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        result = client.update_user(13329, company="Fields Ltd")
    assert len(result.request_id) == 32
    int(result.request_id, 16)
    assert result.status == "Success"
    assert isinstance(result.timestamp, int) and not isinstance(result.timestamp, bool)
    assert result.time.tzinfo is not None
    assert result.time.utcoffset() == timedelta(0)
    assert result.time.tzinfo == timezone.utc
    assert int(result.time.timestamp()) == result.timestamp
    assert result.http_status == 200
    assert result.attempts == 1
    with pytest.raises(AttributeError):
        result.status = "Failed"  # type: ignore[misc]
    # Made without the dataclass's __init__ (the hot path): still the same value.
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(ycm.UpdateResult)}
    assert result == ycm.UpdateResult(**fields)
    assert dataclasses.asdict(result) == fields
    assert repr(result) == repr(ycm.UpdateResult(**fields))


def test_results_in_other_seconds_keep_their_own_time(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        first = client.update_user(13329, company="First")
        time.sleep(1.1)
        second = client.update_user(13329, company="Second")
    assert second.timestamp > first.timestamp
    assert int(second.time.timestamp()) == second.timestamp


def test_every_keyword_reaches_the_server(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        client.update_user(
            13329,
            company="c",
            first_name="f",
            last_name="l",
            email="e@example.com",
            phone="1",
            mobile="2",
            address="a",
            remark="r",
            pbx_creation_limit=7,
            disable_two_factor=True,
        )
    user = mock.user(13329)
    assert user["company"] == "c"
    assert (user["firstName"], user["lastName"]) == ("f", "l")
    assert (user["email"], user["phone"], user["mobile"]) == ("e@example.com", "1", "2")
    assert (user["address"], user["remark"]) == ("a", "r")
    assert user["pbxCreationLimit"] == 7
    assert user["twoFactorAuthenticationEnable"] == "disable"


def test_strings_that_need_escaping_arrive_as_given(mock: Mock) -> None:
    # An all-string update is written by the package itself, not by json's encoder.
    remark = 'say "hi" \\ back/slash, caf\u00e9, \U0001f600, \u2028'
    with ycm.Client(mock.url, TOKEN) as client:
        client.update_user(13329, {"remark": remark, "company": "\u00c5 & <b>"})
    user = mock.user(13329)
    assert (user["remark"], user["company"]) == (remark, "\u00c5 & <b>")


def test_no_limit(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        client.update_user(13329, pbx_creation_limit=ycm.NO_LIMIT)
        assert mock.user(13329)["pbxCreationLimit"] == ""
        assert client.get_user(13329).pbx_creation_limit is ycm.NO_LIMIT
        client.update_user(13329, {"pbxCreationLimit": 2**31 - 1})
        assert mock.user(13329)["pbxCreationLimit"] == 2**31 - 1
        client.update_user(13329, {"pbxCreationLimit": ""})
        assert mock.user(13329)["pbxCreationLimit"] == ""
        client.update_user(13331, {"pbxCreationLimit": ycm.NO_LIMIT})
        client.update_user(13329, two_factor_authentication_enable="disable")
    ycm.validate_user_update(pbx_creation_limit=ycm.NO_LIMIT)
    ycm.validate_user_update({"pbxCreationLimit": 1, "company": ""})


REFUSED_BODIES: List[Any] = [
    {},
    {"compnay": "x"},
    {"Company": "x"},
    {"company": 1},
    {"email": None},
    {"remark": ["x"]},
    {"firstName": {"a": 1}},
    {"company": True},
    {"twoFactorAuthenticationEnable": "enable"},
    {"twoFactorAuthenticationEnable": "Disable"},
    {"twoFactorAuthenticationEnable": True},
    {"twoFactorAuthenticationEnable": ""},
    {"pbxCreationLimit": 0},
    {"pbxCreationLimit": -1},
    {"pbxCreationLimit": 1.5},
    {"pbxCreationLimit": 5.0},
    {"pbxCreationLimit": "5"},
    {"pbxCreationLimit": " "},
    {"pbxCreationLimit": 2**31},
    {"pbxCreationLimit": True},
    {"pbxCreationLimit": None},
    {"company": float("nan")},
    {"company": object()},
    {"company": ycm.NO_LIMIT},
    {1: "x"},
    {"remark": "x" * 70_000},
    ["company"],
    "company",
    '{"company": "x"}',
    42,
]


@pytest.mark.parametrize("body", REFUSED_BODIES, ids=lambda b: repr(b)[:40])
def test_refused_bodies_send_nothing(mock: Mock, body: Any) -> None:
    before = mock.requests()
    with ycm.Client(mock.url, TOKEN) as client:
        with pytest.raises(ycm.InvalidBodyError) as raised:
            client.update_user(13329, body)
    error = raised.value
    assert isinstance(error, ValueError) and isinstance(error, ycm.YcmError)
    assert error.code is ycm.Code.INVALID_BODY
    assert error.attempts == 0 and error.http_status == 0 and error.request_id == ""
    assert error.time is None and error.timestamp == 0 and error.api_errcode == 0
    assert error.message and error.message in str(error)
    with pytest.raises(ycm.InvalidBodyError) as offline:
        ycm.validate_user_update(body)
    assert offline.value.message == error.message
    assert mock.requests() == before


def test_messages_name_the_field_and_rule() -> None:
    def message(body: Any) -> str:
        with pytest.raises(ycm.InvalidBodyError) as raised:
            ycm.validate_user_update(body)
        return raised.value.message

    assert "empty" in message({})
    assert '"compnay" is not a field' in message({"compnay": "x"})
    assert '"company" must be a string' in message({"company": 1})
    assert 'must be the string "disable"' in message({"twoFactorAuthenticationEnable": "enable"})
    assert "integer from 1 to 2147483647" in message({"pbxCreationLimit": 0})
    assert "mapping" in message(["company"])


@pytest.mark.parametrize(
    "keywords",
    [
        {},
        {"pbx_creation_limit": 0},
        {"pbx_creation_limit": -1},
        {"pbx_creation_limit": 1.5},
        {"pbx_creation_limit": "5"},
        {"pbx_creation_limit": 2**31},
        {"two_factor_authentication_enable": "enable"},
        {"company": 3},
        {"disable_two_factor": False},
    ],
    ids=repr,
)
def test_refused_keywords_send_nothing(mock: Mock, keywords: Dict[str, Any]) -> None:
    before = mock.requests()
    with ycm.Client(mock.url, TOKEN) as client:
        with pytest.raises(ycm.InvalidBodyError):
            client.update_user(13329, **keywords)
    with pytest.raises(ycm.InvalidBodyError):
        ycm.validate_user_update(**keywords)
    assert mock.requests() == before


@pytest.mark.parametrize("user_id", [0, -1, True, False, "13329", 13329.0, 2**63, None])
def test_refused_user_ids_send_nothing(mock: Mock, user_id: Any) -> None:
    before = mock.requests()
    with ycm.Client(mock.url, TOKEN) as client:
        with pytest.raises(ycm.InvalidArgumentError) as raised:
            client.update_user(user_id, company="x")
        assert isinstance(raised.value, ValueError)
        assert raised.value.attempts == 0
        assert "user_id" in raised.value.message or "user id" in raised.value.message
        with pytest.raises(ycm.InvalidArgumentError):
            client.get_user(user_id)
    assert mock.requests() == before


def test_keyword_mistakes_raise_type_error(mock: Mock) -> None:
    before = mock.requests()
    typo: Dict[str, Any] = {"compny": "x"}
    with ycm.Client(mock.url, TOKEN) as client:
        with pytest.raises(TypeError, match="compny"):
            client.update_user(13329, **typo)
        with pytest.raises(TypeError, match="compny"):
            ycm.validate_user_update(**typo)
        with pytest.raises(TypeError, match="company"):
            client.update_user(13329, {"company": "a"}, company="b")
        with pytest.raises(TypeError, match="twoFactorAuthenticationEnable"):
            client.update_user(
                13329, two_factor_authentication_enable="disable", disable_two_factor=True
            )
        with pytest.raises(TypeError, match="disable_two_factor"):
            client.update_user(13329, disable_two_factor="yes")  # type: ignore[arg-type]
    assert mock.requests() == before


def test_api_failures(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        cases: List[Tuple[int, Dict[str, Any], int]] = [
            (99999, {"company": "x"}, 20001),
            (13329, {"pbxCreationLimit": 2}, 20002),
            (13330, {"pbxCreationLimit": 5}, 20003),
        ]
        for user_id, body, errcode in cases:
            with pytest.raises(ycm.ApiError) as raised:
                client.update_user(user_id, body)
            error = raised.value
            assert error.code is ycm.Code.API
            assert error.api_errcode == errcode
            assert len(error.request_id) == 32
            assert error.http_status == 200
            assert error.attempts == 1
            assert error.time is not None and error.time.tzinfo == timezone.utc
            assert int(error.time.timestamp()) == error.timestamp
            assert str(errcode) in str(error) and error.request_id in str(error)
    assert mock.user(13329)["pbxCreationLimit"] == 10


def test_check_reseller_limit_refuses_locally(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN, check_reseller_limit=True) as client:
        with pytest.raises(ycm.YcmError) as raised:
            client.update_user(13329, pbx_creation_limit=2)
        assert "3" in raised.value.message
        assert mock.stats()["update_user"] == 0
        client.update_user(13329, pbx_creation_limit=3)
    assert mock.user(13329)["pbxCreationLimit"] == 3


def test_wrong_token(mock: Mock) -> None:
    secret = "not-the-token-5f2a9c"
    with ycm.Client(mock.url, secret) as client:
        with pytest.raises(ycm.UnauthorizedError) as raised:
            client.update_user(13329, company="x")
    error = raised.value
    assert isinstance(error, PermissionError)
    assert error.code is ycm.Code.UNAUTHORIZED and error.http_status == 401
    assert error.attempts == 1
    assert secret not in str(error) and secret not in repr(error)
    assert mock.user(13329)["company"] != "x"


def test_set_access_token(mock: Mock) -> None:
    with ycm.Client(mock.url, "wrong") as client:
        with pytest.raises(ycm.UnauthorizedError):
            client.update_user(13329, company="x")
        client.set_access_token(TOKEN)
        assert client.update_user(13329, company="x").attempts == 1
        with pytest.raises(ycm.InvalidArgumentError):
            client.set_access_token("bad\0token")
        with pytest.raises(ycm.InvalidArgumentError):
            client.set_access_token("bad\ntoken")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_closed_port_is_a_connect_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with ycm.Client(url, TOKEN, max_retries=1, retry_base_ms=1, retry_max_ms=5) as client:
        with pytest.raises(ycm.ConnectError) as raised:
            client.update_user(13329, company="x")
    error = raised.value
    assert isinstance(error, ConnectionError) and isinstance(error, OSError)
    assert error.code is ycm.Code.CONNECT
    assert error.http_status == 0
    assert error.attempts == 2


def test_503_then_success_is_retried(mock: Mock) -> None:
    mock.faults(fail_next=1, fail_status=503, retry_after="0")
    with fast_client(mock) as client:
        result = client.update_user(13329, company="after retry")
    assert result.attempts == 2
    assert mock.user(13329)["company"] == "after retry"
    assert mock.stats()["update_user"] == 2


def test_server_errors(mock: Mock) -> None:
    # Throttling is waited out within timeout_ms; the call gives up once the client's gate
    # would open beyond it.
    with fast_client(mock, max_retries=2, timeout_ms=1000) as client:
        mock.faults(fail_next=10, fail_status=429, retry_after="0")
        with pytest.raises(ycm.RateLimitedError) as limited:
            client.update_user(13329, company="x")
        assert limited.value.attempts >= 1 and limited.value.http_status == 429
    with fast_client(mock, max_retries=2) as client:
        mock.faults(fail_next=1, fail_status=500)
        with pytest.raises(ycm.HttpError) as http:
            client.update_user(13329, company="x")
        assert http.value.http_status == 500 and http.value.attempts == 1


def test_truncated_response_is_an_io_error(mock: Mock) -> None:
    mock.faults(close_next=1)
    with fast_client(mock, max_retries=0) as client:
        with pytest.raises(ycm.IoError) as raised:
            client.update_user(13329, company="x")
    assert isinstance(raised.value, ConnectionError)
    assert raised.value.attempts == 1


def test_timeout(mock: Mock) -> None:
    mock.faults(latency_ms=1500)
    with fast_client(mock, timeout_ms=200, max_retries=0) as client:
        with pytest.raises(ycm.TimeoutError) as raised:
            client.update_user(13329, company="x")
    assert isinstance(raised.value, builtins.TimeoutError)
    assert raised.value.code is ycm.Code.TIMEOUT


def test_threads_share_one_client(mock: Mock) -> None:
    threads, per_thread = 8, 25
    errors: List[BaseException] = []
    attempts: List[int] = []
    start = threading.Barrier(threads)
    lock = threading.Lock()
    with ycm.Client(mock.url, TOKEN) as client:

        def work(n: int) -> None:
            try:
                start.wait()
                for i in range(per_thread):
                    result = client.update_user(13329, remark=f"thread {n} update {i}")
                    with lock:
                        attempts.append(result.attempts)
            except BaseException as exc:  # pragma: no cover - reported below
                with lock:
                    errors.append(exc)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert errors == []
    assert len(attempts) == threads * per_thread
    assert set(attempts) == {1}
    assert mock.stats()["update_user"] == threads * per_thread
    assert mock.user(13329)["remark"].startswith("thread ")


def test_calls_release_the_gil(mock: Mock) -> None:
    # While one thread waits 600 ms inside the library, this thread keeps running Python:
    # the longest pause between two of its steps stays far below the call's duration
    # (a call holding the GIL would stop it for the whole 600 ms).
    mock.faults(latency_ms=600)
    done = threading.Event()
    with ycm.Client(mock.url, TOKEN) as client:

        def call() -> None:
            try:
                client.update_user(13329, company="slow")
            finally:
                done.set()

        worker = threading.Thread(target=call)
        started = time.monotonic()
        worker.start()
        last, longest_pause = started, 0.0
        while not done.is_set():
            now = time.monotonic()
            longest_pause = max(longest_pause, now - last)
            last = now
        worker.join()
        elapsed = time.monotonic() - started
    assert mock.user(13329)["company"] == "slow"
    assert elapsed >= 0.5
    assert longest_pause < 0.3, longest_pause
