"""Bulk sync: :func:`read_records`, :class:`Records`, :class:`SyncPlan` (made by
:meth:`ycm.Client.plan_sync`), :class:`SyncReport` (returned by
:meth:`ycm.Client.apply_sync`) and the progress events, over ``ycm_records_parse``,
``ycm_sync_plan``, ``ycm_plan_*`` and ``ycm_sync_apply``.

Every rule (the records' syntax, the plan, the run) is the library's; this module turns
its JSON into frozen, typed values and drives the native calls:

* the progress callback goes through one module-level ``CFUNCTYPE`` trampoline, which
  catches every exception (``KeyboardInterrupt`` included), keeps it, and answers
  ``YCM_ABORT``: the library stops scheduling, lets the updates in flight end and returns
  the report; the exception is then raised, with the report attached as its
  ``ycm_report`` attribute (see :func:`report_of`);
* on the main thread the run gets the process's on-signal cancel flag (see
  :mod:`ycm._calls`): Ctrl-C stops scheduling, the updates in flight end and are
  journalled, and ``KeyboardInterrupt`` is raised once the report is back (also carrying
  ``ycm_report``).
"""

from __future__ import annotations

import ctypes
import enum
import json
import os
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Tuple,
    Union,
)

from . import _calls, _ffi
from ._errors import Code, YcmError, check, error_from_status, local_error

__all__ = [
    "Action",
    "Outcome",
    "PlanItem",
    "ProgressEvent",
    "ProgressKind",
    "Record",
    "RecordError",
    "Records",
    "StopReason",
    "SyncPlan",
    "SyncReport",
    "SyncResult",
    "SyncSummary",
    "read_records",
    "report_of",
]

RecordsFormat = Literal["csv", "jsonl"]

# The file name endings read_records knows (as the library's Format::of_path); a ".json"
# name says one JSON document (the library's FileFormat), which records are not.
_EXTENSIONS: Dict[str, RecordsFormat] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}

REPORT_ATTRIBUTE = "ycm_report"
"""The attribute of an exception that stopped :meth:`ycm.Client.apply_sync` (raised in
``on_progress``, or Ctrl-C's ``KeyboardInterrupt``) holding the run's :class:`SyncReport`."""


class _BadJson(Exception):
    """The library handed over JSON of an unexpected shape."""


def _bad(what: str) -> YcmError:
    return local_error(Code.BAD_RESPONSE, f"the library's {what} could not be read")


# --- enums -------------------------------------------------------------------------------


class Action(str, enum.Enum):
    """What a plan does with one record."""

    UPDATE = "update"
    """Some field differs: the changed fields are sent."""
    UNCHANGED = "unchanged"
    """Every field already has the desired value: nothing is sent."""
    INVALID = "invalid"
    """The record breaks a local rule (see ``error``): nothing is sent."""
    UNKNOWN_USER = "unknown_user"
    """No such user: nothing is sent."""

    def __str__(self) -> str:
        return self.value


class Outcome(str, enum.Enum):
    """How one record ended in a run."""

    UPDATED = "updated"
    UNCHANGED = "unchanged"
    INVALID = "invalid"
    UNKNOWN_USER = "unknown_user"
    CONFLICT = "conflict"
    """A saved plan's "before" values no longer hold: left alone."""
    FAILED = "failed"
    """The update failed: see ``code`` and ``message``."""
    NOT_ATTEMPTED = "not_attempted"
    """The run stopped before this record's turn."""

    def __str__(self) -> str:
        return self.value


class StopReason(str, enum.Enum):
    """Why a run stopped before its end."""

    CANCELLED = "cancelled"
    ABORTED = "aborted"
    CREDENTIALS_REFUSED = "credentials_refused"
    MAX_FAILURES = "max_failures"
    RATE_LIMITED = "rate_limited"
    JOURNAL_FAILED = "journal_failed"

    def __str__(self) -> str:
        return self.value


