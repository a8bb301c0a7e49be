"""A WSGI application that updates YCM users, safe under gunicorn's and uWSGI's pre-fork
models: the client is made once at import (in the master, with ``preload_app`` /
``--master`` without ``lazy-apps``) and inherited by every worker. ycm drops the inherited
connection pool in a child (a socket is never shared between processes; it is closed, never
shut down, so the parent's connections survive) and keeps the token; with
``shared_state="host"`` the workers also share one token and one rate budget.

Run it:    gunicorn --preload -w 4 'wsgi_app:application'   (YCM_BASE_URL, YCM_ACCESS_TOKEN)
Self-test: python wsgi_app.py BASE_URL ACCESS_TOKEN  (forks 3 workers that each call the app
           with the client their parent made; ``make docs-examples`` runs it on ycm-mock)
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import ycm

StartResponse = Callable[[str, List[Tuple[str, str]]], Any]

# ANCHOR: app
# One client per process tree, made at import: the workers forked from the master share it.
client = ycm.Client(
    os.environ.get("YCM_BASE_URL", "https://ycm.yeastar.com"),
    os.environ.get("YCM_ACCESS_TOKEN"),
    timeout_ms=10_000,  # shorter than the worker timeout (gunicorn: 30 s)
)


def application(environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """POST /users/<id> with a JSON object of wire fields updates that user."""
    user_id = int(environ["PATH_INFO"].rsplit("/", 1)[-1])
    fields = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
    try:
        result = client.update_user(user_id, fields)
        status, body = "200 OK", {"requestId": result.request_id, "attempts": result.attempts}
    except ycm.InvalidBodyError as error:  # nothing was sent: the caller's mistake
        status, body = "400 Bad Request", {"error": str(error)}
    except ycm.YcmError as error:  # YCM or the network: report, do not crash the worker
        status, body = "502 Bad Gateway", {"error": str(error), "code": error.code.c_name}
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]
# ANCHOR_END: app


def call(user_id: int, fields: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """Calls the application as a WSGI server would."""
    data = json.dumps(fields).encode()
    seen: List[str] = []
    environ = {"PATH_INFO": f"/users/{user_id}", "CONTENT_LENGTH": str(len(data)),
               "wsgi.input": io.BytesIO(data)}
    body = b"".join(application(environ, lambda status, headers: seen.append(status)))
    return seen[0], json.loads(body)


def self_test(workers: int = 3) -> int:
    status, _ = call(13329, {"remark": "from the master"})  # the master's pool is now warm
    if not status.startswith("200"):
        print(f"master: {status}", file=sys.stderr)
        return 1
    pids: List[int] = []
    for n in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: the inherited client, a fresh pool
            status, body = call(13329, {"remark": f"from worker {n}"})
            print(f"worker {n}: {status} {body}")
            os._exit(0 if status.startswith("200") else 1)
        pids.append(pid)
    failed = sum(1 for pid in pids if os.waitpid(pid, 0)[1] != 0)
    status, _ = call(13329, {"remark": "from the master again"})  # its pool still works
    print(f"master after the workers: {status}")
    return 1 if failed or not status.startswith("200") else 0


def main(argv: List[str]) -> int:
    global client
    if len(argv) != 3:
        print("usage: python wsgi_app.py BASE_URL ACCESS_TOKEN", file=sys.stderr)
        return 2
    client.close()
    client = ycm.Client(argv[1], argv[2], timeout_ms=10_000)
    return self_test()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
