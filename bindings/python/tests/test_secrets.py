"""Secrets never leak through the Python package: every error path reachable from Python (bad
options, bad token, wrong client secret, API and validation failures, 503 and close-mid-body
faults, expired and revoked tokens, a peer that resets the connection) is swept with a
static-token client, a credentials client and a wrong-secret client, and no message,
``str()``, ``repr()``, ``args``, traceback or pickle of any exception, no ``repr()`` of a
client or a result, nothing written to stdout/stderr and no line of the mock's request log
holds the static token, the client secret, the wrong secret, or a token the mock issued;
nor does any log record of ``logging.getLogger("ycm")`` (captured at DEBUG).

A peer that echoes the credentials back in every encoding servers use (``ycm-fault-server
--case echo-every-form``: JSON-escaped with ``\\/`` and ``\\uXXXX``, percent, form, base64,
HTML entities) is swept with client secrets and tokens made of every awkward character
class: what reaches Python is ``[REDACTED]``, never the secret in any of those forms.
"""

from __future__ import annotations

import base64
import html
import json
import pickle
import time
import traceback
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, List, Type

import pytest

import ycm
from conftest import CLIENT_ID, LogCapture, Mock

STATIC_TOKEN = "PyStaticTokenValue0123456789"
SECRET = "PyClientSecretValue0123456789"
WRONG_SECRET = "WrongSecretValue0123456789"
FAST: Dict[str, Any] = {"max_retries": 2, "retry_base_ms": 10, "retry_max_ms": 50}


class Sweep:
    """Everything a user could see of the calls made: rendered exceptions and objects."""

    def __init__(self) -> None:
        self.texts: List[str] = []
        self.errors: List[ycm.YcmError] = []

    def error(self, exc: BaseException) -> None:
        if isinstance(exc, ycm.YcmError):
            self.errors.append(exc)
            self.texts.append(exc.message)
            self.texts.append(exc.request_id)
        self.texts.append(str(exc))
        self.texts.append(repr(exc))
        self.texts.append(repr(exc.args))
        # The three-argument form: Python 3.9 has no format_exception(exc).
        self.texts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        pickled = pickle.dumps(exc)
        self.texts.append(pickled.decode("latin-1"))
        again = pickle.loads(pickled)
        assert type(again) is type(exc)
        assert str(again) == str(exc)
        self.texts.append(repr(again))

    def call(self, action: Callable[[], object]) -> None:
        try:
            self.texts.append(repr(action()))
        except (ycm.YcmError, ValueError, TypeError) as exc:
            self.error(exc)

    def everything(self, client: ycm.Client) -> None:
        """Every call of the client, succeeding or not, and its repr."""
        self.call(lambda: client.update_user(13329, company="x"))
        self.call(lambda: client.update_user(99_999_999, company="x"))  # unknown user: API
        self.call(lambda: client.update_user(13330, pbx_creation_limit=5))  # not a reseller
        self.call(lambda: client.update_user(13329, {"x": 1}))  # validation, nothing sent
        self.call(lambda: client.update_user(0, company="x"))  # bad id, nothing sent
        self.call(lambda: client.get_user(13329))
        self.call(lambda: client.get_user(99_999_999))
        self.call(lambda: client.list_users(page_size=5))
        self.call(lambda: client.list_users(page_size=51))  # refused before sending
        self.call(lambda: client.set_access_token("bad token\r\n"))
        self.texts.append(repr(client))

    def classes(self) -> List[Type[ycm.YcmError]]:
        return [type(e) for e in self.errors]

    def assert_clean(self, secrets: List[str]) -> None:
        assert self.texts
        for text in self.texts:
            for secret in secrets:
                assert secret not in text, f"{secret!r} leaked in: {text}"


