"""How a blocking native call is made so that a signal can stop it: the ``ycm_cancel`` of
one call (:class:`Cancel`), and :class:`MainThreadRunner`, which runs calls made on the main
thread on a worker thread of the client while the main thread waits on a lock that signals
interrupt. On Ctrl-C (or any exception a signal handler raises) the call's cancel is
triggered, the worker's call returns ``YCM_ERR_CANCELLED`` within about 100 ms, its
connection is dropped by the library, and only then does ``KeyboardInterrupt`` propagate,
so the client stays usable. Calls made on other threads cannot receive signals and run
directly, without the hop. The asyncio client (:mod:`ycm.aio`) uses :class:`Cancel` too.
"""

from __future__ import annotations

import _thread
import ctypes
import os
import queue
import signal
import threading
from typing import Any, Callable, Optional

from . import _ffi
from ._errors import check

Native = Callable[[Any], _ffi.ycm_status]
"""A native call waiting only for its ``ycm_cancel *`` (or None): ``native(cancel)``."""

# Bumped in a forked child: a worker thread of the parent does not exist there.
_fork_generation = 0


def _after_fork_in_child() -> None:
    global _fork_generation
    _fork_generation += 1


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


class _Job:
    __slots__ = ("native", "cancel", "done", "status", "error")

    def __init__(self, native: Native, cancel: Any) -> None:
        self.native = native
        self.cancel = cancel
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.status: Optional[_ffi.ycm_status] = None
        self.error: Optional[BaseException] = None


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


def _work(jobs: "queue.SimpleQueue[Optional[_Job]]") -> None:
    block_outside_signals()
    while True:
        job = jobs.get()
        if job is None:
            return
        try:
            job.status = job.native(job.cancel)
        except BaseException as exc:  # handed to the waiting thread
            job.error = exc
        job.done.release()


class MainThreadRunner:
    """The worker thread of one client for the calls its main thread makes.

    Holds no reference to the client, so the client's finalizer can stop it (:meth:`stop`).
    The thread starts on the first call from the main thread, and again in a forked child.
    """

    def __init__(self) -> None:
        self._jobs: Optional["queue.SimpleQueue[Optional[_Job]]"] = None
        self._generation = -1
        self._start_lock = threading.Lock()

    def run(self, native: Native, out: Optional[ctypes.c_void_p] = None) -> _ffi.ycm_status:
        """Runs ``native`` on the calling thread, or via the worker on the main thread.

        Off the main thread the call gets no cancel (nothing could trigger it). On the main
        thread, an exception raised while waiting (``KeyboardInterrupt`` from Ctrl-C)
        cancels the call, waits for it to return, frees ``out`` if the call filled it, and
        propagates.
        """
        if _thread.get_ident() != threading.main_thread().ident:
            return native(None)
        jobs = self._jobs
        if jobs is None or self._generation != _fork_generation:
            jobs = self._start()
        cancel = Cancel()
        job = _Job(native, cancel.pointer)
        jobs.put(job)
        try:
            job.done.acquire()
        except BaseException:
            cancel.trigger()
            while True:  # a second Ctrl-C while the call stops changes nothing
                try:
                    job.done.acquire()
                    break
                except BaseException:
                    continue
            cancel.free()
            free_out_string(out)
            raise
        cancel.free()
        if job.error is not None:
            raise job.error
        assert job.status is not None
        return job.status

    def _start(self) -> "queue.SimpleQueue[Optional[_Job]]":
        with self._start_lock:
            if self._jobs is not None and self._generation == _fork_generation:
                return self._jobs
            jobs: "queue.SimpleQueue[Optional[_Job]]" = queue.SimpleQueue()
            thread = threading.Thread(
                target=_work, args=(jobs,), name="ycm-main-calls", daemon=True
            )
            thread.start()
            self._jobs, self._generation = jobs, _fork_generation
            return jobs

    def stop(self) -> None:
        """Ends the worker thread once it is idle (the client is closed)."""
        jobs, self._jobs = self._jobs, None
        if jobs is not None and self._generation == _fork_generation:
            jobs.put(None)
