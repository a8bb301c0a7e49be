"""The interpreter may exit while daemon threads are inside calls.

At exit the client's finalizer runs while other threads are still in native calls (or just
about to start one), and those threads go on running until the interpreter is gone. That
must never touch freed memory: a run fails when it aborts (glibc's ``malloc_consolidate():
unaligned fastbin chunk``), panics or dies of a signal, and when a call fails in a way it
could only fail on a freed client (the threads' own errors are reported by an exit handler
that runs after the finalizer, while the application would still be cleaning up; before
the fix, calls on the freed handle failed with "invalid uri character" from a
garbage configuration). A call refused with ``ClientClosedError`` is the correct outcome.
The scenario runs many times in fresh interpreters, against a mock with latency so that
calls are always in flight, with calls ending all the time so that some end inside the exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Callable, List

from conftest import TOKEN, Mock

RUNS = 20
THREADS = 16

SCRIPT = """
import atexit, sys, threading, time

unexpected = []

def report():
    # Registered before any client exists, so it runs after the clients' finalizers: the
    # application's own clean-up at exit, while the daemon threads go on calling.
    time.sleep(0.1)
    if unexpected:
        sys.stderr.write(f"{len(unexpected)} calls failed, first: {unexpected[0]}\\n")

atexit.register(report)
import ycm

url, token, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = ycm.Client(url, token, timeout_ms=10000)
started = threading.Semaphore(0)

def loop(n):
    started.release()
    while True:
        try:
            if n % 2:
                client.update_user(20001 + n, remark=f"exit test {n}")
            else:
                client.get_user(20001 + n)
        except ycm.ClientClosedError:
            return  # the client was freed at exit before this call could start
        except Exception as exc:
            unexpected.append(f"{type(exc).__name__}: {exc}")

for n in range(threads):
    threading.Thread(target=loop, args=(n,), daemon=True).start()
for n in range(threads):
    started.acquire()
time.sleep(float(sys.argv[4]))
# The interpreter exits now, with the daemon threads inside calls.
"""


def test_exit_with_daemon_threads_inside_calls_is_clean(
    start_mock_with: Callable[..., Mock],
) -> None:
    mock = start_mock_with("--latency-ms", "5")
    failures: List[str] = []
    for run in range(RUNS):
        pause = 0.05 + 0.01 * (run % 5)  # vary where the exit falls in the calls
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(SCRIPT), mock.url, TOKEN, str(THREADS), str(pause)],
            capture_output=True,
            text=True,
            timeout=60,  # hang guard
            # glibc fills freed memory with this byte, so a use after free shows at once.
            env={**os.environ, "MALLOC_PERTURB_": "165"},
        )
        if done.returncode != 0 or done.stderr.strip():
            failures.append(f"run {run}: exit status {done.returncode}, stderr: {done.stderr[-800:]}")
    assert mock.stats()["requests"] > RUNS * THREADS  # the threads really were calling
    assert failures == [], f"{len(failures)} of {RUNS} exits were not clean:\n" + "\n".join(failures)
