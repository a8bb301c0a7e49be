#!/usr/bin/env bash
# Runs one test command against a fresh ycm-mock on a free loopback port.
#
#   bindings/c/tests/run.sh [valgrind ARGS...] TEST_BINARY
#
# Starts "${YCM_MOCK_BIN:-target/release/ycm-mock} --addr 127.0.0.1:0 --quiet $YCM_MOCK_ARGS",
# reads the URL from its first stdout line (10 s timeout), exports YCM_MOCK_URL, runs the
# command given as arguments, stops the mock on exit (whatever happens) and exits with the
# command's status. YCM_MOCK_ARGS (optional, split on blanks) gives one test binary a mock
# of its own kind, e.g. "--no-static-token --token-ttl 2"; it stays exported, so the test
# can read the options (a secret it must look for, say) from the same place.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 [PREFIX...] TEST_BINARY" >&2
    exit 2
fi

mock_bin=${YCM_MOCK_BIN:-target/release/ycm-mock}
[ -x "$mock_bin" ] || { echo "run.sh: $mock_bin not found (cargo build --release -p ycm-mock)" >&2; exit 2; }

work=$(mktemp -d)
mock_pid=
cleanup() {
    if [ -n "$mock_pid" ] && kill -0 "$mock_pid" 2>/dev/null; then
        kill "$mock_pid" 2>/dev/null || true
        wait "$mock_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r -a mock_args <<<"${YCM_MOCK_ARGS:-}"
"$mock_bin" --addr 127.0.0.1:0 --quiet ${mock_args[@]+"${mock_args[@]}"} >"$work/stdout" 2>"$work/stderr" &
mock_pid=$!

url=
for _ in $(seq 1 100); do
    if [ -s "$work/stdout" ] && [ "$(wc -l <"$work/stdout")" -ge 1 ]; then
        line=$(head -n 1 "$work/stdout")
        url=${line#ycm-mock listening on }
        [ "$url" != "$line" ] || { echo "run.sh: unexpected first line from the mock: $line" >&2; exit 1; }
        break
    fi
    if ! kill -0 "$mock_pid" 2>/dev/null; then
        echo "run.sh: ycm-mock exited early:" >&2
        cat "$work/stderr" >&2
        exit 1
    fi
    sleep 0.1
done
[ -n "$url" ] || { echo "run.sh: ycm-mock printed no URL within 10 s" >&2; exit 1; }

export YCM_MOCK_URL=$url
set +e
"$@"
status=$?
set -e
exit "$status"
