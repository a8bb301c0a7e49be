"""ycm: a client for the Yeastar Central Management (YCM) user API, over ``libycm.so``.

>>> import ycm
>>> with ycm.Client("https://ycm.example.com", "ACCESS_TOKEN") as client:
...     result = client.update_user(13329, company="New Company Name")
...     print(result.request_id, result.time)

Every failure raises a :class:`YcmError` subclass (one per library code, see
:class:`Code`); refused input raises before anything is sent. Ctrl-C stops a call at once
(``KeyboardInterrupt``). Logs go to ``logging.getLogger("ycm")`` (children ``ycm.http``
and ``ycm.auth``). :mod:`ycm.aio` has the asyncio client.

Bulk sync: :func:`read_records`, :meth:`Client.plan_sync` (a :class:`SyncPlan`),
:meth:`Client.apply_sync` (a :class:`SyncReport`).
"""

from ._client import Client, validate_user_update
from ._errors import (
    ApiError,
    BadResponseError,
    CancelledError,
    ClientClosedError,
    Code,
    ConnectError,
    HttpError,
    InternalError,
    InvalidArgumentError,
    InvalidBodyError,
    InvalidUtf8Error,
    IoError,
    NullArgumentError,
    RateLimitedError,
    TimeoutError,
    TlsError,
    UnauthorizedError,
    YcmError,
)
from ._ffi import library_path, version as _library_version
from . import _log  # logging.getLogger("ycm") with its NullHandler, and the native bridge
from ._sync import (
    Action,
    Outcome,
    PlanItem,
    ProgressEvent,
    ProgressKind,
    Record,
    RecordError,
    Records,
    StopReason,
    SyncPlan,
    SyncReport,
    SyncResult,
    SyncSummary,
    read_records,
    report_of,
)
from ._types import NO_LIMIT, NoLimit, UpdateResult, User, UserPage, UserType

__version__: str = _library_version()
"""The version of the loaded libycm.so (``ycm_version()``)."""

__all__ = [
    "Action",
    "ApiError",
    "BadResponseError",
    "CancelledError",
    "Client",
    "ClientClosedError",
    "Code",
    "ConnectError",
    "HttpError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidBodyError",
    "InvalidUtf8Error",
    "IoError",
    "NO_LIMIT",
    "NoLimit",
    "NullArgumentError",
    "Outcome",
    "PlanItem",
    "ProgressEvent",
    "ProgressKind",
    "RateLimitedError",
    "Record",
    "RecordError",
    "Records",
    "StopReason",
    "SyncPlan",
    "SyncReport",
    "SyncResult",
    "SyncSummary",
    "TimeoutError",
    "TlsError",
    "UnauthorizedError",
    "UpdateResult",
    "User",
    "UserPage",
    "UserType",
    "YcmError",
    "library_path",
    "read_records",
    "report_of",
    "validate_user_update",
    "__version__",
]
