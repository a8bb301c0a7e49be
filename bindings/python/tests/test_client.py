"""The client's lifetime and options, client credentials, reads, the error classes and the
version."""

from __future__ import annotations

import dataclasses
import gc
import pickle
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

import ycm
from ycm import _errors, _ffi, _types
from conftest import CLIENT_ID, CLIENT_SECRET, TOKEN, Mock

# --- lifetime ----------------------------------------------------------------------------


def test_use_after_close_raises(mock: Mock) -> None:
    client = ycm.Client(mock.url, TOKEN)
    client.close()
    client.close()  # idempotent
    assert client.closed
    calls: List[Callable[[], object]] = [
        lambda: client.update_user(13329, company="x"),
        lambda: client.get_user(13329),
        lambda: client.list_users(),
        lambda: next(client.iter_users()),
        lambda: client.set_access_token("t"),
    ]
    for call in calls:
        with pytest.raises(ycm.ClientClosedError, match="closed"):
            call()
    assert isinstance(ycm.ClientClosedError("x"), RuntimeError)
    assert mock.requests() == 0
    assert "closed" in repr(client)


def test_context_manager_closes(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        assert not client.closed
        client.update_user(13329, company="in with")
    assert client.closed
    with pytest.raises(ycm.ClientClosedError):
        client.update_user(13329, company="x")


def test_close_waits_for_the_calls_under_way_and_refuses_new_ones(mock: Mock) -> None:
    mock.faults(latency_ms=400)
    client = ycm.Client(mock.url, TOKEN, allow_insecure_http=True)
    results: List[object] = []
    started = threading.Event()

    def call() -> None:
        started.set()
        results.append(client.update_user(13329, company="before close").request_id)

    worker = threading.Thread(target=call)
    worker.start()
    started.wait()
    time.sleep(0.1)  # the update is under way (the mock answers after 0.4 s)
    client.close()
    # close() returned only once the call under way had ended, and it succeeded.
    assert len(results) == 1 and isinstance(results[0], str), results
    worker.join()
    assert mock.user(13329)["company"] == "before close"
    with pytest.raises(ycm.ClientClosedError):
        client.get_user(13329)


def test_finalizer_frees_the_handle(mock: Mock) -> None:
    client = ycm.Client(mock.url, TOKEN)
    finalizer = client._finalizer
    assert finalizer.alive
    del client
    gc.collect()
    assert not finalizer.alive


def test_repr_never_shows_the_token(mock: Mock) -> None:
    with ycm.Client(mock.url, "very-secret-token-xyz") as client:
        assert "very-secret-token-xyz" not in repr(client)
        assert mock.url in repr(client)


def test_bad_options_are_refused_before_sending(mock: Mock) -> None:
    bad: Dict[str, Any] = {
        "timeout_ms": 0,
        "max_retries": -1,
        "connect_timeout_ms": "5",
        "allow_insecure_http": 1,
        "user_agent": "bad\nagent",
        "ca_file": "",
    }
    for key, value in bad.items():
        with pytest.raises(ycm.InvalidArgumentError, match=key):
            ycm.Client(mock.url, TOKEN, **{key: value})
    typo: Dict[str, Any] = {"timeout_secs": 3}
    with pytest.raises(TypeError, match="timeout_secs"):
        ycm.Client(mock.url, TOKEN, **typo)
    with pytest.raises(ycm.InvalidArgumentError):
        ycm.Client(mock.url)  # neither a token nor credentials
    with pytest.raises(ycm.InvalidArgumentError):
        ycm.Client(mock.url, TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with pytest.raises(ycm.InvalidArgumentError):
        ycm.Client(mock.url, client_id=CLIENT_ID)
    with pytest.raises(ycm.InvalidArgumentError, match="http"):
        ycm.Client("http://ycm.example.com", TOKEN)
    with pytest.raises(ycm.InvalidArgumentError):
        ycm.Client("not a url", TOKEN)
    with pytest.raises(TypeError):
        ycm.Client(b"http://127.0.0.1:1", TOKEN)  # type: ignore[arg-type]
    ycm.Client("http://ycm.example.com", TOKEN, allow_insecure_http=True).close()
    assert mock.requests() == 0


# --- client credentials ------------------------------------------------------------------


def test_client_credentials(mock: Mock) -> None:
    with ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as client:
        first = client.update_user(13329, company="via credentials")
        assert first.attempts == 2  # the token request, then the update
        assert client.update_user(13329, company="again").attempts == 1
        mock.expire()
        assert client.update_user(13329, company="after expiry").http_status == 200
    assert mock.user(13329)["company"] == "after expiry"
    assert mock.stats()["update_user"] >= 3


def test_wrong_secret_is_refused_once_and_never_shown(mock: Mock) -> None:
    secret = "wrong-secret-7c1e0b"
    with ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=secret) as client:
        with pytest.raises(ycm.UnauthorizedError) as raised:
            client.update_user(13329, company="x")
        with pytest.raises(ycm.UnauthorizedError) as again:
            client.get_user(13329)
    error = raised.value
    assert again.value.attempts == 0 and "not sent again" in again.value.message
    assert error.code is ycm.Code.UNAUTHORIZED
    for text in (str(error), repr(error), error.message, str(error.args)):
        assert secret not in text
    assert "credentials" in error.message
    assert error.http_status == 401 and error.attempts == 1
    stats = mock.stats()
    assert stats["update_user"] == 0
    assert stats["token_requests"] == 1  # a refused secret is never sent again
    for entry in mock.log():
        assert secret not in str(entry)


# --- reads -------------------------------------------------------------------------------


def test_get_user_types(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        user = client.get_user(13329)
        colleague = client.get_user(13330)
        reseller = client.get_user(13331)
        with pytest.raises(ycm.ApiError) as missing:
            client.get_user(99999)
    assert isinstance(user, ycm.User)
    assert user.user_id == 13329
    assert user.user_type is ycm.UserType.RESELLER and user.user_type_raw == "Reseller"
    assert user.is_reseller
    assert user.created_cloud_pbx == 3
    assert user.pbx_creation_limit == 10
    assert user.two_factor_authentication_enable == "enable"
    assert isinstance(user.company, str) and user.company
    assert user.raw["userId"] == 13329
    assert colleague.user_type is ycm.UserType.MY_COLLEAGUE and not colleague.is_reseller
    assert reseller.created_cloud_pbx == 0
    assert reseller.pbx_creation_limit is ycm.NO_LIMIT
    assert missing.value.api_errcode == 20001
    with pytest.raises(dataclasses.FrozenInstanceError):
        user.company = "x"  # type: ignore[misc]
    assert hash(user) == hash(dataclasses.replace(user))
    assert mock.stats()["get_user"] == 4


def test_unknown_user_type_is_kept() -> None:
    user = _types.parse_user({"userId": 1, "userType": "Partner", "createdCloudPbx": 2})
    assert user.user_type is ycm.UserType.OTHER
    assert user.user_type_raw == "Partner"
    assert ycm.UserType("Partner") is ycm.UserType.OTHER
    assert ycm.UserType("Hosting User") is ycm.UserType.HOSTING_USER
    assert user.company == "" and user.created_reseller is None and user.pbx_creation_limit is None
    with pytest.raises(_types.ParseError):
        _types.parse_user({"userId": "1", "userType": "Reseller"})
    with pytest.raises(_types.ParseError):
        _types.parse_user({"userId": True, "userType": "Reseller"})


def test_list_users_page(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        page = client.list_users(page_size=5, page_number=2, sort="-userId")
    assert isinstance(page, ycm.UserPage)
    assert (page.page_size, page.page_number, page.total) == (5, 2, 120)
    ids = [user.user_id for user in page.users]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)
    assert all(isinstance(user, ycm.User) for user in page.users)


def test_iter_users_walks_every_page_once(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        iterator = client.iter_users()
        assert mock.stats()["list_users"] == 0  # lazy: nothing fetched yet
        ids = [user.user_id for user in iterator]
        small = [user.user_id for user in client.iter_users(page_size=7, sort="-userId")]
    assert len(ids) == 120 and len(set(ids)) == 120
    assert ids == sorted(ids)
    assert {13329, 13330, 13331, 20001, 20117} <= set(ids)
    assert small == sorted(ids, reverse=True)
    assert mock.stats()["list_users"] == 3 + 18


def test_list_arguments_are_refused_before_sending(mock: Mock) -> None:
    with ycm.Client(mock.url, TOKEN) as client:
        bad: Any
        for bad in [0, 51, -1, True, "10", 2**31]:
            with pytest.raises(ycm.InvalidArgumentError, match="page_size"):
                client.list_users(page_size=bad)
        for bad in [0, -1, False, 1.0]:
            with pytest.raises(ycm.InvalidArgumentError, match="page_number"):
                client.list_users(page_number=bad)
        for bad in ["", "user id", "-", "userId\0"]:
            with pytest.raises(ycm.InvalidArgumentError, match="sort"):
                client.list_users(sort=bad)
        with pytest.raises(ycm.InvalidArgumentError):
            list(client.iter_users(page_size=51))
    assert mock.requests() == 0


# --- errors ------------------------------------------------------------------------------


def status(code: int, message: bytes = b"it failed", **fields: Any) -> _ffi.ycm_status:
    value = _ffi.ycm_status()
    value.code = code
    value.message = message
    for key, item in fields.items():
        setattr(value, key, item)
    return value


def test_one_class_per_code() -> None:
    expected = {
        ycm.Code.NULL_ARGUMENT: ycm.NullArgumentError,
        ycm.Code.INVALID_ARGUMENT: ycm.InvalidArgumentError,
        ycm.Code.INVALID_UTF8: ycm.InvalidUtf8Error,
        ycm.Code.INVALID_BODY: ycm.InvalidBodyError,
        ycm.Code.CONNECT: ycm.ConnectError,
        ycm.Code.TIMEOUT: ycm.TimeoutError,
        ycm.Code.TLS: ycm.TlsError,
        ycm.Code.IO: ycm.IoError,
        ycm.Code.HTTP: ycm.HttpError,
        ycm.Code.UNAUTHORIZED: ycm.UnauthorizedError,
        ycm.Code.RATE_LIMITED: ycm.RateLimitedError,
        ycm.Code.API: ycm.ApiError,
        ycm.Code.BAD_RESPONSE: ycm.BadResponseError,
        ycm.Code.CANCELLED: ycm.CancelledError,
        ycm.Code.INTERNAL: ycm.InternalError,
    }
    assert set(expected) == set(ycm.Code) - {ycm.Code.OK}
    for code, cls in expected.items():
        error = _errors.error_from_status(
            status(
                code,
                http_status=503,
                attempts=3,
                time=1664437503,
                api_errcode=7,
                request_id=b"bed793ceb96f19a58177b53a3097a1d8",
            )
        )
        assert type(error) is cls and isinstance(error, ycm.YcmError)
        assert error.code is code and error.message == "it failed"
        assert (error.http_status, error.attempts, error.api_errcode) == (503, 3, 7)
        assert error.request_id == "bed793ceb96f19a58177b53a3097a1d8"
        assert error.timestamp == 1664437503
        assert error.time is not None and error.time.isoformat() == "2022-09-29T07:45:03+00:00"
        assert "it failed" in str(error) and code.name in str(error)
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is cls and copy.code is code and copy.request_id == error.request_id
        assert code.c_name.startswith("YCM_ERR_")


def test_builtin_bases() -> None:
    assert issubclass(ycm.InvalidArgumentError, ValueError)
    assert issubclass(ycm.InvalidUtf8Error, ValueError)
    assert issubclass(ycm.InvalidBodyError, ValueError)
    assert issubclass(ycm.ConnectError, ConnectionError)
    assert issubclass(ycm.IoError, ConnectionError)
    assert issubclass(ycm.TimeoutError, TimeoutError)
    assert issubclass(ycm.UnauthorizedError, PermissionError)
    assert not issubclass(ycm.TlsError, OSError)
    assert not issubclass(ycm.ApiError, OSError)
    # OSError-based classes keep their message (one argument: no errno parsing).
    error = ycm.ConnectError(ycm.Code.CONNECT, "refused")
    assert error.args == ("refused",) and error.errno is None


def test_absent_fields_mirror_the_c_status() -> None:
    error = _errors.error_from_status(status(ycm.Code.CONNECT, b"connection refused"))
    assert error.http_status == 0 and error.api_errcode == 0
    assert error.request_id == "" and error.time is None and error.timestamp == 0
    assert error.attempts == 0
    assert str(error) == "connection refused [CONNECT: attempts 0]"


def test_unknown_code_becomes_internal() -> None:
    error = _errors.error_from_status(status(77, b"new failure"))
    assert isinstance(error, ycm.InternalError)
    assert "77" in error.message and "new failure" in error.message


def test_invalid_utf8_strings() -> None:
    with pytest.raises(ycm.InvalidUtf8Error):
        ycm.Client("http://127.0.0.1:1", "\udcff")


# --- version and packaging ---------------------------------------------------------------


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", ycm.__version__)
    assert ycm.__version__ == _ffi.version()
    # The version is declared once, in the crate's Cargo.toml (pyproject.toml takes it
    # dynamically from ycm/_version.py, which setup.py checks against the library).
    cargo = (Path(__file__).resolve().parents[3] / "Cargo.toml").read_text()
    match = re.search(r'^version = "([^"]+)"', cargo, re.MULTILINE)
    assert match and match.group(1) == ycm.__version__
    assert Path(ycm.library_path).is_absolute() and Path(ycm.library_path).is_file()


def test_every_public_name_is_exported() -> None:
    for name in ycm.__all__:
        assert hasattr(ycm, name), name
    assert (Path(ycm.__file__).parent / "py.typed").is_file()
