"""How a blocking native call is made so that a signal can stop it.

On the main thread (the only one where Python runs signal handlers) every call gets the
process's one ``ycm_cancel_new_on_signal`` flag: when a signal arrives during the call,
the system call it waits in fails with EINTR and the library returns
``YCM_ERR_CANCELLED`` at once, having dropped the call's connection. Python then runs the
handler (:func:`run_signal_handlers`): Ctrl-C's raises ``KeyboardInterrupt``; a handler
that returns normally (say, ``SIGCHLD``'s) lets the call be made again (every call is
idempotent). No thread hop: the call runs on the caller's thread. Calls made on other
threads cannot receive signals and get no flag. :class:`Cancel` is the ``ycm_cancel`` of
one call, which :mod:`ycm.aio` triggers when a task is cancelled.
"""

from __future__ import annotations

import _thread
import ctypes
import os
import signal
import threading
from typing import Any, Callable, Optional

from . import _ffi
from ._errors import Code, check

Native = Callable[[Any, Any], _ffi.ycm_status]
"""A native call given its handle and its ``ycm_cancel *`` (or None): ``native(handle, cancel)``."""

_CANCELLED = int(Code.CANCELLED)
_main_thread = threading.main_thread().ident


def _after_fork_in_child() -> None:
    # The thread that forked is the child's main thread.
    global _main_thread
    _main_thread = threading.main_thread().ident


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class Cancel:
    """The ``ycm_cancel`` of one call. :meth:`trigger` may come from any thread while the
    call runs; :meth:`free` only once every call using it has returned."""

    __slots__ = ("pointer",)

    def __init__(self) -> None:
        pointer = _ffi.ycm_cancel_p()
        check(_ffi.lib.ycm_cancel_new(ctypes.byref(pointer)))
        self.pointer: Optional[Any] = pointer

    def trigger(self) -> None:
        if self.pointer is not None:
            _ffi.lib.ycm_cancel_trigger(self.pointer)

    def free(self) -> None:
        pointer, self.pointer = self.pointer, None
        if pointer is not None:
            _ffi.lib.ycm_cancel_free(pointer)


def free_out_string(out: Optional[ctypes.c_void_p]) -> None:
    """Frees a ``char **out_json`` result nobody will read (its call was interrupted)."""
    if out is not None and out.value:
        _ffi.lib.ycm_string_free(out)
        out.value = None


# Signals a process receives from outside. A worker thread blocks them so that the kernel
# delivers them to a thread that can act: the main thread, whose wait they interrupt.
_OUTSIDE_SIGNALS = {
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGALRM", "SIGUSR1", "SIGUSR2",
                 "SIGCHLD", "SIGWINCH")
    if hasattr(signal, name)
}


def block_outside_signals() -> None:
    """Keeps the calling (worker) thread from receiving signals meant for the main thread."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, _OUTSIDE_SIGNALS)


_check_signals = ctypes.pythonapi.PyErr_CheckSignals
_check_signals.argtypes = []
_check_signals.restype = ctypes.c_int


def run_signal_handlers() -> None:
    """Runs the Python handlers of the signals received so far; raises what they raise."""
    _check_signals()  # ctypes.pythonapi raises the handler's exception, if any


class _SignalFlag:
    """The one ``ycm_cancel_new_on_signal`` flag of the main thread (made on first use,
    never freed: calls of any client may use it until the process ends)."""

    pointer: Optional[Any] = None

    @classmethod
    def get(cls) -> Any:
        if cls.pointer is None:
            pointer = _ffi.ycm_cancel_p()
            check(_ffi.lib.ycm_cancel_new_on_signal(ctypes.byref(pointer)))
            cls.pointer = pointer
        return cls.pointer


def signal_flag() -> Optional[Any]:
    """The on-signal flag on the main thread; None on any other thread."""
    if _thread.get_ident() != _main_thread:
        return None
    return _SignalFlag.pointer or _SignalFlag.get()


def run(native: Native, handle: Any, out: Optional[ctypes.c_void_p] = None) -> _ffi.ycm_status:
    """Runs ``native(handle, cancel)`` on the calling thread; on the main thread, stoppable
    by a signal.

    When a signal stops the call, its handler runs here: an exception it raises
    (``KeyboardInterrupt``) propagates, after ``out`` is freed if the call filled it;
    otherwise the call is made again.
    """
    if _thread.get_ident() != _main_thread:
        return native(handle, None)
    flag = _SignalFlag.pointer or _SignalFlag.get()
    while True:
        status = native(handle, flag)
        if status.code != _CANCELLED:
            return status
        try:
            run_signal_handlers()
        except BaseException:
            free_out_string(out)
            raise
        free_out_string(out)

