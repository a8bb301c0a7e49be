#!/usr/bin/env bash
# The demo: start ycm-mock on a free loopback port, update user 13329's company from C and
# from Python, show what the mock saw, then stop the mock.
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

# shellcheck source=mock.sh
source scripts/mock.sh
start_mock "$mock_bin" --access-token "$token"
url=$mock_url

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
