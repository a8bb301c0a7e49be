"""The :class:`Client` (owner of one ``ycm_client`` handle) and
:func:`validate_user_update`. Python-side checks here only guard what ctypes would get
wrong silently (a bool taken as an int, an int wrapped to 64 bits, a NUL byte cutting a
string short); every YCM rule is the library's, so Python and C refuse the same bodies
with the same messages.
"""

from __future__ import annotations

import _thread
import collections.abc
import ctypes
import json
import os
import threading
import weakref
from datetime import datetime
from pathlib import Path
from json.encoder import encode_basestring as _encode_string
from typing import (
    Any,
    Callable,
    Dict,
    Generic,
    Iterable,
    Iterator,
    Literal,
    Mapping,
    Optional,
    Tuple,
    TypeVar,
    Union,
)

from . import _ffi, _log
from . import _calls
from . import _sync
from ._sync import ProgressCallback, Records, SyncPlan, SyncReport
from ._errors import (
    ClientClosedError,
    Code,
    YcmError,
    check,
    error_from_status,
    local_error,
    to_datetime,
)
from ._types import (
    NO_LIMIT,
    NoLimit,
    ParseError,
    UpdateResult,
    User,
    UserPage,
    parse_page,
    parse_user,
)

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1

# Keyword (snake_case) -> wire name of every field of a user update.
UPDATE_KEYWORDS: Dict[str, str] = {
    "company": "company",
    "first_name": "firstName",
    "last_name": "lastName",
    "email": "email",
    "phone": "phone",
    "mobile": "mobile",
    "address": "address",
    "remark": "remark",
    "two_factor_authentication_enable": "twoFactorAuthenticationEnable",
    "pbx_creation_limit": "pbxCreationLimit",
}

PbxLimit = Union[int, NoLimit, Literal[""]]

RecordsLike = Union[Records, str, "os.PathLike[str]", Iterable[Mapping[str, Any]]]
"""What :meth:`Client.plan_sync` takes: :class:`ycm.Records`, a records file's path, or an
iterable of mappings ``{"userId": 13329, "company": "ACME", ...}`` (wire names and values,
as one JSONL line each)."""


def _c_string(value: object, name: str) -> bytes:
    """UTF-8 bytes for a ``const char *`` argument, refusing what C would misread."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if "\0" in value:
        raise local_error(Code.INVALID_ARGUMENT, f"{name} must not contain a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise local_error(Code.INVALID_UTF8, f"{name} is not valid UTF-8: {exc.reason}") from None


def _int_arg(value: object, name: str, low: int, high: int) -> int:
    """An integer argument, refusing bools, non-integers and values ctypes would wrap."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise local_error(
            Code.INVALID_ARGUMENT, f"{name} must be an int, got {type(value).__name__}"
        )
    if not low <= value <= high:
        raise local_error(Code.INVALID_ARGUMENT, f"{name} must be from {low} to {high}, got {value}")
    return value


def _user_id(value: object) -> int:
    # The lower bound stays the library's rule (user_id <= 0 is refused there).
    return _int_arg(value, "user_id", -INT64_MAX - 1, INT64_MAX)


