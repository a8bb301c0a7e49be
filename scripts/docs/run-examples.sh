#!/usr/bin/env bash
# Runs every example file that a page of the documentation site includes, against one
# ycm-mock (`make docs-examples`, part of `make docs-check`). scripts/docs/check.py fails
# when a page includes a file that this script does not name, so a snippet on the site is
# always a snippet that ran. Needs: MOCK_BIN, CLI_BIN, PYTHON (the dev venv's, the package
# importable), CARGO and CAPI (the cargo features of make rust-test, whose build of the
# examples this reuses); the C examples built by `make c-build` in bindings/c/build/.
set -euo pipefail
cd "$(dirname "$0")/../.."

mock_bin=${MOCK_BIN:-target/release/ycm-mock}
cli_bin=${CLI_BIN:-target/release/ycm}
python=${PYTHON:-.venv/bin/python}
cargo=${CARGO:-cargo}
token=docs-token
# shellcheck source=../mock.sh
source scripts/mock.sh
start_mock "$mock_bin" --access-token "$token"
url=$mock_url
export XDG_CONFIG_HOME=$mock_dir/config XDG_RUNTIME_DIR=$mock_dir/run YCM_BIN=$cli_bin
export YCM_LIBRARY=${YCM_LIBRARY:-$PWD/target/release/libycm.so}
mkdir -p "$mock_dir/run" && chmod 700 "$mock_dir/run"
failed=0

# run NAME EXPECTED COMMAND...: runs COMMAND, fails when it fails or its output lacks EXPECTED.
run() {
    local name=$1 expect=$2 out
    shift 2
    if out=$("$@" 2>&1) && grep -qF -- "$expect" <<<"$out"; then
        echo "docs-examples: ok   $name"
    else
        echo "docs-examples: FAIL $name (expected \"$expect\"):" >&2
        sed 's/^/    /' <<<"$out" >&2
        failed=1
    fi
}

run bindings/c/examples/update_user.c "company\":\"From C" \
    bindings/c/build/update_user "$url" "$token" 13329 "From C"
run bindings/c/examples/update_user.cpp "From C++" \
    bindings/c/build/update_user_cpp "$url" "$token" 13329 "From C++"
run bindings/python/examples/update_user.py "company 'From Python'" \
    "$python" bindings/python/examples/update_user.py "$url" "$token" 13329 "From Python"
run bindings/python/examples/wsgi_app.py "master after the workers: 200 OK" \
    env YCM_BASE_URL="$url" YCM_ACCESS_TOKEN="$token" \
    "$python" bindings/python/examples/wsgi_app.py "$url" "$token"
run examples/update_user.rs 'company "From Rust"' \
    "$cargo" run --quiet --example update_user ${CAPI:-} -- "$url" "$token" 13329 "From Rust"
run examples/cli/update_user.sh '"company": "From the CLI"' \
    env YCM_BASE_URL="$url" YCM_ACCESS_TOKEN="$token" examples/cli/update_user.sh 13329 "From the CLI"
if command -v php >/dev/null 2>&1; then
    run examples/php/update_user.php "user 13329 now: company From PHP" \
        env YCM_BASE_URL="$url" YCM_ACCESS_TOKEN="$token" php examples/php/update_user.php 13329 "From PHP"
    run examples/php/whmcs_hook.php "No syntax errors" php -l examples/php/whmcs_hook.php
else
    echo "docs-examples: FAIL php is missing (scripts/deps.sh docs: apt-get install php-cli)" >&2
    failed=1
fi

# The nightly job of the cookbook, on a small records file: updates 2 users, exit 0, and
# leaves its report, summary and metrics; the systemd units must pass systemd-analyze.
state=$mock_dir/state
printf 'userId,company,remark\n13329,Nightly Ltd,\n13330,,nightly sync\n' >"$mock_dir/records.csv"
run examples/ops/nightly-sync.sh '"counts":{"updated":2}' \
    env YCM_BASE_URL="$url" YCM_ACCESS_TOKEN="$token" \
    examples/ops/nightly-sync.sh "$mock_dir/records.csv" "$state"
for f in report.csv failed.csv summary.json ycm_sync.prom; do
    [ -f "$state/$f" ] || { echo "docs-examples: FAIL nightly-sync.sh wrote no $f" >&2; failed=1; }
done
run examples/ops/crontab "30 2 * * *" cat examples/ops/crontab
run examples/ops/cronjob.yaml "kind: CronJob" \
    "$python" -c 'import json, sys; t = open(sys.argv[1]).read(); assert "\t" not in t; print(t)' examples/ops/cronjob.yaml
if command -v systemd-analyze >/dev/null 2>&1; then
    units=$mock_dir/units && mkdir -p "$units"
    cp examples/ops/ycm-sync.service examples/ops/ycm-sync.timer "$units/"
    # The unit's ExecStart must exist for systemd-analyze: point it at the script.
    sed -i "s|^ExecStart=/usr/local/lib/ycm/nightly-sync.sh|ExecStart=$PWD/examples/ops/nightly-sync.sh|" "$units/ycm-sync.service"
    run examples/ops/ycm-sync.service "" systemd-analyze verify --man=no "$units/ycm-sync.service"
    run examples/ops/ycm-sync.timer "" systemd-analyze verify --man=no "$units/ycm-sync.timer"
fi
exit $failed
