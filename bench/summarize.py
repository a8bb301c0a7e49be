"""Turns bench/results/latest.raw (one key=value line per run, written by bench/run.sh)
into the Markdown summary: medians over the rounds, ycm/peer ratios, peak RSS, and the
mock's own cost. Prints it and writes it to the given path. Stdlib only.

Usage: summarize.py RAW OUT.md [--ycm-lib PATH] [--rounds N] [--requests N] [--threads N]
       [--py-requests N] [--wrk-seconds N] [--python PATH]
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import os
import platform
import statistics
import subprocess
from collections import defaultdict
from typing import Optional

Run = dict[str, str]


def parse(path: str) -> tuple[list[Run], dict[str, str]]:
    runs: list[Run] = []
    skips: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            if words[0] == "skip":
                name = next((w.split("=", 1)[1] for w in words if w.startswith("bench=")), words[1])
                impl = next((w.split("=", 1)[1] for w in words if w.startswith("impl=")), "")
                reason = next((w.split("=", 1)[1] for w in words if w.startswith("reason=")), "")
                skips[f"{name}:{impl}" if impl else name] = reason.replace("_", " ")
                continue
            run: Run = {}
            for w in words:
                if "=" in w:
                    k, v = w.split("=", 1)
                    run[k] = v
            runs.append(run)
    return runs, skips


def command_output(args: list[str]) -> str:
    """First line a command prints (stdout, else stderr), whatever its exit status."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, check=False)
    except OSError:
        return "?"
    text = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return text[0] if text else "?"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def ycm_version(lib: Optional[str]) -> str:
    if not lib:
        return "?"
    try:
        so = ctypes.CDLL(lib)
        so.ycm_version.restype = ctypes.c_char_p
        so.ycm_version.argtypes = []
        value: bytes = so.ycm_version()
        return value.decode()
    except (OSError, AttributeError):
        return "?"