# UTF-8 as is (not \u escapes) and compact, as the library writes it; made once (json.dumps
# with options builds a JSONEncoder per call, and each encode() still builds its C encoder).
_BODY_ENCODER = json.JSONEncoder(allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def _encode_body(body: Dict[str, Any]) -> str:
    """``_BODY_ENCODER.encode(body)``, written directly when every value is a str (the
    usual update), which skips the C encoder object ``encode()`` makes for every call."""
    for value in body.values():
        if type(value) is not str:
            return _BODY_ENCODER.encode(body)
    members = [_encode_string(key) + ":" + _encode_string(value) for key, value in body.items()]
    return "{" + ",".join(members) + "}"


def build_update_body(
    fields: Optional[Mapping[str, Any]],
    keywords: Mapping[str, Any],
    disable_two_factor: bool,
) -> bytes:
    """The JSON body of an update from the mapping (wire names) and the keywords."""
    body: Dict[str, Any] = {}
    if fields is not None:
        if not isinstance(fields, collections.abc.Mapping):  # typing's is 5x slower
            raise local_error(
                Code.INVALID_BODY,
                "fields must be a mapping of YCM field names to values (for example "
                f'{{"company": "New Company Name"}}), got {type(fields).__name__}',
            )
        for key, value in fields.items():
            if not isinstance(key, str):
                raise local_error(
                    Code.INVALID_BODY, f"field names must be strings, got {key!r:.40}"
                )
            body[key] = value
    for keyword, value in keywords.items():
        if value is None:
            continue
        wire = UPDATE_KEYWORDS[keyword]
        if wire in body:
            raise TypeError(f'field "{wire}" was given twice: in fields and as {keyword}=')
        body[wire] = value
    if not isinstance(disable_two_factor, bool):
        raise TypeError(
            f"disable_two_factor must be a bool, got {type(disable_two_factor).__name__}"
        )
    if disable_two_factor:
        wire = UPDATE_KEYWORDS["two_factor_authentication_enable"]
        if wire in body:
            raise TypeError(f'field "{wire}" was given twice: disable_two_factor=True and {wire}')
        body[wire] = "disable"
    for key, value in body.items():
        if value is NO_LIMIT:
            if key != UPDATE_KEYWORDS["pbx_creation_limit"]:
                raise local_error(
                    Code.INVALID_BODY, f'NO_LIMIT is only a value of "pbxCreationLimit", not "{key}"'
                )
            body[key] = ""
    try:
        # UTF-8 as is (not \u escapes) and compact, as the library writes it: the size limit
        # then counts the same bytes in Python, C and Rust.
        text = _encode_body(body)
    except (TypeError, ValueError) as exc:
        raise local_error(Code.INVALID_BODY, f"the update cannot be sent as JSON: {exc}") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate somewhere: find the field to name it (only on this error path).
        for key, value in body.items():
            _check_utf8(key, value)
        raise local_error(Code.INVALID_UTF8, "the update is not valid UTF-8") from None


def _lone_surrogate(text: str) -> Optional[str]:
    """Where ``text`` cannot be UTF-8 (a lone surrogate), described; None when it can."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone surrogate U+{ord(text[exc.start]):04X} at index {exc.start}"
    return None


def _check_utf8(key: str, value: Any) -> None:
    """Refuses a field name or a string anywhere in a field's value that is not UTF-8.

    A Python str may hold lone surrogates (from ``surrogateescape`` decoding, for example);
    they have no UTF-8 form, so the update is refused here, naming the field, as the library
    refuses bytes that are not UTF-8.
    """
    where = _lone_surrogate(key)
    if where is not None:
        raise local_error(
            Code.INVALID_UTF8, f"the field name {key!r:.60} is not valid UTF-8: {where}"
        )
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            where = _lone_surrogate(item)
            if where is not None:
                raise local_error(
                    Code.INVALID_UTF8, f'field "{key}" is not valid UTF-8: {where}'
                )
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)


def validate_user_update(
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
) -> None:
    """Checks an update exactly as :meth:`Client.update_user` does, offline: nothing is sent.

    Raises :class:`ycm.InvalidBodyError` (a ``ValueError``) naming the field and the rule, or
    :class:`ycm.InvalidUtf8Error` for a str holding a lone surrogate. The body is sent as
    UTF-8, and the 64 KiB limit counts its UTF-8 bytes, as in C.
    """
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
    check(_ffi.lib.ycm_validate_user_update(body))


T = TypeVar("T")


class Operation(Generic[T]):
    """One prepared call, shared by :class:`Client` and :class:`ycm.aio.AsyncClient`: its
    arguments already checked, ``call(handle, cancel)`` the native call, ``out`` the
    ``char **`` it fills (or None), ``finish(status)`` the result of a successful status."""

    __slots__ = ("call", "out", "finish")

    def __init__(
        self,
        call: Callable[[Any, Any], _ffi.ycm_status],
        finish: Callable[[_ffi.ycm_status], T],
        out: Optional[ctypes.c_void_p] = None,
    ) -> None:
        self.call = call
        self.finish = finish
        self.out = out


def update_operation(user_id: object, body: bytes) -> Operation[UpdateResult]:
    uid = _user_id(user_id)
    return Operation(
        lambda handle, cancel: _ffi.lib.ycm_update_user_with_cancel(handle, uid, body, cancel),
        _update_result,
    )


def _json_result(
    out: ctypes.c_void_p, parse: Callable[[Any], T], what: str
) -> Callable[[_ffi.ycm_status], T]:
    """The ``finish`` of a read: takes the JSON the call wrote to ``out`` and parses it,
    a reply the package cannot read becoming a BadResponseError that keeps the call's details."""

    def finish(status: _ffi.ycm_status) -> T:
        text = _ffi.take_string(out)
        try:
            return parse(json.loads(text))
        except (ValueError, ParseError) as exc:
            raise _bad_response(status, f"{what} could not be read: {exc}") from None

    return finish


def get_user_operation(user_id: object) -> Operation[User]:
    uid = _user_id(user_id)
    out = ctypes.c_void_p()
    finish = _json_result(out, parse_user, "the user")

    return Operation(
        lambda handle, cancel: _ffi.lib.ycm_get_user_with_cancel(
            handle, uid, cancel, ctypes.byref(out)
        ),
        finish,
        out,
    )


def list_users_operation(
    page_size: object, page_number: object, sort: Optional[str]
) -> Operation[UserPage]:
    size = _int_arg(page_size, "page_size", -INT32_MAX - 1, INT32_MAX)
    number = _int_arg(page_number, "page_number", -INT32_MAX - 1, INT32_MAX)
    sort_arg = None if sort is None else _c_string(sort, "sort")
    out = ctypes.c_void_p()
    finish = _json_result(out, parse_page, "the page of users")

    return Operation(
        lambda handle, cancel: _ffi.lib.ycm_list_users_with_cancel(
            handle, size, number, sort_arg, cancel, ctypes.byref(out)
        ),
        finish,
        out,
    )


def plan_sync_operation(records: object) -> Operation[SyncPlan]:
    data, fmt = _sync.records_input(records)
    made: Dict[str, Any] = {}

    def call(handle: Any, cancel: Any) -> _ffi.ycm_status:
        status, made["plan"] = _sync.plan_native(handle, data, fmt, cancel)
        return status

    return Operation(call, lambda status: SyncPlan(made.pop("plan")))


def check_progress(on_progress: object) -> Optional[ProgressCallback]:
    if on_progress is not None and not callable(on_progress):
        raise TypeError(f"on_progress must be callable, got {type(on_progress).__name__}")
    return on_progress


def apply_sync_operation(
    plan: SyncPlan, options: bytes, on_progress: Optional[ProgressCallback]
) -> Operation[SyncReport]:
    """The apply as an :class:`Operation` for a cancel that is not the signal flag."""
    outcome: Dict[str, Any] = {}

    def call(handle: Any, cancel: Any) -> _ffi.ycm_status:
        status, outcome["report"], outcome["error"] = _sync.apply_native(
            handle, plan, options, cancel, on_progress
        )
        return status

    def finish(status: _ffi.ycm_status) -> SyncReport:
        return _sync.finish_apply(status, outcome.get("report"), outcome.get("error"))

    return Operation(call, finish)


# The last response time and its datetime: calls within one second share it (a datetime
# is immutable), and the conversion is a third of what a result costs to make.
_last_time: Tuple[int, Optional[datetime]] = (0, None)


def _time_of(timestamp: int) -> Optional[datetime]:
    global _last_time
    last = _last_time  # one read: another thread may replace it
    if last[0] == timestamp:
        return last[1]
    when = to_datetime(timestamp)
    _last_time = (timestamp, when)
    return when


def _update_result(status: _ffi.ycm_status) -> UpdateResult:
    timestamp = status.time
    when = _time_of(timestamp)
    if when is None:
        raise _bad_response(status, f"the response time {timestamp} is not a valid time")
    # Filled as the frozen dataclass's own __init__ would (every field, nothing else), whose
    # six object.__setattr__ calls were the largest single cost of an update in Python.
    result = object.__new__(UpdateResult)
    result.__dict__.update(
        request_id=status.request_id.decode("utf-8", errors="replace"),
        status="Success",
        time=when,
        timestamp=timestamp,
        http_status=status.http_status,
        attempts=status.attempts,
    )
    return result


def _bad_response(status: _ffi.ycm_status, message: str) -> YcmError:
    """A BadResponseError for JSON the package could not read, keeping the call's details."""
    status.code = int(Code.BAD_RESPONSE)
    status.message = message.encode("utf-8")[:511]
    return error_from_status(status)


class _Handle:
    """The ``ycm_client *`` of a :class:`Client` and the count of calls using it, shared
    with the client's finalizer (which must not hold the client itself).

    A call counts from :meth:`acquire` (before the native call starts) to :meth:`release`
    (after it returned). :meth:`free` is the finalizer: it refuses new calls, and frees the
    handle only when no call is counted. Calls can be counted only at interpreter exit,
    when the finalizer runs while daemon threads are inside calls: the handle is then left
    to the process's end rather than freed under a thread that is about to use it.
    """

    __slots__ = ("pointer", "lock", "active", "closing", "drained", "__weakref__")

    def __init__(self, pointer: Any) -> None:
        self.pointer: Optional[Any] = pointer
        # A plain lock, held for a counter update only: the hot path takes it twice per call.
        self.lock = _thread.allocate_lock()
        self.active = 0
        self.closing = False
        # Made by a close() that found calls under way; set by the last of them to end.
        self.drained: Optional[threading.Event] = None

    def acquire(self) -> Any:
        with self.lock:
            if self.closing:
                raise ClientClosedError("this ycm.Client is closed")
            self.active += 1
            return self.pointer

    def release(self) -> None:
        with self.lock:
            self.active -= 1
            if not self.active and self.drained is not None:
                self.drained.set()

    def close(self) -> bool:
        """Refuses new calls and waits for those under way (they end within their
        ``timeout_ms``); False when already closed."""
        with self.lock:
            if self.closing:
                return False
            self.closing = True
            if not self.active:
                return True
            drained = self.drained = threading.Event()
        drained.wait()
        return True

    def free(self) -> None:
        with self.lock:
            self.closing = True
            if self.active:
                return
            pointer, self.pointer = self.pointer, None
        if pointer is not None:
            _ffi.lib.ycm_client_free(pointer)


class Client:
    """A YCM client: configuration, connection pool and tokens, held by the library.

    ``Client(base_url, access_token)`` uses a ready bearer token;
    ``Client(base_url, client_id=..., client_secret=...)`` fetches and refreshes tokens
    itself. The other keywords are the library's options (``None`` keeps the default):
    ``user_agent``, ``timeout_ms`` (whole call, retries included), ``connect_timeout_ms``,
    ``max_retries``, ``retry_base_ms``, ``retry_max_ms``, ``max_response_bytes``,
    ``ca_file``, ``allow_insecure_http``, ``check_reseller_limit``, ``rate_limit`` (the
    client ID's budget in YCM's terms, ``"BURST/RATE/INTERVAL_S"``), ``shared_state``
    (``"process"``, the default; ``"host"``: every process of the user on this machine
    shares one token, one rate budget and one refusal latch; or a Redis URL,
    ``"redis://[[user]:password@]host[:port][/db]"`` or ``"rediss://..."``: every host that
    reaches the server shares them), ``state_dir`` (the host scope's directory) and
    ``proxy`` (an HTTP proxy, ``"http://[user:password@]host[:port]"`` with the credentials
    percent-encoded; ``""`` turns proxies off; ``None`` reads the environment as curl does:
    ``https_proxy``/``HTTPS_PROXY``, lowercase ``http_proxy``, ``all_proxy``/``ALL_PROXY``,
    ``no_proxy``/``NO_PROXY``; an https base URL is tunnelled with CONNECT, so ``ca_file`` is
    still verified end to end). Nothing is sent until the first call (a Redis scope
    connects once, so that a refused password or TLS failure raises here). Bad options, a
    bad proxy URL in the environment included, raise :class:`ycm.InvalidArgumentError`.

    One client may be shared by any number of threads; calls release the GIL. Close it with
    :meth:`close` or a ``with`` block (a finalizer frees it otherwise); after closing, every
    call raises :class:`ycm.ClientClosedError`.

    Ctrl-C during a call raises ``KeyboardInterrupt`` at once: a call made on the main
    thread runs on a worker thread of the client while the main thread waits, and a signal
    cancels the native call (it stops within about 100 ms and its connection is not reused)
    before the exception propagates; the client stays usable. Calls made on other threads
    (which never receive signals) run directly on their thread.
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
    ) -> None:
        if not isinstance(base_url, str):
            raise TypeError(f"base_url must be a str, got {type(base_url).__name__}")
        options: Dict[str, Any] = {
            "base_url": base_url,
            "access_token": access_token,
            "client_id": client_id,
            "client_secret": client_secret,
            "user_agent": user_agent,
            "timeout_ms": timeout_ms,
            "connect_timeout_ms": connect_timeout_ms,
            "max_retries": max_retries,
            "retry_base_ms": retry_base_ms,
            "retry_max_ms": retry_max_ms,
            "max_response_bytes": max_response_bytes,
            "ca_file": ca_file,
            "allow_insecure_http": allow_insecure_http,
            "check_reseller_limit": check_reseller_limit,
            "rate_limit": rate_limit,
            "shared_state": shared_state,
            "state_dir": state_dir,
            "proxy": proxy,
        }
        config = {key: value for key, value in options.items() if value is not None}
        for key, value in config.items():
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise local_error(Code.INVALID_UTF8, f"{key} is not valid UTF-8") from None
        try:
            config_json = json.dumps(config, allow_nan=False).encode("ascii")
        except (TypeError, ValueError) as exc:
            raise local_error(Code.INVALID_ARGUMENT, f"bad client option: {exc}") from None
        handle = _ffi.ycm_client_p()
        check(_ffi.lib.ycm_client_new_with_config(config_json, ctypes.byref(handle)))
        self._base_url = base_url
        self._state = _Handle(handle)
        self._finalizer = weakref.finalize(self, self._state.free)

    @classmethod
    def from_profile(
        cls, name: Optional[str] = None, *, config_file: Optional[str] = None, **options: Any
    ) -> "Client":
        """A client from a profile of the ``ycm`` command line's settings file.

        Reads ``[profiles.NAME]`` of ``$XDG_CONFIG_HOME/ycm/config.toml`` (default
        ``~/.config/ycm/config.toml``; ``config_file`` names another), with the command
        line's precedence, highest first: ``options`` (any keyword of :class:`Client`), the
        environment (``YCM_BASE_URL``, ``YCM_ACCESS_TOKEN``, ``YCM_CLIENT_ID`` and
        ``YCM_CLIENT_SECRET``, ``YCM_SHARED_STATE``, ``YCM_PROXY``), the profile, the
        defaults. ``name`` defaults to ``YCM_PROFILE``, else ``"default"``; a profile named
        but missing, an unknown key or missing credentials raise
        :class:`ycm.InvalidArgumentError`. A ``client_secret_file`` is read (its first
        line); ``ycm configure`` writes such profiles.
        """
        from . import _profile

        keywords = _profile.resolve(
            name,
            options,
            _profile.client_keywords(Client.__init__),
            config_file=None if config_file is None else Path(config_file),
        )
        base_url = keywords.pop("base_url")
        return cls(base_url, **keywords)

    # --- lifetime ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def closed(self) -> bool:
        return self._state.closing

    def close(self) -> None:
        """Frees the handle. Idempotent; waits for calls under way in other threads."""
        if self._state.close():
            self._finalizer()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<ycm.Client {self._base_url!r} {state}>"

    def _acquire(self) -> Any:
        """The handle, counted as in use until :meth:`_release`."""
        return self._state.acquire()

    def _release(self) -> None:
        self._state.release()

    def _perform(self, operation: Operation[T]) -> T:
        _log.refresh()
        state = self._state
        handle = state.acquire()
        try:
            status = _calls.run(operation.call, handle, operation.out)
        finally:
            state.release()
        return operation.finish(check(status))

    # --- calls ---------------------------------------------------------------------------

    def set_access_token(self, access_token: str) -> None:
        """Replaces the bearer token (clients built with one). Calls under way keep the old."""
        token = _c_string(access_token, "access_token")
        handle = self._acquire()
        try:
            check(_ffi.lib.ycm_client_set_access_token(handle, token))
        finally:
            self._release()

    def update_user(
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
        """Updates YCM user ``user_id`` (``PUT /dm/open_api/v1/users/{userId}``).

        Give the fields either as a mapping of YCM wire names (``{"firstName": "Ann"}``) or
        as keywords (``first_name="Ann"``), or both (a field given twice raises
        ``TypeError``). ``pbx_creation_limit`` is an int >= 1 or :data:`ycm.NO_LIMIT`;
        ``disable_two_factor=True`` switches two-factor authentication off. The update is
        checked before anything is sent (:class:`ycm.InvalidBodyError`).
        """
        _user_id(user_id)  # checked first, as before the body
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
        return self._perform(update_operation(user_id, body))

    def get_user(self, user_id: int) -> User:
        """Reads YCM user ``user_id`` (``GET /dm/open_api/v1/users/{userId}``)."""
        return self._perform(get_user_operation(user_id))

    def list_users(
        self, page_size: int = 10, page_number: int = 1, sort: Optional[str] = None
    ) -> UserPage:
        """Reads one page of users (``GET /dm/open_api/v2/users``).

        ``page_size`` 1..50, ``page_number`` >= 1, ``sort`` a field name such as
        ``"userId"`` (``"-userId"`` for descending) or None for the server's order.
        """
        return self._perform(list_users_operation(page_size, page_number, sort))

    # --- bulk sync -----------------------------------------------------------------------

    def plan_sync(self, records: RecordsLike) -> SyncPlan:
        """Reads the current state of the records' users and plans each record: an
        :class:`ycm.SyncPlan` whose items say ``update`` (with the changes), ``unchanged``,
        ``invalid`` or ``unknown_user``. Nothing is written.

        ``records`` is a :class:`ycm.Records` (from :func:`ycm.read_records`), the path of a
        records file (``.csv`` or ``.jsonl``), or an iterable of mappings of wire names
        (``{"userId": 13329, "company": "ACME"}``). An unusable input raises
        :class:`ycm.InvalidArgumentError` before anything is sent.
        """
        return self._perform(plan_sync_operation(records))

    def apply_sync(
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
        """Applies a plan (records are planned first, see :meth:`plan_sync`) and returns the
        :class:`ycm.SyncReport`, one :class:`ycm.SyncResult` per record.

        ``concurrency`` updates in flight at once; ``rate`` requests per ``interval_s``
        seconds (with ``burst``) caps the pace client-side; ``journal`` is a file the run
        appends to and a rerun with the same records resumes from (nothing is sent twice;
        a journal started for other records raises :class:`ycm.InvalidArgumentError`);
        ``max_failures`` stops the run once that many records failed. A run that stops
        early (refused credentials, ``max_failures``, a throttling that outlasts the
        retries) still returns its report, with ``stopped`` set.

        ``on_progress(event)`` gets a :class:`ycm.ProgressEvent` on this thread, one at a
        time; it must not call this client. An exception it raises aborts the run: no new
        update is started, those in flight end (and are journalled), and the exception is
        re-raised with the report as its ``ycm_report`` attribute (:func:`ycm.report_of`).
        Ctrl-C (on the main thread) stops the run the same way and raises
        ``KeyboardInterrupt``, also carrying ``ycm_report``.
        """
        options = _sync.apply_options(
            concurrency, rate, interval_s, burst, journal, max_failures
        )
        callback = check_progress(on_progress)
        if isinstance(plan_or_records, SyncPlan):
            plan = plan_or_records
        else:
            plan = self.plan_sync(plan_or_records)
        _log.refresh()
        state = self._state
        handle = state.acquire()
        try:
            return _sync.run_on_main_thread(handle, plan, options, callback)
        finally:
            state.release()

    def iter_users(self, page_size: int = 50, sort: Optional[str] = "userId") -> Iterator[User]:
        """Every user, page by page, fetched lazily as the iteration goes.

        Sorting by a stable key (the default ``"userId"``) keeps pages consistent.
        """
        number = 1
        while True:
            page = self.list_users(page_size=page_size, page_number=number, sort=sort)
            yield from page.users
            if not more_pages(page, number, page_size):
                return
            number += 1


def more_pages(page: UserPage, number: int, page_size: int) -> bool:
    """Whether pages follow ``page`` (page number ``number`` of ``page_size`` users)."""
    return bool(page.users) and number * page_size < page.total
