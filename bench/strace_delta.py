"""System calls per request from two `strace -f -c` summaries of the same bench, one with N
and one with 3N requests: (calls at 3N - calls at N) / (2N), which cancels the start-up and
the warm-up. Prints one raw line for summarize.py (stdlib only).

Usage: strace_delta.py IMPL DELTA_REQUESTS SMALL.txt LARGE.txt
"""

from __future__ import annotations

import sys


def counts(path: str) -> dict[str, int]:
    """Calls per system call in an strace -c table (the total row included as "total")."""
    found: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            # "% time, seconds, usecs/call, calls, [errors,] syscall"
            if len(words) in (5, 6) and words[3].isdigit():
                found[words[-1]] = int(words[3])
    return found


def main() -> int:
    impl, delta, small, large = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    a, b = counts(small), counts(large)
    per = {name: (b.get(name, 0) - a.get(name, 0)) / delta for name in b if name != "total"}
    busy = sorted(((v, k) for k, v in per.items() if v >= 0.05), reverse=True)
    detail = ",".join(f"{k}:{v:.2f}" for v, k in busy)
    total = (b.get("total", 0) - a.get("total", 0)) / delta
    print(f"bench=syscalls impl={impl} per_req={total:.2f} detail={detail or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
