"""Admin calls to ycm-mock for bench/run.sh (stdlib only).

  mockctl.py URL reset              clear stats, log and faults; reseed users
  mockctl.py URL check MIN [MAX]    fail unless MIN <= stats.update_user <= MAX, then reset
"""

from __future__ import annotations

import json
import sys
import urllib.request


def call(url: str, method: str, path: str) -> dict[str, object]:
    req = urllib.request.Request(url + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=10) as resp:
        result: dict[str, object] = json.load(resp)
        return result


def main() -> int:
    url, action = sys.argv[1], sys.argv[2]
    if action == "check":
        low = int(sys.argv[3])
        high = int(sys.argv[4]) if len(sys.argv) > 4 else low
        updates = call(url, "GET", "/__mock/stats")["update_user"]
        if not isinstance(updates, int) or not low <= updates <= high:
            print(f"mock saw {updates} updates, expected {low}..{high}", file=sys.stderr)
            return 1
    call(url, "POST", "/__mock/reset")
    return 0


if __name__ == "__main__":
    sys.exit(main())
