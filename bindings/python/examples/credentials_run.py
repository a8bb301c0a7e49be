"""Updates a YCM user in a loop for N seconds with a client built from client credentials,
then prints the calls made, the failures, and (against ycm-mock) the token requests the
server saw: the client fetches and refreshes its tokens itself, about once per token
lifetime, not once per call.

Usage: python credentials_run.py BASE_URL --client-id ID [--client-secret SECRET]
                                 [--seconds N] [--user-id ID]

The secret may come from $YCM_CLIENT_SECRET instead of the command line (where other users
of the machine can see it). Against ycm-mock with two-second tokens:

    ycm-mock --addr 127.0.0.1:0 --no-static-token --token-ttl 2
    python credentials_run.py http://127.0.0.1:PORT --client-id ycm-mock-client \\
        --client-secret ycm-mock-secret --seconds 10

Output (one `name: value` per line; the exit status is 1 when any call failed):

    calls: 900
    failures: 0
    token requests: 7
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from typing import List, Optional

import ycm

DESCRIPTION = "Updates a YCM user in a loop with a client built from client credentials."

def token_requests(base_url: str) -> Optional[int]:
    """The token requests counted by ycm-mock's ``/__mock/stats``; None for another server."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/__mock/stats", timeout=5) as resp:
            count = json.loads(resp.read())["token_requests"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return count if isinstance(count, int) else None


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("base_url", metavar="URL")
    parser.add_argument("--client-id", required=True)
    parser.add_argument(
        "--client-secret",
        default=os.environ.get("YCM_CLIENT_SECRET"),
        help="default: $YCM_CLIENT_SECRET",
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--user-id", type=int, default=13329)
    args = parser.parse_args(argv[1:])
    if not args.client_secret:
        parser.error("give --client-secret or set YCM_CLIENT_SECRET")

    calls = failures = 0
    try:
        client = ycm.Client(
            args.base_url, client_id=args.client_id, client_secret=args.client_secret
        )
    except ycm.YcmError as error:
        print(f"ycm {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    with client:
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            calls += 1
            try:
                client.update_user(args.user_id, remark=f"credentials run, call {calls}")
            except ycm.YcmError as error:
                failures += 1
                print(f"call {calls} failed: {type(error).__name__}: {error}", file=sys.stderr)
            time.sleep(0.01)

    tokens = token_requests(args.base_url)
    print(f"calls: {calls}")
    print(f"failures: {failures}")
    print(f"token requests: {'unknown (not ycm-mock)' if tokens is None else tokens}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
