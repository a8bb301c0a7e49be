"""A client survives what Gunicorn and Celery workers do to it: fork after use.

Each scenario runs in a fresh interpreter (a subprocess of the test, so pytest's own threads
are not forked): a client makes a call (its pooled connection is then open), the process
forks (``os.fork()``, or ``multiprocessing`` with the fork start method), and parent and
children keep calling ``get_user`` concurrently, each on ids of its own. Every response
must be the user asked for and no call may fail: a child that reused its parent's pooled
socket would read answers meant for the other process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any, Dict, List

from conftest import TOKEN, Mock

CALLS = 300  # per process

COMMON = """
import json, os, sys
import ycm

url, token, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = ycm.Client(url, token, max_retries=0, timeout_ms=10000)

def run(ids):
    '''Calls get_user on ids in turn: counts of answers for the id asked, for another id,
    and of failures (with the first few messages).'''
    right = wrong = failed = 0
    errors = []
    for n in range(calls):
        asked = ids[n % len(ids)]
        try:
            got = client.get_user(asked).user_id
        except Exception as exc:
            failed += 1
            if len(errors) < 3:
                errors.append(f"{type(exc).__name__}: {exc}")
            continue
        if got == asked:
            right += 1
        else:
            wrong += 1
    return {"pid": os.getpid(), "right": right, "wrong": wrong, "failed": failed, "errors": errors}

assert client.get_user(13329).user_id == 13329  # the pooled connection is open now
"""

WITH_OS_FORK = COMMON + """
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(read_end)
    result = run(list(range(20001, 20050)))
    os.write(write_end, json.dumps(result).encode())
    os._exit(0)
os.close(write_end)
results = [run(list(range(20050, 20100)))]
_, wait_status = os.waitpid(pid, 0)
with os.fdopen(read_end, "rb") as pipe:
    child = pipe.read()
results.append(json.loads(child) if child else {"child exit": wait_status})
print(json.dumps(results))
"""

WITH_MULTIPROCESSING = COMMON + """
import multiprocessing

def child(ids, results):
    results.put(run(ids))

if __name__ == "__main__":
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    children = [
        context.Process(target=child, args=(list(range(start, start + 30)), queue))
        for start in (20001, 20031)
    ]
    for process in children:
        process.start()
    results = [run(list(range(20061, 20100)))]
    results += [queue.get(timeout=60) for _ in children]
    for process in children:
        process.join(timeout=60)
        results.append({"exitcode": process.exitcode})
    print(json.dumps(results))
"""


def run_script(script: str, mock: Mock) -> List[Dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), mock.url, TOKEN, str(CALLS)],
        capture_output=True,
        text=True,
        timeout=120,  # hang guard
    )
    assert done.returncode == 0, done.stderr
    results: List[Dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def check_results(results: List[Dict[str, Any]], processes: int) -> None:
    calls = [r for r in results if "right" in r]
    assert len(calls) == processes, results
    assert len({r["pid"] for r in calls}) == processes
    for r in results:
        assert r.get("exitcode", 0) == 0, results
    # Every process got exactly the users it asked for, and no call failed.
    assert [(r["wrong"], r["failed"]) for r in calls] == [(0, 0)] * processes, results
    assert all(r["right"] == CALLS for r in calls), results


def test_after_os_fork_each_process_gets_its_own_answers(mock: Mock) -> None:
    check_results(run_script(WITH_OS_FORK, mock), processes=2)


def test_after_a_multiprocessing_fork_each_process_gets_its_own_answers(mock: Mock) -> None:
    check_results(run_script(WITH_MULTIPROCESSING, mock), processes=3)
