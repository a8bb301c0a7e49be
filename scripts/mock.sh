# Sourced by the scripts that need a ycm-mock (scripts/demo.sh, bindings/c/tests/run.sh,
# bench/run.sh): `start_mock BIN [ARGS...]` starts BIN on a free loopback port with the
# given extra arguments, waits (10 s at most) for its first line, and sets `mock_url` and
# `mock_pid`; the mock is stopped when the calling script exits. Exits 1 with the mock's
# stderr when it does not start.

mock_pid=
mock_url=
mock_dir=$(mktemp -d)

stop_mock() {
    if [ -n "$mock_pid" ] && kill -0 "$mock_pid" 2>/dev/null; then
        kill "$mock_pid" 2>/dev/null || true
        wait "$mock_pid" 2>/dev/null || true
    fi
    rm -rf "$mock_dir"
}
trap stop_mock EXIT
trap 'exit 130' INT TERM

start_mock() {
    local bin=$1 line
    shift
    [ -x "$bin" ] || { echo "$0: $bin not found (cargo build --release -p ycm-mock)" >&2; exit 2; }
    "$bin" --addr 127.0.0.1:0 --quiet "$@" >"$mock_dir/stdout" 2>"$mock_dir/stderr" &
    mock_pid=$!
    for _ in $(seq 1 100); do
        line=$(head -n 1 "$mock_dir/stdout" 2>/dev/null || true)
        case "$line" in
            *" listening on "*) mock_url=${line##* }; return 0 ;;
        esac
        kill -0 "$mock_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$0: $bin did not print its URL:" >&2
    cat "$mock_dir/stderr" >&2
    exit 1
}
