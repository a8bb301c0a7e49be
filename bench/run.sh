#!/usr/bin/env bash
# Runs every benchmark against one ycm-mock started here (port 0, killed on exit), in
# interleaved rounds so that ycm and its peers share the machine's noise, then prints the
# summary table and writes it to bench/results/latest.md (raw lines: latest.raw).
#
# Called by `make bench`, which builds the binaries first. Knobs (environment):
#   BENCH_ROUNDS (5)  BENCH_REQUESTS (5000 per C run)  BENCH_THREADS (4)
#   BENCH_PY_REQUESTS (1000)  BENCH_WRK_SECONDS (2)  BENCH_WARMUP (20 per thread)
# Paths: MOCK_BIN, LIB_SO, BENCH_BUILD (dir of bench_ycm/bench_curl), PYTHON (summary,
# admin calls), BENCH_PY (interpreter for the Python benches).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
MOCK_BIN=${MOCK_BIN:-$root/target/release/ycm-mock}
LIB_SO=${LIB_SO:-$root/target/release/libycm.so}
BUILD=${BENCH_BUILD:-$here/build}
PYTHON=${PYTHON:-python3}
BENCH_PY=${BENCH_PY:-$root/.venv/bin/python}
ROUNDS=${BENCH_ROUNDS:-5}
REQUESTS=${BENCH_REQUESTS:-5000}
THREADS=${BENCH_THREADS:-4}
PY_REQUESTS=${BENCH_PY_REQUESTS:-1000}
WRK_SECONDS=${BENCH_WRK_SECONDS:-2}
WARMUP=${BENCH_WARMUP:-20}

results=$here/results
mkdir -p "$results"
raw=$results/latest.raw
: >"$raw"
# shellcheck source=../scripts/mock.sh
source "$root/scripts/mock.sh"
tmp=$mock_dir  # removed with the mock when this script exits

# --- the server -------------------------------------------------------------------------
start_mock "$MOCK_BIN"
url=$mock_url
echo "bench: ycm-mock at $url (pid $mock_pid); $ROUNDS rounds, $REQUESTS requests per C run," \
    "threads 1 and $THREADS" >&2

mockctl() { "$PYTHON" "$here/mockctl.py" "$url" "$@"; }

