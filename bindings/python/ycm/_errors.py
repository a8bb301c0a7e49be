"""Errors: :class:`Code` (mirrors ``enum ycm_code``), :class:`YcmError` and one subclass per
code, and :func:`error_from_status`, the one place that turns a ``ycm_status`` into an
exception. Errors the package detects itself before calling the library (a Python type the
C side cannot express) are built with :func:`local_error` so they look exactly like the
library's own refusals (``attempts == 0``: nothing was sent).

Besides :class:`YcmError`, several classes also derive from the builtin exception a Python
user would reach for:

* ``InvalidArgumentError``, ``InvalidUtf8Error``, ``InvalidBodyError``: ``ValueError``
* ``ConnectError`` and ``IoError``: ``ConnectionError`` (so also ``OSError``). ``IoError``
  is a connection that failed during the exchange (reset, truncated); it is a
  ``ConnectionError`` rather than a bare ``OSError`` so that ``except ConnectionError``
  catches every transport failure that is worth retrying later.
* ``TimeoutError``: the builtin ``TimeoutError`` (so also ``OSError``)
* ``UnauthorizedError``: ``PermissionError`` (so also ``OSError``)

``TlsError`` is deliberately not a ``ConnectionError``: a refused certificate is a
configuration problem, not a transient one.
"""

from __future__ import annotations

import builtins
import enum
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Tuple, Type

from . import _ffi


class Code(enum.IntEnum):
    """The stable numeric result codes of the C API (``enum ycm_code``)."""

    OK = 0
    NULL_ARGUMENT = 1
    INVALID_ARGUMENT = 2
    INVALID_UTF8 = 3
    INVALID_BODY = 4
    CONNECT = 10
    TIMEOUT = 11
    TLS = 12
    IO = 13
    HTTP = 20
    UNAUTHORIZED = 21
    RATE_LIMITED = 22
    API = 23
    BAD_RESPONSE = 24
    CANCELLED = 30
    INTERNAL = 90

    @property
    def c_name(self) -> str:
        """The C name, for example ``"YCM_ERR_TIMEOUT"`` (from ``ycm_code_name``)."""
        return _ffi.code_name(int(self))


def to_datetime(timestamp: int) -> Optional[datetime]:
    """An aware UTC datetime for Unix seconds, or None when 0 or out of range."""
    if timestamp == 0:
        return None
    try:
        return datetime.fromtimestamp(timestamp, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


class YcmError(Exception):
    """A ycm call failed. Carries every field of the C ``ycm_status``.

    Attributes:
        code: the :class:`Code`.
        message: what went wrong, from the library; never holds a token or a secret.
        http_status: HTTP status of the last response; 0 when none was received.
        attempts: HTTP requests made (token requests included); 0 when nothing was sent.
        time: the envelope's ``time`` as an aware UTC datetime, or None when absent.
        timestamp: the envelope's ``time`` in Unix seconds; 0 when absent.
        api_errcode: the YCM error code of a ``Failed`` envelope; 0 when absent.
        request_id: the envelope's ``requestId``; ``""`` when absent.

    The integer and string fields mirror the C ``ycm_status`` exactly (0 or ``""`` when
    absent); only ``time`` uses None, since there is no "zero" datetime.
    """

    code: Code

    def __init__(
        self,
        code: Code,
        message: str,
        *,
        http_status: int = 0,
        attempts: int = 0,
        timestamp: int = 0,
        api_errcode: int = 0,
        request_id: str = "",
    ) -> None:
        # One argument only: OSError-derived subclasses would read two as (errno, strerror).
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.attempts = attempts
        self.timestamp = timestamp
        self.time: Optional[datetime] = to_datetime(timestamp)
        self.api_errcode = api_errcode
        self.request_id = request_id

    def __str__(self) -> str:
        details = []
        if self.http_status:
            details.append(f"HTTP {self.http_status}")
        if self.api_errcode:
            details.append(f"errcode {self.api_errcode}")
        if self.request_id:
            details.append(f"requestId {self.request_id}")
        details.append(f"attempts {self.attempts}")
        return f"{self.message} [{self.code.name}: {', '.join(details)}]"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code.name}, message={self.message!r}, "
            f"http_status={self.http_status}, attempts={self.attempts}, "
            f"api_errcode={self.api_errcode}, request_id={self.request_id!r})"
        )

    def __reduce__(self) -> Tuple[Any, ...]:  # keep pickling working with keyword-only fields
        return (
            _rebuild,
            (
                type(self),
                int(self.code),
                self.message,
                self.http_status,
                self.attempts,
                self.timestamp,
                self.api_errcode,
                self.request_id,
            ),
        )