class ProgressKind(str, enum.Enum):
    """The kind of a :class:`ProgressEvent`."""

    STARTED = "started"
    DONE = "done"
    STOPPING = "stopping"

    def __str__(self) -> str:
        return self.value


def _enum(cls: Any, value: Any, what: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        raise _BadJson(f"unknown {what} {value!r:.40}") from None


# --- records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordError:
    """Why one record cannot be used: the column (CSV) or key (JSONL) and the rule."""

    column: str
    message: str


@dataclass(frozen=True)
class Record:
    """One desired state of one user.

    Attributes:
        row: the line of the input it came from (CSV: the header is row 1).
        user_id: the user, or None when the id could not be read.
        fields: the fields to set, by wire name, with their wire values.
        error: set when the record breaks a rule (nothing is sent for it).
    """

    row: int
    user_id: Optional[int]
    fields: Mapping[str, Any]
    error: Optional[RecordError]


@dataclass(frozen=True)
class Records:
    """Every record of one input, valid or not, in input order, as the library parsed it.

    Iterable and sized. :meth:`ycm.Client.plan_sync` plans from the very bytes these came
    from (``input_hash`` is their SHA-256, the key of a journal).
    """

    format: RecordsFormat
    input_hash: str
    records: Tuple[Record, ...]
    data: bytes = field(repr=False, compare=False)
    """The input's bytes, as read."""

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def errors(self) -> Tuple[Record, ...]:
        """The records that break a rule."""
        return tuple(r for r in self.records if r.error is not None)

    @classmethod
    def parse(cls, data: Union[str, bytes], format: RecordsFormat) -> "Records":
        """Parses records from the text of an input (``format`` ``"csv"`` or ``"jsonl"``),
        offline. An input unusable as a whole raises :class:`ycm.InvalidArgumentError`
        naming the row and column."""
        if format not in ("csv", "jsonl"):
            raise local_error(
                Code.INVALID_ARGUMENT, f'format must be "csv" or "jsonl", got {format!r:.40}'
            )
        raw = _input_bytes(data)
        out = ctypes.c_void_p()
        check(_ffi.lib.ycm_records_parse(raw, format.encode("ascii"), ctypes.byref(out)))
        text = _ffi.take_string(out)
        try:
            return _parse_records(json.loads(text), raw)
        except (ValueError, _BadJson, TypeError, KeyError):
            raise _bad("records") from None


def _input_bytes(data: Union[str, bytes]) -> bytes:
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise local_error(
                Code.INVALID_UTF8, f"the input is not valid UTF-8: {exc.reason}"
            ) from None
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise TypeError(f"records must be str or bytes, got {type(data).__name__}")
    if b"\0" in raw:
        line = 1 + raw[: raw.index(b"\0")].count(b"\n")
        raise local_error(
            Code.INVALID_ARGUMENT, f"the input holds a NUL character (line {line})"
        )
    return raw


def _opt_id(value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadJson("userId")
    return int(value)


def _parse_records(data: Any, raw: bytes) -> Records:
    items = []
    for item in data["records"]:
        error = item.get("error")
        items.append(
            Record(
                row=int(item["row"]),
                user_id=_opt_id(item.get("userId")),
                fields=MappingProxyType(dict(item.get("fields") or {})),
                error=None
                if error is None
                else RecordError(str(error["column"]), str(error["message"])),
            )
        )
    fmt = data["format"]
    if fmt not in ("csv", "jsonl"):
        raise _BadJson("format")
    return Records(format=fmt, input_hash=str(data["input_hash"]), records=tuple(items), data=raw)


def read_records(path: Union[str, "os.PathLike[str]"]) -> Records:
    """Reads a records file; its format comes from its name: ``.csv``, or ``.jsonl``
    (``.ndjson``; a ``.json`` name, one JSON document, is refused). Every record is checked by the library; records that break a
    rule come back with their ``error`` set. An unusable input (unknown extension,
    unreadable file, not UTF-8, no ``userId`` column, ...) raises
    :class:`ycm.InvalidArgumentError` naming the file, row and column."""
    shown = os.fspath(path)
    ext = os.path.splitext(shown)[1].lower()
    fmt = _EXTENSIONS.get(ext)
    if fmt is None and ext == ".json":
        raise local_error(
            Code.INVALID_ARGUMENT,
            f'records file "{shown}": a .json name means one JSON document, and records are'
            " one JSON object per line: name the file .jsonl",
        )
    if fmt is None:
        raise local_error(
            Code.INVALID_ARGUMENT,
            f'records file "{shown}": the name must end in .csv or .jsonl to tell its format',
        )
    try:
        with open(shown, "rb") as file:
            raw = file.read()
    except OSError as exc:
        raise local_error(
            Code.INVALID_ARGUMENT, f'records file "{shown}" cannot be read: {exc.strerror or exc}'
        ) from exc
    try:
        return Records.parse(raw, fmt)
    except YcmError as exc:
        if exc.code not in (Code.INVALID_ARGUMENT, Code.INVALID_UTF8):
            raise
        raise local_error(exc.code, f'records file "{shown}": {exc.message}') from None


_JSONL_ENCODER = json.JSONEncoder(allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def records_input(records: Any) -> Tuple[bytes, RecordsFormat]:
    """The input bytes and format of what :meth:`ycm.Client.plan_sync` accepts."""
    if isinstance(records, Records):
        return records.data, records.format
    if isinstance(records, (str, os.PathLike)):
        loaded = read_records(records)
        return loaded.data, loaded.format
    if isinstance(records, (bytes, bytearray, Mapping)):
        raise TypeError(
            "records must be ycm.Records, a path, or an iterable of mappings, got "
            f"{type(records).__name__}"
        )
    try:
        iterator = iter(records)
    except TypeError:
        raise TypeError(
            "records must be ycm.Records, a path, or an iterable of mappings, got "
            f"{type(records).__name__}"
        ) from None
    lines: List[str] = []
    for number, record in enumerate(iterator, start=1):
        if not isinstance(record, Mapping):
            raise TypeError(f"record {number} must be a mapping, got {type(record).__name__}")
        try:
            lines.append(_JSONL_ENCODER.encode(dict(record)))
        except (TypeError, ValueError) as exc:
            raise local_error(
                Code.INVALID_ARGUMENT, f"record {number} cannot be written as JSON: {exc}"
            ) from None
    return _input_bytes("".join(line + "\n" for line in lines)), "jsonl"


# --- the plan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    """What a plan does with one record.

    Attributes:
        user_id: the user (None when the record's id is unreadable).
        action: an :class:`Action`.
        changes: for ``update``, wire name -> ``(before, after)``; ``before`` is None for a
            field no read returns (see ``not_compared``), which is always sent.
        error: for ``invalid`` and ``unknown_user``, why (names the column and the rule).
        row: the record's row in the input.
        not_compared: the changed fields that could not be compared.
        desired: every field the record sets, by wire name.
    """

    user_id: Optional[int]
    action: Action
    changes: Mapping[str, Tuple[Any, Any]]
    error: Optional[str]
    row: int = 0
    not_compared: FrozenSet[str] = frozenset()
    desired: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def _plan_item(item: Any) -> PlanItem:
    changes: Dict[str, Tuple[Any, Any]] = {}
    not_compared = set()
    for name, change in (item.get("changes") or {}).items():
        changes[str(name)] = (change.get("before"), change["after"])
        if change.get("not_compared"):
            not_compared.add(str(name))
    error = item.get("error")
    return PlanItem(
        user_id=_opt_id(item.get("userId")),
        action=_enum(Action, item["action"], "action"),
        changes=MappingProxyType(changes),
        error=None if error is None else str(error),
        row=int(item["row"]),
        not_compared=frozenset(not_compared),
        desired=MappingProxyType(dict(item.get("desired") or {})),
    )


class _NativePlan:
    """A ``ycm_plan *``, freed when the last :class:`SyncPlan` holding it goes."""

    __slots__ = ("pointer", "__weakref__")

    def __init__(self, pointer: Any) -> None:
        self.pointer = pointer

    def __del__(self) -> None:
        pointer, self.pointer = self.pointer, None
        lib = getattr(_ffi, "lib", None)
        if pointer and lib is not None:
            lib.ycm_plan_free(pointer)


class SyncPlan:
    """What a run would do with every record, in input order (immutable).

    Made by :meth:`ycm.Client.plan_sync` from a fresh read, or by :meth:`from_json` from a
    saved plan (a saved plan's updates are checked against the users' current values when
    applied: a user changed since is reported ``conflict``).

    Attributes:
        items: one :class:`PlanItem` per record.
        counts: action -> number of items, every :class:`Action` present (0 included);
            the keys are the members (str enums): ``counts["update"]`` works too.
        format_version: the plan format.
        input_hash: SHA-256 of the input it was made from.
        input_format: ``"csv"`` or ``"jsonl"``.
    """

    __slots__ = ("_native", "_json", "items", "counts", "format_version", "input_hash",
                 "input_format")

    _native: _NativePlan
    _json: str
    items: Tuple[PlanItem, ...]
    counts: Mapping[str, int]
    format_version: int
    input_hash: str
    input_format: RecordsFormat

    def __init__(self, native: _NativePlan) -> None:
        out = ctypes.c_void_p()
        check(_ffi.lib.ycm_plan_to_json(native.pointer, ctypes.byref(out)))
        text = _ffi.take_string(out)
        try:
            data = json.loads(text)
            items = tuple(_plan_item(item) for item in data["items"])
            fmt = data["input_format"]
            if fmt not in ("csv", "jsonl"):
                raise _BadJson("input_format")
            counts: Dict[str, int] = {action: 0 for action in Action}
            for item in items:
                counts[item.action] += 1
            values = (int(data["format_version"]), str(data["input_hash"]), fmt)
        except (ValueError, _BadJson, TypeError, KeyError, AttributeError):
            raise _bad("plan") from None
        set_ = object.__setattr__
        set_(self, "_native", native)
        set_(self, "items", items)
        set_(self, "counts", MappingProxyType(counts))
        set_(self, "format_version", values[0])
        set_(self, "input_hash", values[1])
        set_(self, "input_format", values[2])
        set_(self, "_json", text)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a ycm.SyncPlan is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a ycm.SyncPlan is immutable")

    @property
    def native(self) -> Any:
        """The ``ycm_plan *`` (kept alive by this object)."""
        return self._native.pointer

    def to_json(self) -> str:
        """The plan as JSON (with its ``format_version``), for :meth:`from_json`."""
        return self._json

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> "SyncPlan":
        """A plan written by :meth:`to_json`. Refuses (``ycm.InvalidArgumentError``) what is
        not a plan of this format version or holds an invalid update."""
        raw = _input_bytes(text)
        pointer = _ffi.ycm_plan_p()
        check(_ffi.lib.ycm_plan_from_json(raw, ctypes.byref(pointer)))
        return cls(_NativePlan(pointer))

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[PlanItem]:
        return iter(self.items)

    def __repr__(self) -> str:
        counts = ", ".join(f"{action}={n}" for action, n in self.counts.items())
        return f"<ycm.SyncPlan {len(self.items)} items: {counts}>"


def plan_native(handle: Any, data: bytes, fmt: RecordsFormat, cancel: Any) -> Tuple[
    _ffi.ycm_status, Optional[_NativePlan]
]:
    """``ycm_sync_plan``: the status and, on success, the plan."""
    pointer = _ffi.ycm_plan_p()
    status = _ffi.lib.ycm_sync_plan(
        handle, data, fmt.encode("ascii"), cancel, ctypes.byref(pointer)
    )
    return status, (_NativePlan(pointer) if status.code == 0 else None)


# --- the report --------------------------------------------------------------------------


def _code(name: str) -> Optional[Code]:
    if not name:
        return None
    if name == "YCM_OK":
        return Code.OK
    try:
        return Code[name.removeprefix("YCM_ERR_")]
    except KeyError:
        return Code.INTERNAL


@dataclass(frozen=True)
class SyncResult:
    """How one record ended.

    Attributes:
        user_id: the user (None when the record's id is unreadable).
        outcome: an :class:`Outcome`.
        code: the :class:`ycm.Code` of the update (``Code.OK`` when it succeeded), None
            when nothing was sent; a code this package does not know reads ``INTERNAL``
            (the library's name is in ``code_name``).
        message: why it ended so, when not ``updated``/``unchanged``.
        request_id: the ``requestId`` of the update's answer.
        attempts: HTTP requests made for the record.
        row: the record's row in the input.
        changed: the fields sent (or that would have been), by wire name.
        code_name: the library's name of ``code`` (``"YCM_ERR_TIMEOUT"``), ``""`` if none.
    """

    user_id: Optional[int]
    outcome: Outcome
    code: Optional[Code]
    message: str
    request_id: str
    attempts: int
    row: int = 0
    changed: Tuple[str, ...] = ()
    code_name: str = ""


def _result(row: Any) -> SyncResult:
    name = str(row.get("code") or "")
    return SyncResult(
        user_id=_opt_id(row.get("userId")),
        outcome=_enum(Outcome, row["outcome"], "outcome"),
        code=_code(name),
        message=str(row.get("message") or ""),
        request_id=str(row.get("requestId") or ""),
        attempts=int(row.get("attempts") or 0),
        row=int(row["row"]),
        changed=tuple(str(c) for c in row.get("changed") or ()),
        code_name=name,
    )


@dataclass(frozen=True)
class SyncSummary:
    """The summary of a run for monitoring: the same object ``ycm sync apply --summary``
    writes, as the library gives it in the report.

    Attributes:
        counts: outcome -> number of records, every :class:`Outcome` present (0 included).
        records: records in all.
        requests: HTTP requests of the run, token grants included: the plan's reads when the
            plan was made in this process (not loaded with :meth:`SyncPlan.from_json`), then
            the updates and their checks.
        throttled: HTTP 429 answers met.
        token_grants: token grants made during the run.
        duration_s: seconds the run took (the plan's reads included).
        rate_per_s: requests per second achieved.
        stopped: why the run stopped early, None when it ran to its end.
        error: the error that stopped the run, in words, or None.
        exit_code: the command's exit code; None here (a library run is no command).
        finished_at: when the run ended, an aware UTC datetime.
        finished_timestamp: the same, in Unix seconds.
    """

    counts: Mapping[str, int]
    records: int
    requests: int
    throttled: int
    token_grants: int
    duration_s: float
    rate_per_s: float
    stopped: Optional[StopReason]
    error: Optional[str]
    exit_code: Optional[int]
    finished_at: datetime
    finished_timestamp: int


def _summary(data: Mapping[str, Any]) -> SyncSummary:
    counts: Dict[str, int] = {outcome: 0 for outcome in Outcome}
    for name, number in data["counts"].items():
        counts[_enum(Outcome, name, "outcome")] = int(number)
    stopped = data.get("stopped")
    exit_code = data.get("exit_code")
    error = data.get("error")
    finished = int(data["finished_at"])
    return SyncSummary(
        counts=MappingProxyType(counts),
        records=int(data["records"]),
        requests=int(data["requests"]),
        throttled=int(data["throttled"]),
        token_grants=int(data["token_grants"]),
        duration_s=float(data["duration_s"]),
        rate_per_s=float(data["rate_per_s"]),
        stopped=None if stopped is None else _enum(StopReason, stopped, "stop reason"),
        error=None if error is None else str(error),
        exit_code=None if exit_code is None else int(exit_code),
        finished_at=datetime.fromtimestamp(finished, tz=timezone.utc),
        finished_timestamp=finished,
    )


@dataclass(frozen=True)
class SyncReport:
    """The outcome of a run: one :class:`SyncResult` per record, in input order.

    Attributes:
        items: the results.
        counts: outcome -> number of results, every :class:`Outcome` present (0
            included); the keys are the members (str enums): ``counts["updated"]`` works too.
        stopped: why the run stopped early (a :class:`StopReason`), None when it ran to its
            end.
        throttled: HTTP 429 answers met.
        summary: the run's :class:`SyncSummary` (requests, token grants, duration, rate...).
    """

    items: Tuple[SyncResult, ...]
    counts: Mapping[str, int]
    stopped: Optional[StopReason]
    throttled: int
    summary: SyncSummary
    json: str = field(repr=False, compare=False, default="")

    def to_json(self) -> str:
        """The report as the library writes it (``rows``, ``counts``, ``stopped``,
        ``throttled``, ``summary``)."""
        return self.json

    @property
    def failed(self) -> Tuple[SyncResult, ...]:
        """The results that need attention (everything but ``updated``/``unchanged``)."""
        return tuple(
            r for r in self.items if r.outcome not in (Outcome.UPDATED, Outcome.UNCHANGED)
        )


def parse_report(text: str) -> SyncReport:
    try:
        data = json.loads(text)
        items = tuple(_result(row) for row in data["rows"])
        stopped = data.get("stopped")
        counts: Dict[str, int] = {outcome: 0 for outcome in Outcome}
        for item in items:
            counts[item.outcome] += 1
        return SyncReport(
            items=items,
            counts=MappingProxyType(counts),
            stopped=None if stopped is None else _enum(StopReason, stopped, "stop reason"),
            throttled=int(data.get("throttled") or 0),
            summary=_summary(data["summary"]),
            json=text,
        )
    except (ValueError, _BadJson, TypeError, KeyError, AttributeError):
        raise _bad("report") from None


def report_of(exc: BaseException) -> Optional[SyncReport]:
    """The report attached to an exception that stopped :meth:`ycm.Client.apply_sync`
    (its ``ycm_report`` attribute), or None."""
    found = getattr(exc, REPORT_ATTRIBUTE, None)
    return found if isinstance(found, SyncReport) else None


# --- progress ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressEvent:
    """One progress event of a run, delivered to ``on_progress``.

    Attributes:
        kind: ``STARTED`` (the run starts), ``DONE`` (one update ended), ``STOPPING`` (the
            run stops early; see ``reason``).
        done: updates ended so far.
        total: updates the run tries (after the journal's skips).
        result: for ``DONE``, the record's :class:`SyncResult`; None otherwise.
        records: for ``STARTED``, the records in all; 0 otherwise.
        reason: for ``STOPPING``, a :class:`StopReason`; None otherwise.
    """

    kind: ProgressKind
    done: int
    total: int
    result: Optional[SyncResult] = None
    records: int = 0
    reason: Optional[StopReason] = None


ProgressCallback = Callable[[ProgressEvent], Any]

_EVENT_FIELD_END = {
    name: getattr(_ffi.ycm_sync_event, name).offset + getattr(_ffi.ycm_sync_event, name).size
    for name, *_ in _ffi.ycm_sync_event._fields_
}
_KINDS = {
    _ffi.YCM_SYNC_STARTED: ProgressKind.STARTED,
    _ffi.YCM_SYNC_DONE: ProgressKind.DONE,
    _ffi.YCM_SYNC_STOPPING: ProgressKind.STOPPING,
}


def _event(event: _ffi.ycm_sync_event) -> Optional[ProgressEvent]:
    def number(name: str) -> int:
        return int(getattr(event, name)) if event.size >= _EVENT_FIELD_END[name] else 0

    def text(name: str) -> str:
        raw: Optional[bytes] = getattr(event, name) if event.size >= _EVENT_FIELD_END[name] else None
        return raw.decode("utf-8", errors="replace") if raw else ""

    kind = _KINDS.get(event.kind)
    if kind is None:
        return None  # a kind of a newer library: not for this package
    result = None
    reason = None
    if kind is ProgressKind.DONE:
        row = text("row_json")
        try:
            result = _result(json.loads(row)) if row else None
        except (ValueError, _BadJson, TypeError, KeyError, AttributeError):
            raise _bad("progress event") from None
    elif kind is ProgressKind.STOPPING:
        try:
            reason = StopReason(text("outcome"))
        except ValueError:
            reason = None
    return ProgressEvent(
        kind=kind,
        done=number("done"),
        total=number("total"),
        result=result,
        records=number("records") if kind is ProgressKind.STARTED else 0,
        reason=reason,
    )


class _Run:
    """The Python side of one ``ycm_sync_apply``: its callback and what it raised."""

    __slots__ = ("on_progress", "error")

    def __init__(self, on_progress: Optional[ProgressCallback]) -> None:
        self.on_progress = on_progress
        self.error: Optional[BaseException] = None


_runs: Dict[int, _Run] = {}
_runs_lock = threading.Lock()
_next_run = 1


def _receive(event: Any, user_data: Any) -> int:
    """The trampoline the library calls (on the thread running the apply)."""
    try:
        run = _runs.get(int(user_data or 0))
        if run is None or run.error is not None:
            return _ffi.YCM_ABORT
        if run.on_progress is None:
            return _ffi.YCM_CONTINUE
        progress = _event(event.contents)
        if progress is not None:
            run.on_progress(progress)
        return _ffi.YCM_CONTINUE
    except BaseException as exc:  # nothing may unwind into the library
        try:
            run = _runs.get(int(user_data or 0))
            if run is not None and run.error is None:
                run.error = exc
        except BaseException:
            pass
        return _ffi.YCM_ABORT


_trampoline = _ffi.ycm_sync_event_fn(_receive)  # kept alive for the process's lifetime


# A signal handler pending when the library calls the trampoline runs at the function's
# very first instruction, before its ``try``: ctypes then reports the handler's exception
# (Ctrl-C's KeyboardInterrupt) as "unraisable" and answers 0 (go on). While runs are under
# way, a wrapper of ``sys.unraisablehook`` gives such an exception to its run instead, which
# then aborts at the next event and raises it once the report is back. Python 3.12 and
# older name the callback as the unraisable's ``object``; 3.13 leaves ``object`` None and
# names it in ``err_msg`` only: either way the traceback holds the frame of ``_receive``.
_hook_users = 0
_previous_hook: Optional[Callable[[Any], Any]] = None


def _unraisable(unraisable: Any) -> None:
    if getattr(unraisable, "object", None) in (_receive, None) and unraisable.exc_value is not None:
        tb = unraisable.exc_traceback
        while tb is not None and tb.tb_frame.f_code is not _receive.__code__:
            tb = tb.tb_next
        key = tb.tb_frame.f_locals.get("user_data") if tb is not None else None
        run = _runs.get(int(key or 0))
        if run is not None:
            if run.error is None:
                run.error = unraisable.exc_value
            return
    (_previous_hook or sys.__unraisablehook__)(unraisable)


def _hook_on() -> None:
    global _hook_users, _previous_hook
    with _runs_lock:
        _hook_users += 1
        if _hook_users == 1 and sys.unraisablehook is not _unraisable:
            _previous_hook = sys.unraisablehook
            sys.unraisablehook = _unraisable


def _hook_off() -> None:
    global _hook_users, _previous_hook
    with _runs_lock:
        _hook_users -= 1
        if _hook_users == 0 and sys.unraisablehook is _unraisable:
            sys.unraisablehook = _previous_hook or sys.__unraisablehook__
            _previous_hook = None


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise local_error(
            Code.INVALID_ARGUMENT, f"{name} must be an int, got {type(value).__name__}"
        )
    return value


def apply_options(
    concurrency: int,
    rate: Optional[int],
    interval_s: float,
    burst: Optional[int],
    journal: Union[str, "os.PathLike[str]", None],
    max_failures: Optional[int],
) -> bytes:
    """The ``options_json`` of ``ycm_sync_apply``. Only the types are checked here (what
    JSON would carry wrongly); the ranges are the library's rules, named in its errors."""
    options: Dict[str, Any] = {"concurrency": _integer(concurrency, "concurrency")}
    if isinstance(interval_s, bool) or not isinstance(interval_s, (int, float)):
        raise local_error(
            Code.INVALID_ARGUMENT,
            f"interval_s must be a number of seconds, got {type(interval_s).__name__}",
        )
    if rate is not None:
        options["rate"] = _integer(rate, "rate")
        options["interval_s"] = interval_s
    if burst is not None:
        options["burst"] = _integer(burst, "burst")
    if journal is not None:
        path = os.fspath(journal)
        if not isinstance(path, str):
            raise TypeError(f"journal must be a str path, got {type(path).__name__}")
        if "\0" in path:
            raise local_error(Code.INVALID_ARGUMENT, "journal must not contain a NUL character")
        options["journal"] = path
    if max_failures is not None:
        options["max_failures"] = _integer(max_failures, "max_failures")
    try:
        return _JSONL_ENCODER.encode(options).encode("utf-8")
    except ValueError:  # NaN or infinity
        raise local_error(
            Code.INVALID_ARGUMENT, f"interval_s must be a finite number, got {interval_s}"
        ) from None
    except UnicodeEncodeError:
        raise local_error(Code.INVALID_UTF8, "journal is not valid UTF-8") from None


def apply_native(
    handle: Any,
    plan: SyncPlan,
    options: bytes,
    cancel: Any,
    on_progress: Optional[ProgressCallback],
) -> Tuple[_ffi.ycm_status, Optional[SyncReport], Optional[BaseException]]:
    """One ``ycm_sync_apply``: its status, the report (on success) and the exception the
    callback raised (if any). Frees what it allocated, whatever happens."""
    global _next_run
    run = _Run(on_progress)
    with _runs_lock:
        key = _next_run
        _next_run += 1
        _runs[key] = run
    _hook_on()
    try:
        callbacks = _ffi.ycm_sync_callbacks(
            size=ctypes.sizeof(_ffi.ycm_sync_callbacks),
            on_event=_trampoline,
            user_data=key,
            cancel=cancel,
        )
        out = ctypes.c_void_p()
        status = _ffi.lib.ycm_sync_apply(
            handle, plan.native, options, ctypes.byref(callbacks), ctypes.byref(out)
        )
    finally:
        _hook_off()
        with _runs_lock:
            _runs.pop(key, None)
    report = parse_report(_ffi.take_string(out)) if status.code == 0 else None
    return status, report, run.error


def attach(exc: BaseException, report: Optional[SyncReport]) -> BaseException:
    """``exc`` with the run's report as its ``ycm_report`` attribute."""
    if report is not None:
        try:
            setattr(exc, REPORT_ATTRIBUTE, report)
        except (AttributeError, TypeError):
            pass
    return exc


def finish_apply(
    status: _ffi.ycm_status, report: Optional[SyncReport], error: Optional[BaseException]
) -> SyncReport:
    """The report of a run, or the exception that stopped it (with the report attached)."""
    if status.code != 0:
        failure = error_from_status(status)
        if error is not None:
            raise failure from error
        raise failure
    assert report is not None
    if error is not None:
        raise attach(error, report)
    return report


def run_on_main_thread(
    handle: Any, plan: SyncPlan, options: bytes, on_progress: Optional[ProgressCallback]
) -> SyncReport:
    """:func:`apply_native` with the on-signal flag when on the main thread: a signal stops
    scheduling; its handler runs once the report is back (``KeyboardInterrupt`` then
    propagates, carrying the report)."""
    flag = _calls.signal_flag()
    status, report, error = apply_native(handle, plan, options, flag, on_progress)
    if flag is not None and error is None and status.code == 0:
        try:
            _calls.run_signal_handlers()
        except BaseException as exc:
            raise attach(exc, report)
    return finish_apply(status, report, error)
