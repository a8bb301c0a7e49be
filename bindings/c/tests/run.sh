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
# can read the options (a secret it must look for, say) from the same place. YCM_REDIS=1
# also starts a redis-server (scripts/redis.sh) and exports YCM_REDIS_URL and YCM_REDIS_PORT.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 [PREFIX...] TEST_BINARY" >&2
    exit 2
fi

mock_bin=${YCM_MOCK_BIN:-target/release/ycm-mock}

# shellcheck source=../../../scripts/mock.sh
source "$(cd "$(dirname "$0")/../../.." && pwd)/scripts/mock.sh"
read -r -a mock_args <<<"${YCM_MOCK_ARGS:-}"
start_mock "$mock_bin" ${mock_args[@]+"${mock_args[@]}"}
url=$mock_url
if [ "${YCM_REDIS:-}" = 1 ]; then
    # shellcheck source=../../../scripts/redis.sh
    source "$(cd "$(dirname "$0")/../../.." && pwd)/scripts/redis.sh"
    trap 'stop_redis; stop_mock' EXIT
    start_redis
fi

export YCM_MOCK_URL=$url
set +e
"$@"
status=$?
set -e
exit "$status"
