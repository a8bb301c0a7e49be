"""The ctypes layer: finds and loads ``libycm.so`` by absolute path, and declares every
symbol of ``include/ycm.h`` with its ``argtypes`` and ``restype``, the ``ycm_status``,
``ycm_user_fields``, ``ycm_log_record``, ``ycm_sync_event`` and ``ycm_sync_callbacks``
structures, the opaque handles and the ``YCM_*`` constants. Nothing else in the
package touches ctypes declarations; ``tests/test_header_drift.py`` checks this module
against the header.

Type conventions: ``const char *`` inputs and static outputs are ``c_char_p``; strings the
library hands over for the caller to free (``char **out_json``) are received as
``c_void_p`` so that the pointer survives for ``ycm_string_free``; ``enum ycm_code`` and
``enum ycm_log_level`` are a C ``int``; ``void *user_data`` is ``c_void_p``; the callback
types ``ycm_log_fn`` and ``ycm_sync_event_fn`` are the ``CFUNCTYPE`` objects of the same names.

Search order for the library (the first that exists wins; no search path is ever used):

1. ``libycm.so`` next to this file (bundled by ``pip install``),
2. the file named by the environment variable ``YCM_LIBRARY``,
3. ``target/release/libycm.so`` of the ycm checkout this package sits in (the directory
   two levels above ``bindings/python``, when its ``Cargo.toml`` is the crate ``yeastar-ycm``;
   ``$CARGO_TARGET_DIR`` is honoured).
"""

from __future__ import annotations