def _rebuild(
    cls: Type[YcmError],
    code: int,
    message: str,
    http_status: int,
    attempts: int,
    timestamp: int,
    api_errcode: int,
    request_id: str,
) -> YcmError:
    return cls(
        Code(code),
        message,
        http_status=http_status,
        attempts=attempts,
        timestamp=timestamp,
        api_errcode=api_errcode,
        request_id=request_id,
    )


class NullArgumentError(YcmError):
    """A required argument was missing (NULL at the C boundary); nothing was sent."""


class InvalidArgumentError(YcmError, ValueError):
    """Bad base URL, user id, token, page arguments or option; nothing was sent."""


class InvalidUtf8Error(YcmError, ValueError):
    """A string could not be encoded as UTF-8; nothing was sent."""


class InvalidBodyError(YcmError, ValueError):
    """The update was refused: empty, unknown field, wrong type, bad value; nothing was sent."""


class ConnectError(YcmError, ConnectionError):
    """Could not connect: DNS failure, connection refused, unreachable."""


class TimeoutError(YcmError, builtins.TimeoutError):
    """The call did not finish within ``timeout_ms``."""


class TlsError(YcmError):
    """TLS handshake or certificate verification failed."""


class IoError(YcmError, ConnectionError):
    """The connection failed during the exchange: reset, truncated, other I/O."""


class HttpError(YcmError):
    """A non-2xx response without a YCM envelope (see ``http_status``)."""


class UnauthorizedError(YcmError, PermissionError):
    """The access token or the client credentials were rejected."""


class RateLimitedError(YcmError):
    """Still throttled (HTTP 429) after the retry budget."""


class ApiError(YcmError):
    """YCM answered with status "Failed"; see ``api_errcode`` and ``message``."""


class BadResponseError(YcmError):
    """The response was not understood: not JSON, fields missing, too large."""


class CancelledError(YcmError):
    """The call was stopped by the caller (its ``ycm_cancel`` was triggered); nothing more
    was sent and its connection was not reused.

    Not to be confused with :class:`asyncio.CancelledError`: when Ctrl-C or a cancelled
    asyncio task stops a call, the package raises ``KeyboardInterrupt`` or
    ``asyncio.CancelledError`` as Python code expects, not this class.
    """


class InternalError(YcmError):
    """A bug in ycm (a caught panic or a broken invariant)."""


class ClientClosedError(RuntimeError):
    """A :class:`ycm.Client` was used after ``close()``."""


ERROR_CLASSES: Dict[Code, Type[YcmError]] = {
    Code.NULL_ARGUMENT: NullArgumentError,
    Code.INVALID_ARGUMENT: InvalidArgumentError,
    Code.INVALID_UTF8: InvalidUtf8Error,
    Code.INVALID_BODY: InvalidBodyError,
    Code.CONNECT: ConnectError,
    Code.TIMEOUT: TimeoutError,
    Code.TLS: TlsError,
    Code.IO: IoError,
    Code.HTTP: HttpError,
    Code.UNAUTHORIZED: UnauthorizedError,
    Code.RATE_LIMITED: RateLimitedError,
    Code.API: ApiError,
    Code.BAD_RESPONSE: BadResponseError,
    Code.CANCELLED: CancelledError,
    Code.INTERNAL: InternalError,
}


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def error_from_status(status: _ffi.ycm_status) -> YcmError:
    """The exception for a failed ``ycm_status`` (``status.code != YCM_OK``)."""
    message = _text(status.message)
    try:
        code = Code(status.code)
    except ValueError:
        # A code this package does not know (a newer library): keep the number visible.
        code = Code.INTERNAL
        message = f"unknown ycm_code {status.code}: {message}"
    if code is Code.OK:
        code = Code.INTERNAL
        message = "internal error: error_from_status called with a successful status"
    cls = ERROR_CLASSES[code]
    return cls(
        code,
        message or code.name.lower().replace("_", " "),
        http_status=status.http_status,
        attempts=status.attempts,
        timestamp=status.time,
        api_errcode=status.api_errcode,
        request_id=_text(status.request_id),
    )


def check(status: _ffi.ycm_status) -> _ffi.ycm_status:
    """Returns ``status`` when it is a success, raises its exception otherwise."""
    if status.code != Code.OK:
        raise error_from_status(status)
    return status


def local_error(code: Code, message: str) -> YcmError:
    """An error found in Python before calling the library: nothing was sent."""
    return ERROR_CLASSES[code](code, message)