def issue_token(mock: Mock) -> Dict[str, Any]:
    """A token pair from the mock's token endpoint, fetched by the test itself."""
    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}
    ).encode()
    request = urllib.request.Request(
        mock.url + "/dm/open_api/oauth/token",
        data=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "ycm-python-tests",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def test_no_error_path_leaks_a_secret(
    start_mock_with: Callable[..., Mock],
    fault_server: Callable[[str], str],
    capfd: pytest.CaptureFixture[str],
    ycm_logs: LogCapture,
) -> None:
    mock = start_mock_with(
        "--access-token", STATIC_TOKEN, "--client-secret", SECRET, "--token-ttl", "1"
    )
    issued = issue_token(mock)
    secrets = [STATIC_TOKEN, SECRET, WRONG_SECRET, issued["access_token"], issued["refresh_token"]]
    sweep = Sweep()

    # Construction: refused options never echo the secret or the token.
    bad_constructions: List[Callable[[], object]] = [
        lambda: ycm.Client("ftp://example.invalid", STATIC_TOKEN),
        lambda: ycm.Client(mock.url, STATIC_TOKEN + "\r\n"),
        lambda: ycm.Client(mock.url, STATIC_TOKEN + " x"),
        lambda: ycm.Client(mock.url, STATIC_TOKEN + "\0"),
        lambda: ycm.Client(mock.url, STATIC_TOKEN, client_id=CLIENT_ID, client_secret=SECRET),
        lambda: ycm.Client(mock.url, client_secret=SECRET),
        lambda: ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=SECRET + "\r\n"),
        lambda: ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=SECRET + "\0"),
        lambda: ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=SECRET, timeout_ms=0),
        lambda: ycm.Client("not a url", client_id=CLIENT_ID, client_secret=SECRET),
    ]
    for construct in bad_constructions:
        with pytest.raises((ycm.YcmError, TypeError)) as raised:
            construct()
        sweep.error(raised.value)

    static = ycm.Client(mock.url, STATIC_TOKEN, **FAST)
    creds = ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=SECRET, **FAST)
    wrong = ycm.Client(mock.url, client_id=CLIENT_ID, client_secret=WRONG_SECRET, **FAST)
    issued_client = ycm.Client(mock.url, issued["access_token"], **FAST)
    clients = [issued_client, static, creds, wrong]
    for client in clients:
        sweep.everything(client)
        mock.faults(fail_next=5, fail_status=503)
        sweep.everything(client)
        mock.faults(close_next=3)
        sweep.everything(client)
        mock.faults()
        mock.expire()
        sweep.everything(client)
        mock.revoke()
        sweep.everything(client)
    time.sleep(1.1)  # past the issued tokens' one-second lifetime
    sweep.everything(creds)
    sweep.everything(issued_client)

    # A peer that resets every connection, for the token request and the resource call.
    reset_url = fault_server("reset")
    for client in [
        ycm.Client(reset_url, STATIC_TOKEN, **FAST),
        ycm.Client(reset_url, client_id=CLIENT_ID, client_secret=SECRET, **FAST),
    ]:
        with client:
            sweep.everything(client)

    for client in clients:
        client.close()
        sweep.texts.append(repr(client))

    # The sweep reached the paths it claims to: each of these was raised at least once.
    seen = set(sweep.classes())
    for expected in [
        ycm.InvalidArgumentError,
        ycm.InvalidBodyError,
        ycm.ApiError,
        ycm.HttpError,  # the 503 faults
        ycm.IoError,  # close mid-body, reset
        ycm.UnauthorizedError,  # wrong secret, revoked issued token
    ]:
        assert expected in seen, (expected, seen)
    refused = [e for e in sweep.errors if isinstance(e, ycm.UnauthorizedError)]
    assert any("credentials" in e.message for e in refused), [e.message for e in refused]
    assert any(e.http_status == 503 for e in sweep.errors)
    assert mock.stats()["token_requests"] >= 3

    # What the library or the package printed, and what the mock logged.
    captured = capfd.readouterr()
    sweep.texts.extend([captured.out, captured.err])
    log = mock.log_text()
    assert "[REDACTED]" in log
    sweep.texts.append(log)
    # Every record the package logged at DEBUG and above, with all its attributes.
    assert {r.name for r in ycm_logs.records} >= {"ycm.http", "ycm.auth"}
    sweep.texts.extend(ycm_logs.texts())
    sweep.assert_clean(secrets)


# Every awkward character class: quote, backslash, slash, non-ASCII, emoji, space, +, %, &,
# <, >, ~, =, and text that looks like an escape. Bearer tokens allow only -._~+/ and =.
AWKWARD_SECRETS = [
    'q"uo"te\\back\\slash',
    "s/la/sh//x",
    "n\u00f6n-\u00c4SC\u00ef\u00ef \u65e5\u672c",
    "emoji \U0001f600\U0001f511 key",
    "sp a+ce%25 &amp; <b>~=",
    'a"b\\c/d \u00e9\U0001f600 +%&<>~=',
    "%2F\\u0041&#39;+x",
]
AWKWARD_TOKENS = ["Tok/en+with~sl/ash.dot_dash-0==", "//++~~..__--=="]
ECHO_FORMS = 12  # the encodings ycm-fault-server's echo-every-form cycles through


def encoded_forms(secret: str) -> List[str]:
    """The secret as the echoing peer may send it back."""
    raw = secret.encode()
    return [
        secret,
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret, safe="").lower(),
        urllib.parse.quote(secret, safe="-._~"),
        urllib.parse.quote_plus(secret, safe="*-._"),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        html.escape(secret),
        "".join(c if c.isalnum() and c.isascii() else f"&#{ord(c)};" for c in secret),
        "".join(c if c.isalnum() and c.isascii() else f"&#x{ord(c):X};" for c in secret),
    ]


def test_secrets_echoed_in_every_encoding_are_redacted(
    fault_server: Callable[[str], str], capfd: pytest.CaptureFixture[str]
) -> None:
    url = fault_server("echo-every-form")
    sweep = Sweep()
    for secret in AWKWARD_SECRETS:
        # A refused secret is never sent twice by one client: one client per encoding.
        for _ in range(ECHO_FORMS):
            with ycm.Client(url, client_id=CLIENT_ID, client_secret=secret, max_retries=0) as c:
                sweep.call(lambda: c.update_user(13329, company="x"))
                sweep.call(lambda: c.get_user(13329))  # the cached refusal
    for token in AWKWARD_TOKENS:
        with ycm.Client(url, token, max_retries=0) as client:
            for _ in range(ECHO_FORMS):
                sweep.call(lambda: client.update_user(13329, company="x"))
    calls = len(AWKWARD_SECRETS) * ECHO_FORMS * 2 + len(AWKWARD_TOKENS) * ECHO_FORMS
    assert len(sweep.errors) == calls
    for error in sweep.errors:
        assert "[REDACTED]" in error.message, error.message
    assert {type(e) for e in sweep.errors} == {
        ycm.UnauthorizedError,  # the token endpoint's refusals
        ycm.ApiError,  # a Failed envelope echoing the token
        ycm.HttpError,  # text, JSON and HTML echoes of the token
    }
    captured = capfd.readouterr()
    sweep.texts.extend([captured.out, captured.err])
    every_form = [form for s in AWKWARD_SECRETS + AWKWARD_TOKENS for form in encoded_forms(s)]
    sweep.assert_clean(every_form)
