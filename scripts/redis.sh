# Sourced by bindings/c/tests/run.sh when a test asks for a Redis server (YCM_REDIS=1):
# `start_redis` starts Debian's redis-server on a free loopback port, without persistence,
# and exports YCM_REDIS_PORT and YCM_REDIS_URL; the server on that port is shut down when
# the calling script exits, whether the test restarted it or not (`redis-cli shutdown`).
# Without redis-server it exits 1 on CI (`.ci/run` installs it) and exports nothing
# elsewhere, so the test skips its Redis part and says so.

redis_port=

stop_redis() {
    if [ -n "$redis_port" ]; then
        redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    fi
}

start_redis() {
    if ! command -v redis-server >/dev/null 2>&1; then
        if [ -n "${CI:-}" ]; then
            echo "$0: redis-server is not installed (scripts/deps.sh installs it)" >&2
            exit 1
        fi
        echo "$0: redis-server is not installed; the Redis tests are skipped" >&2
        return 0
    fi
    redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
        --daemonize yes --dir "${TMPDIR:-/tmp}" --logfile "" >/dev/null
    for _ in $(seq 1 100); do
        if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
            export YCM_REDIS_PORT=$redis_port
            export YCM_REDIS_URL="redis://127.0.0.1:$redis_port/0"
            return 0
        fi
        sleep 0.1
    done
    echo "$0: redis-server did not start on port $redis_port" >&2
    exit 1
}