import ctypes
import os
import re
from ctypes import (
    POINTER,
    Structure,
    c_bool,
    c_char,
    c_char_p,
    c_int,
    c_int32,
    c_int64,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ._version import __version__ as PACKAGE_VERSION

LIBRARY_FILE = "libycm.so"
LIBRARY_ENV = "YCM_LIBRARY"

# --- constants of the header -------------------------------------------------------------

YCM_PBX_LIMIT_UNCHANGED = 0
YCM_PBX_LIMIT_NONE = 1
YCM_PBX_LIMIT_AT_MOST = 2

# `enum ycm_code` and `enum ycm_log_level`: a C enum is an int.
ycm_code = c_int
ycm_log_level = c_int

YCM_LOG_ERROR = 1
YCM_LOG_WARN = 2
YCM_LOG_INFO = 3
YCM_LOG_DEBUG = 4
YCM_LOG_TRACE = 5

# `enum ycm_control` (what a sync event callback returns) and `enum ycm_sync_event_kind`.
ycm_control = c_int
ycm_sync_event_kind = c_int

YCM_CONTINUE = 0
YCM_ABORT = 1

YCM_SYNC_STARTED = 1
YCM_SYNC_DONE = 2
YCM_SYNC_STOPPING = 3


# --- structures --------------------------------------------------------------------------


class ycm_client(Structure):
    """Opaque client handle; only ever used through a pointer."""


class ycm_status(Structure):
    """The outcome of every fallible call, returned by value."""

    _fields_ = [
        ("code", ycm_code),
        ("http_status", c_uint16),
        ("attempts", c_uint32),
        ("time", c_int64),
        ("api_errcode", c_int64),
        ("request_id", c_char * 65),
        ("message", c_char * 512),
    ]


class ycm_user_fields(Structure):
    """The typed form of a user update (the package itself sends JSON bodies)."""

    _fields_ = [
        ("company", c_char_p),
        ("first_name", c_char_p),
        ("last_name", c_char_p),
        ("email", c_char_p),
        ("phone", c_char_p),
        ("mobile", c_char_p),
        ("address", c_char_p),
        ("remark", c_char_p),
        ("disable_two_factor_authentication", c_uint8),
        ("pbx_limit_mode", c_uint32),
        ("pbx_limit", c_int64),
    ]


class ycm_cancel(Structure):
    """Opaque cancellation flag of one call; only ever used through a pointer."""


class ycm_log_record(Structure):
    """One log record, valid only during the callback; fields are only ever appended, and
    ``size`` says how many this library fills."""

    _fields_ = [
        ("size", c_uint32),
        ("level", ycm_log_level),
        ("target", c_char_p),
        ("message", c_char_p),
        ("method", c_char_p),
        ("path", c_char_p),
        ("http_status", c_uint16),
        ("attempt", c_uint32),
        ("elapsed_ms", c_uint64),
        ("request_id", c_char_p),
    ]


class ycm_plan(Structure):
    """Opaque sync plan (immutable once made); only ever used through a pointer."""


class ycm_sync_event(Structure):
    """One progress event of ``ycm_sync_apply``, valid only during the callback; fields are
    only ever appended, and ``size`` says how many this library fills."""

    _fields_ = [
        ("size", c_uint32),
        ("kind", ycm_sync_event_kind),
        ("done", c_uint64),
        ("total", c_uint64),
        ("records", c_uint64),
        ("user_id", c_int64),
        ("outcome", c_char_p),
        ("row_json", c_char_p),
    ]


ycm_client_p = POINTER(ycm_client)
ycm_cancel_p = POINTER(ycm_cancel)
ycm_plan_p = POINTER(ycm_plan)

# `typedef void (*ycm_log_fn)(const ycm_log_record *record, void *user_data)`
ycm_log_fn = ctypes.CFUNCTYPE(None, POINTER(ycm_log_record), c_void_p)

# `typedef enum ycm_control (*ycm_sync_event_fn)(const ycm_sync_event *event, void *user_data)`
ycm_sync_event_fn = ctypes.CFUNCTYPE(ycm_control, POINTER(ycm_sync_event), c_void_p)


class ycm_sync_callbacks(Structure):
    """The progress callback, its ``user_data`` and the run's cancel flag; ``size`` is
    ``sizeof`` as this package declares it (fields are only ever appended)."""

    _fields_ = [
        ("size", c_uint32),
        ("on_event", ycm_sync_event_fn),
        ("user_data", c_void_p),
        ("cancel", ycm_cancel_p),
    ]

# Every exported function: name -> (restype, argtypes). The drift test compares this table
# with include/ycm.h.
SIGNATURES: Dict[str, Tuple[Any, List[Any]]] = {
    "ycm_client_new": (ycm_status, [c_char_p, c_char_p, POINTER(ycm_client_p)]),
    "ycm_client_new_with_config": (ycm_status, [c_char_p, POINTER(ycm_client_p)]),
    "ycm_client_free": (None, [ycm_client_p]),
    "ycm_client_set_access_token": (ycm_status, [ycm_client_p, c_char_p]),
    "ycm_update_user": (ycm_status, [ycm_client_p, c_int64, c_char_p]),
    "ycm_update_user_with_cancel": (ycm_status, [ycm_client_p, c_int64, c_char_p, ycm_cancel_p]),
    "ycm_validate_user_update": (ycm_status, [c_char_p]),
    "ycm_get_user": (ycm_status, [ycm_client_p, c_int64, POINTER(c_void_p)]),
    "ycm_get_user_with_cancel": (
        ycm_status,
        [ycm_client_p, c_int64, ycm_cancel_p, POINTER(c_void_p)],
    ),
    "ycm_list_users": (
        ycm_status,
        [ycm_client_p, c_int32, c_int32, c_char_p, POINTER(c_void_p)],
    ),
    "ycm_list_users_with_cancel": (
        ycm_status,
        [ycm_client_p, c_int32, c_int32, c_char_p, ycm_cancel_p, POINTER(c_void_p)],
    ),
    "ycm_string_free": (None, [c_void_p]),
    "ycm_update_user_fields": (ycm_status, [ycm_client_p, c_int64, POINTER(ycm_user_fields)]),
    "ycm_update_user_fields_with_cancel": (
        ycm_status,
        [ycm_client_p, c_int64, POINTER(ycm_user_fields), ycm_cancel_p],
    ),
    "ycm_cancel_new": (ycm_status, [POINTER(ycm_cancel_p)]),
    "ycm_cancel_new_on_signal": (ycm_status, [POINTER(ycm_cancel_p)]),
    "ycm_cancel_trigger": (None, [ycm_cancel_p]),
    "ycm_cancel_is_triggered": (c_bool, [ycm_cancel_p]),
    "ycm_cancel_free": (None, [ycm_cancel_p]),
    "ycm_set_log_callback": (ycm_status, [ycm_log_fn, ycm_log_level, c_void_p]),
    "ycm_user_fields_to_json": (ycm_status, [POINTER(ycm_user_fields), POINTER(c_void_p)]),
    "ycm_code_name": (c_char_p, [ycm_code]),
    "ycm_code_description": (c_char_p, [ycm_code]),
    "ycm_version": (c_char_p, []),
    "ycm_records_parse": (ycm_status, [c_char_p, c_char_p, POINTER(c_void_p)]),
    "ycm_sync_plan": (
        ycm_status,
        [ycm_client_p, c_char_p, c_char_p, ycm_cancel_p, POINTER(ycm_plan_p)],
    ),
    "ycm_plan_to_json": (ycm_status, [ycm_plan_p, POINTER(c_void_p)]),
    "ycm_plan_from_json": (ycm_status, [c_char_p, POINTER(ycm_plan_p)]),
    "ycm_plan_free": (None, [ycm_plan_p]),
    "ycm_sync_apply": (
        ycm_status,
        [ycm_client_p, ycm_plan_p, c_char_p, POINTER(ycm_sync_callbacks), POINTER(c_void_p)],
    ),
}


# --- finding the library -----------------------------------------------------------------


def _checkout_library(package_dir: Path) -> Optional[Path]:
    """``target/release/libycm.so`` of the ycm checkout holding this package, if it is in one.

    Only the checkout's own layout is looked at (``<root>/bindings/python/ycm``), never the
    directories above it: a stray ``Cargo.toml`` higher up must not decide what is loaded.
    """
    if len(package_dir.parents) < 3:
        return None
    root = package_dir.parents[2]
    try:
        text = (root / "Cargo.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    package = text.split("[package]", 1)
    name_line = re.compile(r'^\s*name\s*=\s*"yeastar-ycm"\s*$', re.MULTILINE)
    if len(package) != 2 or not name_line.search(package[1].split("\n[", 1)[0]):
        return None
    # Like cargo, a relative CARGO_TARGET_DIR is relative to the working directory.
    env_target = os.environ.get("CARGO_TARGET_DIR")
    target = Path(env_target).resolve() if env_target else root / "target"
    return target / "release" / LIBRARY_FILE


def find_library() -> Tuple[Optional[Path], List[str]]:
    """The absolute path of the library to load, and a description of every place searched."""
    here = Path(__file__).resolve().parent
    searched: List[str] = []

    bundled = here / LIBRARY_FILE
    searched.append(f"{bundled} (bundled with the package)")
    if bundled.is_file():
        return bundled, searched

    env = os.environ.get(LIBRARY_ENV)
    if env:
        path = Path(env).expanduser().resolve()
        searched.append(f"{path} (from {LIBRARY_ENV})")
        # An explicit setting that points nowhere is an error, not a reason to load
        # another copy silently.
        return (path if path.is_file() else None), searched
    searched.append(f"${LIBRARY_ENV} (not set)")

    checkout = _checkout_library(here)
    if checkout is None:
        searched.append("target/release of a ycm checkout (this package is not inside one)")
    else:
        searched.append(f"{checkout} (ycm checkout; build it with `cargo build --release`)")
        if checkout.is_file():
            return checkout, searched
    return None, searched


def _check_version(lib: ctypes.CDLL, path: Path) -> None:
    """The library must be the version of this package: the declarations above describe
    that one ABI, and 0.x releases may change it."""
    try:
        fn = lib.ycm_version
    except AttributeError as exc:
        raise ImportError(f"ycm: {path} has no symbol ycm_version: it is not libycm") from exc
    fn.restype = c_char_p
    fn.argtypes = []
    found = (fn() or b"").decode("utf-8", "replace")
    if found != PACKAGE_VERSION:
        raise ImportError(
            f"ycm: {path} is libycm {found}, but this package (yeastar-ycm) is "
            f"{PACKAGE_VERSION}: reinstall yeastar-ycm, or point {LIBRARY_ENV} at a libycm "
            f"{PACKAGE_VERSION}"
        )


def _load() -> Tuple[ctypes.CDLL, Path]:
    path, searched = find_library()
    if path is None:
        raise ImportError(
            "ycm: cannot find libycm.so. Searched:\n  "
            + "\n  ".join(searched)
            + f"\nInstall the package with pip (which bundles the library), or set {LIBRARY_ENV} "
            "to the absolute path of libycm.so."
        )
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        raise ImportError(f"ycm: cannot load {path}: {exc}") from exc
    _check_version(lib, path)
    for name, (restype, argtypes) in SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError as exc:
            raise ImportError(
                f"ycm: {path} has no symbol {name}: the library is older than this package"
            ) from exc
        fn.restype = restype
        fn.argtypes = argtypes
    return lib, path


lib, library_path = _load()


def version() -> str:
    """The version of the loaded library, ``MAJOR.MINOR.PATCH``."""
    raw: Optional[bytes] = lib.ycm_version()
    return (raw or b"").decode("utf-8")


def code_name(code: int) -> str:
    """``ycm_code_name``: the C name of a code ("YCM_ERR_UNKNOWN" for another number)."""
    raw: Optional[bytes] = lib.ycm_code_name(code)
    return (raw or b"").decode("utf-8")


def take_string(ptr: c_void_p) -> str:
    """Copies a string returned through ``char **`` and frees it with ``ycm_string_free``."""
    if not ptr.value:
        return ""
    try:
        return ctypes.string_at(ptr.value).decode("utf-8")
    finally:
        lib.ycm_string_free(ptr)