class Table:
    def __init__(self, header: list[str]) -> None:
        self.rows: list[list[str]] = [header]

    def add(self, row: list[str]) -> None:
        self.rows.append(row)

    def render(self) -> str:
        widths = [max(len(r[i]) for r in self.rows) for i in range(len(self.rows[0]))]

        def line(r: list[str]) -> str:
            cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))]
            return "| " + " | ".join(cells) + " |"

        sep = "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
        return "\n".join([line(self.rows[0]), sep] + [line(r) for r in self.rows[1:]])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("out")
    ap.add_argument("--ycm-lib")
    ap.add_argument("--rounds", default="?")
    ap.add_argument("--requests", default="?")
    ap.add_argument("--threads", default="?")
    ap.add_argument("--py-requests", default="?")
    ap.add_argument("--wrk-seconds", default="?")
    ap.add_argument("--python", default="?")
    opts = ap.parse_args()

    runs, skips = parse(opts.raw)
    groups: dict[tuple[str, str, str], list[Run]] = defaultdict(list)
    for r in runs:
        groups[(r.get("bench", "?"), r.get("threads", "1"), r.get("impl", "?"))].append(r)

    def med(bench: str, threads: str, impl: str, key: str) -> Optional[float]:
        values = [float(r[key]) for r in groups.get((bench, threads, impl), []) if key in r]
        return statistics.median(values) if values else None

    def mock_us(bench: str, threads: str, impl: str) -> Optional[float]:
        """CPU time of the mock per request it served during these runs, in µs: summed over
        the rounds, since /proc counts in 10 ms ticks (too coarse for one short run)."""
        cpu_ms = served = 0.0
        for r in groups.get((bench, threads, impl), []):
            if "mock_cpu_ms" in r:
                cpu_ms += float(r["mock_cpu_ms"])
                served += float(r.get("served", r["requests"]))
        return cpu_ms * 1000.0 / served if served else None

    def paired(bench: str, threads: str, a: str, b: str, key: str) -> Optional[float]:
        """Median over the rounds of a/b within each round (runs of one round are adjacent,
        so they share the machine's state at that moment): steadier than a ratio of medians."""
        by_round: dict[str, dict[str, float]] = defaultdict(dict)
        for impl in (a, b):
            for r in groups.get((bench, threads, impl), []):
                by_round[r.get("round", "?")][impl] = float(r[key])
        values = [v[a] / v[b] for v in by_round.values() if a in v and b in v and v[b] > 0]
        return statistics.median(values) if values else None

    def fmt(x: Optional[float], digits: int = 0) -> str:
        return "n/a" if x is None else f"{x:,.{digits}f}"

    def ratio(a: Optional[float], b: Optional[float]) -> str:
        return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}x"

    def kib_to_mib(x: Optional[float]) -> Optional[float]:
        return None if x is None else x / 1024.0

    threads_all = sorted({k[1] for k in groups if k[0] == "c"}, key=int)
    out: list[str] = []
    w = out.append
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = command_output(["git", "rev-parse", "--short", "HEAD"])
    dirty = command_output(["git", "status", "--porcelain", "--untracked-files=no"])
    w("# ycm benchmark results\n")
    w(f"- When: {now}; commit {commit}{' (uncommitted changes)' if dirty not in ('', '?') else ''}")
    w(f"- Machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}")
    w(f"- ycm {ycm_version(opts.ycm_lib)} (release build); libcurl "
      f"{command_output(['curl-config', '--version']).replace('libcurl ', '')}; "
      f"{' '.join(command_output(['wrk', '--version']).split()[:2]) if 'wrk' not in skips else 'wrk: not installed'}")
    w(f"- Method: {opts.rounds} interleaved rounds; each C run = {opts.requests} timed sequential "
      f"`PUT /dm/open_api/v1/users/13329` per process (after a warm-up), either on 1 thread or "
      f"split over {opts.threads} threads; figures are medians over the rounds; ratios are "
      f"ycm / peer (req/s: above 1 means ycm is faster; latency, CPU, RSS: below 1 means ycm is "
      f"leaner). Same mock process for everything, reset between runs.\n")

    w("## C: ycm vs libcurl\n")
    t = Table(["threads", "ycm req/s", "curl req/s", "ycm/curl", "paired", "ycm p50 µs", "curl p50 µs",
               "p50 ratio", "ycm p99 µs", "curl p99 µs", "ycm CPU µs/req", "curl CPU µs/req",
               "CPU ratio"])
    for th in threads_all:
        y = {k: med("c", th, "ycm", k) for k in ("rps", "p50_us", "p99_us", "cpu_us_per_req")}
        c = {k: med("c", th, "curl", k) for k in ("rps", "p50_us", "p99_us", "cpu_us_per_req")}
        pr = paired("c", th, "ycm", "curl", "rps")
        t.add([th, fmt(y["rps"]), fmt(c["rps"]), ratio(y["rps"], c["rps"]),
               "n/a" if pr is None else f"{pr:.2f}x",
               fmt(y["p50_us"]), fmt(c["p50_us"]), ratio(y["p50_us"], c["p50_us"]),
               fmt(y["p99_us"]), fmt(c["p99_us"]),
               fmt(y["cpu_us_per_req"], 1), fmt(c["cpu_us_per_req"], 1),
               ratio(y["cpu_us_per_req"], c["cpu_us_per_req"])])
    w(t.render())
    w("\nycm/curl is the ratio of the medians; paired is the median of the per-round ratios "
      "(each round runs ycm and curl back to back, alternating who goes first). "
      "CPU µs/req is the client process's own CPU time (user + system) per request; it does "
      "not depend on how busy the mock is, so it is the steadiest way to compare clients.\n")

    w("## The mock's ceiling (wrk, same PUT)\n")
    if "wrk" in skips:
        w(f"Skipped: {skips['wrk']}.\n")
    else:
        t = Table(["connections", "wrk req/s", "wrk p50 µs", "wrk p99 µs", "ycm/wrk req/s",
                   "curl/wrk req/s", "mock CPU µs/req (wrk)", "mock CPU µs/req (ycm)",
                   "mock CPU µs/req (curl)"])
        for th in sorted({k[1] for k in groups if k[0] == "wrk"}, key=int):
            wr = med("wrk", th, "wrk", "rps")
            t.add([th, fmt(wr), fmt(med("wrk", th, "wrk", "p50_us")),
                   fmt(med("wrk", th, "wrk", "p99_us")),
                   ratio(med("c", th, "ycm", "rps"), wr), ratio(med("c", th, "curl", "rps"), wr),
                   fmt(mock_us("wrk", th, "wrk"), 1), fmt(mock_us("c", th, "ycm"), 1),
                   fmt(mock_us("c", th, "curl"), 1)])
        w(t.render())
        w("\nwrk is a C event loop that does almost nothing per request, so its figure is what "
          "the mock can serve on this machine with the client's share of the CPUs nearly free. "
          "The mock's CPU per request (from /proc, 10 ms ticks) shows its own cost.\n")
    busy = []
    ncpu = os.cpu_count() or 1
    for th in threads_all:
        for impl in ("ycm", "curl"):
            rps = med("c", th, impl, "rps")
            client = med("c", th, impl, "cpu_us_per_req")
            server = mock_us("c", th, impl)
            if rps and client is not None and server is not None:
                busy.append(f"{impl} {th} thread(s): {(client + server) * rps / 1e6:.2f}")
    if busy:
        w(f"CPUs kept busy (client + mock CPU per request x req/s), out of {ncpu}: "
          + "; ".join(busy) + ". Near the CPU count, the machine itself is the limit and "
          "client and server compete for it; then a client that needs less CPU per request "
          "leaves more to the server.\n")

    w("## Memory: peak RSS (MiB, median)\n")
    t = Table(["process", "ycm", "peer", "ycm/peer", "ycm after setup", "peer after setup"])
    for th in threads_all:
        rss_y, rss_c = med("c", th, "ycm", "maxrss_kb"), med("c", th, "curl", "maxrss_kb")
        t.add([f"C, {th} thread(s) (peer: libcurl)", fmt(kib_to_mib(rss_y), 1),
               fmt(kib_to_mib(rss_c), 1), ratio(rss_y, rss_c), fmt(kib_to_mib(med("c", th, "ycm", "rss_setup_kb")), 1),
               fmt(kib_to_mib(med("c", th, "curl", "rss_setup_kb")), 1)])
    py_y, py_r = med("py", "1", "py-ycm", "maxrss_kb"), med("py", "1", "py-requests", "maxrss_kb")
    if py_y is not None or py_r is not None:
        t.add(["Python, 1 thread (peer: requests)", fmt(kib_to_mib(py_y), 1),
               fmt(kib_to_mib(py_r), 1), ratio(py_y, py_r),
               fmt(kib_to_mib(med("py", "1", "py-ycm", "rss_setup_kb")), 1),
               fmt(kib_to_mib(med("py", "1", "py-requests", "rss_setup_kb")), 1)])
    w(t.render())
    w("\nPeak RSS is getrusage(RUSAGE_SELF).ru_maxrss of the whole bench process at its end; "
      "\"after setup\" is the same figure right after the client was created (libraries "
      "loaded, curl_global_init or ycm_client_new done), before any request.\n")

    w("## Python: ycm package vs requests (sequential)\n")
    if "py:py-ycm" in skips and "py:py-requests" in skips:
        w("Skipped: neither peer is available.\n")
    else:
        t = Table(["peer", "req/s", "p50 µs", "p99 µs", "CPU µs/req"])
        for impl, name in (("py-ycm", "ycm.Client.update_user"),
                           ("py-ctypes", "bare ctypes ycm_update_user"),
                           ("py-requests", "requests.Session")):
            if f"py:{impl}" in skips:
                t.add([name, "skipped", "", "", ""])
                continue
            t.add([name, fmt(med("py", "1", impl, "rps")), fmt(med("py", "1", impl, "p50_us")),
                   fmt(med("py", "1", impl, "p99_us")), fmt(med("py", "1", impl, "cpu_us_per_req"), 1)])
        t.add(["ycm/requests", ratio(med("py", "1", "py-ycm", "rps"), med("py", "1", "py-requests", "rps")),
               ratio(med("py", "1", "py-ycm", "p50_us"), med("py", "1", "py-requests", "p50_us")),
               ratio(med("py", "1", "py-ycm", "p99_us"), med("py", "1", "py-requests", "p99_us")),
               ratio(med("py", "1", "py-ycm", "cpu_us_per_req"),
                     med("py", "1", "py-requests", "cpu_us_per_req"))])
        w(t.render())
        over = [None if a is None or b is None else a - b for a, b in
                [(med("py", "1", "py-ycm", "cpu_us_per_req"), med("py", "1", "py-ctypes", "cpu_us_per_req"))]]
        if over[0] is not None:
            w(f"\nThe package's own cost over the bare ctypes call: {over[0]:.1f} µs of CPU per update.")
        w(f"\n{opts.py_requests} requests per run, interpreter {opts.python}.\n")
        for key in ("py:py-ycm", "py:py-requests"):
            if key in skips:
                w(f"- {key.split(':')[1]} skipped: {skips[key]}")
        w("")

    w("## Paired, in one process: ycm, libcurl and the raw-socket floor\n")
    paired_threads = sorted({k[1] for k in groups if k[0] == "paired"}, key=int)
    if not paired_threads:
        w("Not run.\n")
    else:
        t = Table(["threads", "ycm req/s", "curl req/s", "floor req/s", "ycm/curl req/s (spread)",
                   "ycm CPU µs/req", "curl CPU µs/req", "floor CPU µs/req",
                   "ycm/curl CPU (spread)", "mock CPU µs/req: ycm, curl, floor"])
        for th in paired_threads:
            def spread(key: str) -> str:
                by_round: dict[str, dict[str, float]] = defaultdict(dict)
                for impl in ("ycm", "curl"):
                    for r in groups.get(("paired", th, impl), []):
                        by_round[r.get("round", "?")][impl] = float(r[key])
                values = [v["ycm"] / v["curl"] for v in by_round.values()
                          if "ycm" in v and "curl" in v and v["curl"] > 0]
                if not values:
                    return "n/a"
                return f"{statistics.median(values):.2f}x ({min(values):.2f}-{max(values):.2f})"
            t.add([th] + [fmt(med("paired", th, i, "rps")) for i in ("ycm", "curl", "raw")]
                  + [spread("rps")]
                  + [fmt(med("paired", th, i, "cpu_us_per_req"), 1) for i in ("ycm", "curl", "raw")]
                  + [spread("cpu_us_per_req"),
                     ", ".join(fmt(med("paired", th, i, "mock_cpu_us_per_req"), 1)
                               for i in ("ycm", "curl", "raw"))])
        w(t.render())
        w("\nEach round runs a block of every peer in the same process, back to back, "
          "alternating the order; ratios are medians of the per-round ratios, with their "
          "range. CPU is CLOCK_PROCESS_CPUTIME_ID over the block; the mock's is the sum of "
          "its threads' /proc schedstat. The floor writes pre-built request bytes and reads "
          "the response with recv: no client work at all.\n")

    w("## System calls per request (strace -c)\n")
    if "syscalls" in skips:
        w(f"Skipped: {skips['syscalls']}.\n")
    else:
        t = Table(["client", "syscalls/req", "by call"])
        for impl, name in (("ycm", "ycm"), ("curl", "libcurl"), ("raw", "raw-socket floor")):
            rs = groups.get(("syscalls", "1", impl), [])
            if rs:
                t.add([name, rs[-1].get("per_req", "?"), rs[-1].get("detail", "").replace(",", ", ")])
        w(t.render())
        w("\nFrom two runs of 1,000 and 3,000 requests on 1 thread: the difference cancels "
          "start-up and warm-up.\n")

    w("## Every round (req/s)\n")
    t = Table(["run", "per round", "min", "max"])
    for group in sorted((g for g in groups if g[0] != "syscalls"), key=lambda k: (k[0], int(k[1]), k[2])):
        vals = [float(r["rps"]) for r in groups[group]]
        t.add([f"{group[0]} {group[2]} threads={group[1]}", " ".join(f"{v:.0f}" for v in vals),
               f"{min(vals):.0f}", f"{max(vals):.0f}"])
    w(t.render())
    text = "\n".join(out) + "\n"
    with open(opts.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(text, end="")
    print(f"(written to {opts.out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