# CPU time the mock has used so far, in milliseconds (utime + stime from /proc).
tck=$(getconf CLK_TCK)
mock_cpu_ms() { awk -v t="$tck" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$mock_pid/stat"; }

# run_one TAG MIN_UPDATES MAX_UPDATES CMD...: runs CMD, appends "TAG <its line> mock_cpu_ms=N"
# to the raw file after checking that the mock applied MIN..MAX updates. Exit 3 from CMD
# means "peer not available": recorded once as a skip line.
run_one() {
    local tag=$1 min=$2 max=$3
    shift 3
    local before after out rc=0
    before=$(mock_cpu_ms)
    out=$("$@" 2>"$tmp/err") || rc=$?
    out=$(printf '%s\n' "$out" | grep '^impl=' | tail -n 1 || true)
    after=$(mock_cpu_ms)
    if [ "$rc" = 3 ]; then
        local skip
        skip="skip ${tag%% *} $(printf '%s' "$out" | grep -o 'impl=[^ ]*' || true)"
        grep -qF "$skip" "$raw" || echo "$skip reason=$(tail -n 1 "$tmp/err" | tr ' ' '_')" >>"$raw"
        echo "  $skip: $(tail -n 1 "$tmp/err")" >&2
        mockctl reset
        return 0
    fi
    if [ "$rc" != 0 ] || [ -z "$out" ]; then
        echo "bench: $tag failed (exit $rc): $*" >&2
        cat "$tmp/err" >&2
        exit 1
    fi
    mockctl check "$min" "$max" || { echo "bench: $tag: the mock did not see the expected work" >&2; exit 1; }
    # served: every update the mock applied in this run, warm-up included (wrk: its count).
    local served=$min
    [ "$min" = "$max" ] || served=$(printf '%s' "$out" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
    echo "$tag $out served=$served mock_cpu_ms=$((after - before))" >>"$raw"
    echo "  $tag $out" >&2
}

have_wrk=0
command -v wrk >/dev/null 2>&1 && have_wrk=1
[ "$have_wrk" = 1 ] || echo "skip wrk reason=wrk_not_installed" >>"$raw"
py_ok=1
[ -x "$BENCH_PY" ] || { BENCH_PY=$PYTHON; }

mockctl reset
for round in $(seq 1 "$ROUNDS"); do
    echo "bench: round $round/$ROUNDS" >&2
    # Alternate who goes first so that neither always runs on a warmer (or noisier) machine.
    if [ $((round % 2)) = 1 ]; then order="ycm curl"; else order="curl ycm"; fi
    for t in 1 "$THREADS"; do
        for impl in $order; do
            n=$((REQUESTS + WARMUP * t))
            run_one "bench=c round=$round" "$n" "$n" "$BUILD/bench_$impl" "$url" "$REQUESTS" "$t" "$WARMUP"
        done
    done
    if [ "$have_wrk" = 1 ]; then
        # The ceiling: wrk's own event loop, 1 connection (like the sequential runs) and
        # THREADS connections on 2 wrk threads (like the threaded runs).
        for c in 1 "$THREADS"; do
            wt=$((c < 2 ? 1 : 2))
            run_one "bench=wrk round=$round threads=$c" 1 1000000000 \
                wrk -t "$wt" -c "$c" -d "${WRK_SECONDS}s" -s "$here/wrk/update_user.lua" "$url"
        done
    fi
    if [ "$py_ok" = 1 ]; then
        if [ $((round % 2)) = 1 ]; then porder="ycm ctypes requests"; else porder="requests ctypes ycm"; fi
        for impl in $porder; do
            n=$((PY_REQUESTS + WARMUP))
            PYTHONPATH=$root/bindings/python${PYTHONPATH:+:$PYTHONPATH} YCM_LIBRARY=$LIB_SO \
                run_one "bench=py round=$round" "$n" "$n" \
                "$BENCH_PY" "$here/py/bench_py.py" "$impl" "$url" "$PY_REQUESTS" "$WARMUP"
        done
    fi
done

# --- paired, in one process: ycm, curl and the raw-socket floor in alternating blocks ----
for t in 1 "$THREADS"; do
    echo "bench: paired in-process blocks, $t thread(s)" >&2
    mockctl reset
    "$BUILD/bench_paired" "$url" "$REQUESTS" "$t" "$ROUNDS" "$mock_pid" "$WARMUP" >"$tmp/paired"
    cat "$tmp/paired" >>"$raw"
    mockctl check $(( (ROUNDS * REQUESTS + WARMUP * t) * 3 )) || {
        echo "bench: paired: the mock did not see the expected work" >&2; exit 1; }
done

# --- system calls per request, from strace -c: (calls at 3N - calls at N) / 2N ------------
if command -v strace >/dev/null 2>&1; then
    for impl in ycm curl raw; do
        for n in 1000 3000; do
            strace -f -c -o "$tmp/strace.$impl.$n" \
                "$BUILD/bench_paired" "$url" "$n" 1 1 "$mock_pid" 0 "$impl" >/dev/null
        done
        mockctl reset
        "$PYTHON" "$here/strace_delta.py" "$impl" 2000 "$tmp/strace.$impl.1000" "$tmp/strace.$impl.3000" >>"$raw"
    done
else
    echo "skip syscalls reason=strace_not_installed" >>"$raw"
fi

"$PYTHON" "$here/summarize.py" "$raw" "$results/latest.md" \
    --ycm-lib "$LIB_SO" --rounds "$ROUNDS" --requests "$REQUESTS" --threads "$THREADS" \
    --py-requests "$PY_REQUESTS" --wrk-seconds "$WRK_SECONDS" --python "$BENCH_PY"
