#!/bin/sh
# Runs each fuzz target named on the command line for FUZZ_SECONDS, one after the other (the
# fuzzers are not run in parallel), then prints one line per target: executions, coverage
# (libFuzzer's cov and ft) and corpus size from the final `#N DONE` and `stat::` lines.
# Exits 1 when a target found a crash; its artifact is under fuzz/artifacts/<target>/.
# Called by `make fuzz` (fuzz/fuzz.mk), which sets FUZZ_CARGO, FUZZ_DIR, FUZZ_SECONDS and
# FUZZ_MAX_LEN.
set -u
: "${FUZZ_CARGO:=cargo +nightly}" "${FUZZ_DIR:=$(cd "$(dirname "$0")" && pwd)}"
: "${FUZZ_SECONDS:=60}" "${FUZZ_MAX_LEN:=8192}"
logs="$FUZZ_DIR/target/logs"
mkdir -p "$logs"
summary=""
crashed=""
for target in "$@"; do
    mkdir -p "$FUZZ_DIR/corpus-run/$target"
    log="$logs/$target.log"
    echo "== fuzz $target for ${FUZZ_SECONDS}s (log: $log)"
    # shellcheck disable=SC2086 # FUZZ_CARGO is a command with arguments
    $FUZZ_CARGO fuzz run --fuzz-dir "$FUZZ_DIR" "$target" \
        "$FUZZ_DIR/corpus-run/$target" "$FUZZ_DIR/corpus/$target" -- \
        -max_total_time="$FUZZ_SECONDS" -max_len="$FUZZ_MAX_LEN" -print_final_stats=1 \
        >"$log" 2>&1
    status=$?
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
    execs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log" | tail -n 1)
    [ -n "$execs" ] || execs=$(printf '%s\n' "$done_line" | sed -n 's/^#\([0-9]*\).*/\1/p')
    speed=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$log" | tail -n 1)
    cov=$(printf '%s\n' "$done_line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$done_line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(printf '%s\n' "$done_line" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
    if [ "$status" -ne 0 ]; then
        crashed="$crashed $target"
        echo "!! $target failed (exit $status); the end of its log:"
        tail -n 40 "$log"
        result="FAILED (see fuzz/artifacts/$target/)"
    else
        result="no crash"
    fi
    summary="$summary$(printf '%-12s executions=%-10s exec/s=%-7s cov=%-5s ft=%-5s corpus=%-10s %s' \
        "$target" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result")
"
done
echo "== fuzz summary (${FUZZ_SECONDS}s per target)"
printf '%s' "$summary"
if [ -n "$crashed" ]; then
    echo "crashes in:$crashed; minimise with: cargo +nightly fuzz tmin <target> <artifact>," \
        "then save the input under fuzz/regressions/<target>/"
    exit 1
fi
