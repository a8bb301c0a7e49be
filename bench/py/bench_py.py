"""Python side of the benchmark: sequential updates of user 13329 through the `ycm`
package (`Client.update_user`), through the bare ctypes call under it (`ycm_update_user`
on a handle, the package's own library: what the package costs on top of C), or through
`requests` (one Session, so keep-alive), the same PUT, headers and body as the C benches.
Prints one key=value line like them.

Usage: python bench_py.py {ycm,ctypes,requests} BASE_URL REQUESTS [WARMUP]
Exit status 3 means "this peer is not available here" (the caller reports it as skipped).
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Callable

TOKEN = "ycm-mock-token"
USER_ID = 13329
PATH = "/dm/open_api/v1/users/13329"
USER_AGENT = "ycm/0.1.0"
FIELDS = {"company": "Bench Co", "remark": "benchmark run"}
BODY = '{"company":"Bench Co","remark":"benchmark run"}'


def make_ycm(base_url: str) -> Callable[[], None]:
    try:
        import ycm
    except Exception as exc:  # ImportError, or the library failing to load
        print("impl=py-ycm skipped", flush=True)
        print(f"ycm package not importable: {exc}", file=sys.stderr)
        sys.exit(3)
    client = ycm.Client(base_url, TOKEN)

    def update() -> None:
        client.update_user(USER_ID, FIELDS)  # raises a ycm.YcmError subclass on failure

    return update


def make_ctypes(base_url: str) -> Callable[[], None]:
    try:
        import ctypes

        from ycm import _ffi
    except Exception as exc:
        print("impl=py-ctypes skipped", flush=True)
        print(f"ycm package not importable: {exc}", file=sys.stderr)
        sys.exit(3)
    handle = _ffi.ycm_client_p()
    status = _ffi.lib.ycm_client_new(base_url.encode(), TOKEN.encode(), ctypes.byref(handle))
    if status.code != 0:
        raise RuntimeError(status.message.decode())
    native = _ffi.lib.ycm_update_user
    body = BODY.encode()

    def update() -> None:
        if native(handle, USER_ID, body).code != 0:
            raise RuntimeError("ycm_update_user failed")

    return update


def make_requests(base_url: str) -> Callable[[], None]:
    try:
        import requests
    except ImportError as exc:
        print("impl=py-requests skipped", flush=True)
        print(f"requests not installed: {exc}", file=sys.stderr)
        sys.exit(3)
    session = requests.Session()
    url = base_url + PATH
    headers = {
        "Authorization": "Bearer " + TOKEN,
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    body = BODY.encode()

    def update() -> None:
        r = session.put(url, data=body, headers=headers, timeout=30)
        if r.status_code != 200 or '"Success"' not in r.text:
            raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")

    return update


def main() -> int:
    makers = {"ycm": make_ycm, "ctypes": make_ctypes, "requests": make_requests}
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in makers:
        print(__doc__, file=sys.stderr)
        return 2
    impl, base_url, requests_n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    warmup = int(sys.argv[4]) if len(sys.argv) == 5 else 20
    update = makers[impl](base_url)
    rss_setup_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    for _ in range(warmup):
        update()
    latencies = [0] * requests_n
    clock = time.perf_counter_ns
    cpu0 = time.process_time()
    t0 = clock()
    for i in range(requests_n):
        s = clock()
        update()
        latencies[i] = clock() - s
    elapsed = (clock() - t0) / 1e9
    cpu = time.process_time() - cpu0
    latencies.sort()

    def pct(p: float) -> float:
        rank = min(max(1, -(-int(p * requests_n) // 100)), requests_n)
        return latencies[rank - 1] / 1000.0

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"impl=py-{impl} threads=1 requests={requests_n} errors=0 seconds={elapsed:.4f} "
        f"rps={requests_n / elapsed:.1f} p50_us={pct(50):.1f} p99_us={pct(99):.1f} "
        f"cpu_s={cpu:.3f} cpu_us_per_req={cpu * 1e6 / requests_n:.1f} "
        f"rss_setup_kb={rss_setup_kb} maxrss_kb={maxrss}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
