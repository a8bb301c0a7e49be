#!/usr/bin/env bash
# `make soak`: starts a ycm-mock (scripts/mock.sh) and runs bench/build/soak against it:
# SOAK_CALLS (default 1000000) updates on one client, VmRSS printed after SOAK_FIRST
# (default 10000) and after all of them; fails when the difference is 1 MiB or more, or
# when the mock did not apply exactly SOAK_CALLS updates.
#
# Paths (environment): MOCK_BIN, SOAK_BIN, PYTHON (for bench/mockctl.py).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
MOCK_BIN=${MOCK_BIN:-$root/target/release/ycm-mock}
SOAK_BIN=${SOAK_BIN:-$here/build/soak}
PYTHON=${PYTHON:-python3}
CALLS=${SOAK_CALLS:-1000000}
FIRST=${SOAK_FIRST:-10000}

# shellcheck source=../scripts/mock.sh
source "$root/scripts/mock.sh"
start_mock "$MOCK_BIN"
"$SOAK_BIN" "$mock_url" "$CALLS" "$FIRST"
"$PYTHON" "$here/mockctl.py" "$mock_url" check "$CALLS"
echo "soak: the mock applied all $CALLS updates"
