"""The bridge from the library's log records (``ycm_set_log_callback``) to :mod:`logging`.

The package logs to ``logging.getLogger("ycm")``, which has only a ``NullHandler``, and its
children ``ycm.http`` (one DEBUG record per HTTP attempt, one WARNING per retry) and
``ycm.auth`` (one INFO record per token fetch or refresh); a library target ``ycm::x``
becomes the logger ``ycm.x``. Each record carries the extra attributes ``method``,
``path``, ``http_status``, ``attempt``, ``elapsed_ms`` and ``request_id`` (empty or 0 when
they do not apply), and its message reads on its own with a default formatter
(``PUT /dm/open_api/v1/users/13329 -> 200 in 12 ms (attempt 1)``). No record holds a secret: the library builds messages from paths,
statuses and its own texts.

Cost: the native callback is installed with the most verbose level any of those loggers
wants (from their effective levels, re-checked at the start of every call with a few
cached ``isEnabledFor`` lookups), so records nobody would see are never built, and with
logging at its default (WARNING) an ordinary call crosses no callback at all. The callback
is a module-level ``CFUNCTYPE`` object kept alive here; it catches every exception (the
last one is kept in :data:`last_callback_error`), and is removed at interpreter exit,
before module teardown, so that no native thread can call into a freed trampoline.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any, Dict, Optional, Tuple

from . import _ffi

logger = logging.getLogger("ycm")
logger.addHandler(logging.NullHandler())
http_logger = logging.getLogger("ycm.http")
auth_logger = logging.getLogger("ycm.auth")

TRACE = 5
"""The :mod:`logging` level of the library's TRACE records (below DEBUG)."""

_PY_LEVEL: Dict[int, int] = {
    _ffi.YCM_LOG_ERROR: logging.ERROR,
    _ffi.YCM_LOG_WARN: logging.WARNING,
    _ffi.YCM_LOG_INFO: logging.INFO,
    _ffi.YCM_LOG_DEBUG: logging.DEBUG,
    _ffi.YCM_LOG_TRACE: TRACE,
}
# From the most severe: the first level no logger wants ends the scan.
_SCAN = sorted(_PY_LEVEL.items())
_WATCHED = (http_logger, auth_logger, logger)

# Bytes of a ycm_log_record up to the end of each field: a shorter record (an older
# library) leaves the later fields at their defaults.
_FIELD_END = {
    field[0]: getattr(_ffi.ycm_log_record, field[0]).offset
    + getattr(_ffi.ycm_log_record, field[0]).size
    for field in _ffi.ycm_log_record._fields_
}

last_callback_error: Optional[BaseException] = None
"""The last exception raised while forwarding a record (None when there was none)."""

_loggers: Dict[bytes, logging.Logger] = {}


def _logger_for(target: bytes) -> logging.Logger:
    found = _loggers.get(target)
    if found is None:
        name = target.decode("utf-8", errors="replace").replace("::", ".")
        if name != "ycm" and not name.startswith("ycm."):
            name = "ycm"
        found = _loggers[target] = logging.getLogger(name)
    return found


def _text(record: _ffi.ycm_log_record, name: str) -> str:
    if record.size < _FIELD_END[name]:
        return ""
    raw: Optional[bytes] = getattr(record, name)
    return raw.decode("utf-8", errors="replace") if raw else ""


def _number(record: _ffi.ycm_log_record, name: str) -> int:
    return int(getattr(record, name)) if record.size >= _FIELD_END[name] else 0


def _forward(record: _ffi.ycm_log_record) -> None:
    level = _PY_LEVEL.get(record.level, logging.ERROR)
    target = _logger_for(record.target or b"ycm")
    if not target.isEnabledFor(level):
        return
    extra: Dict[str, Any] = {
        "method": _text(record, "method"),
        "path": _text(record, "path"),
        "http_status": _number(record, "http_status"),
        "attempt": _number(record, "attempt"),
        "elapsed_ms": _number(record, "elapsed_ms"),
        "request_id": _text(record, "request_id"),
    }
    msg, args = _message(record.level, _text(record, "message"), extra)
    target.handle(target.makeRecord(target.name, level, "libycm", 0, msg, args, None, extra=extra))


def _message(native_level: int, text: str, extra: Dict[str, Any]) -> Tuple[str, Tuple[Any, ...]]:
    """The record's message as a format and its arguments (formatted only when shown).

    A record about an HTTP attempt reads on its own with a default formatter:
    ``PUT /dm/open_api/v1/users/13329 -> 200 in 12 ms (attempt 1)`` for an answered
    attempt, ``... -> no response in 5000 ms (attempt 1): <why>`` for one that got none,
    and ``PUT /path: <the library's text>`` for the others (a retry's WARNING); a record
    without a method (a token fetch) keeps the library's text.
    """
    method, path = extra["method"], extra["path"]
    if not method:
        return "%s", (text,)
    if native_level == _ffi.YCM_LOG_DEBUG:
        attempt = (extra["elapsed_ms"], extra["attempt"])
        if extra["http_status"]:
            return "%s %s -> %d in %d ms (attempt %d)", (method, path, extra["http_status"]) + attempt
        return "%s %s -> no response in %d ms (attempt %d): %s", (method, path) + attempt + (text,)
    return "%s %s: %s", (method, path, text)


def _receive(record: Any, user_data: Any) -> None:
    """The trampoline the library calls (on the thread that made the call)."""
    global last_callback_error
    try:
        _forward(record.contents)
    except BaseException as exc:  # nothing may unwind into the library
        last_callback_error = exc


_trampoline = _ffi.ycm_log_fn(_receive)  # kept alive for as long as the library may call it
_NO_CALLBACK = _ffi.ycm_log_fn()  # NULL


_native_level = -1  # what is installed: -1 not yet, 0 no callback, else a ycm_log_level
_closed = False
_install_lock = threading.Lock()


def _wanted() -> int:
    wanted = 0
    for native, level in _SCAN:
        if not (
            http_logger.isEnabledFor(level)
            or auth_logger.isEnabledFor(level)
            or logger.isEnabledFor(level)
        ):
            break
        wanted = native
    return wanted


def refresh() -> None:
    """Makes the installed callback level follow the loggers' levels (called per call)."""
    wanted = _wanted()
    if wanted != _native_level:
        _install(wanted)


def _install(wanted: int) -> None:
    global _native_level
    with _install_lock:
        if _closed or wanted == _native_level:
            return
        if wanted:
            status = _ffi.lib.ycm_set_log_callback(_trampoline, wanted, None)
        else:
            status = _ffi.lib.ycm_set_log_callback(_NO_CALLBACK, _ffi.YCM_LOG_ERROR, None)
        if status.code == 0:
            _native_level = wanted


def _remove_at_exit() -> None:
    global _closed, _native_level
    with _install_lock:
        _closed = True
        if _native_level > 0:
            _ffi.lib.ycm_set_log_callback(_NO_CALLBACK, _ffi.YCM_LOG_ERROR, None)
        _native_level = 0


atexit.register(_remove_at_exit)
refresh()
