#!/usr/bin/env bash
# The demo: start ycm-mock on a free loopback port, update user 13329's company from C (and
# from Python when bindings/python/examples/update_user.py exists), then stop the mock.
# `make demo` builds everything first; run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

mock_bin=target/release/ycm-mock
c_example=bindings/c/build/update_user
py_example=bindings/python/examples/update_user.py
python=${VENV:-.venv}/bin/python
token=ycm-mock-token

for f in "$mock_bin" "$c_example"; do
    [ -x "$f" ] || { echo "demo: $f is missing; run 'make demo'" >&2; exit 1; }
done

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

"$mock_bin" --addr 127.0.0.1:0 --access-token "$token" --quiet >"$work/stdout" 2>"$work/stderr" &
mock_pid=$!
url=
for _ in $(seq 1 100); do
    if [ "$(wc -l <"$work/stdout")" -ge 1 ]; then
        line=$(head -n 1 "$work/stdout")
        url=${line#ycm-mock listening on }
        break
    fi
    kill -0 "$mock_pid" 2>/dev/null || { echo "demo: ycm-mock exited:" >&2; cat "$work/stderr" >&2; exit 1; }
    sleep 0.1
done
[ -n "$url" ] && [ "$url" != "${line:-}" ] || { echo "demo: ycm-mock printed no URL" >&2; exit 1; }

echo "== ycm-mock is listening on $url (access token \"$token\")"
echo
echo "== C: $c_example $url $token 13329 \"New Company Name\""
"$c_example" "$url" "$token" 13329 "New Company Name"

echo
echo "== Python: $py_example $url $token 13329 \"Renamed from Python\""
"$python" "$py_example" "$url" "$token" 13329 "Renamed from Python"

echo
echo "== the mock saw: $("$python" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/__mock/stats").read().decode())' "$url")"
echo "== stopping ycm-mock"
