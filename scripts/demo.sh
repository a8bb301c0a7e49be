#!/usr/bin/env bash
# The demo: start ycm-mock on a free loopback port, update user 13329's company from C and
# from Python, then with the ycm command line (read, update, a small sync plan and apply),
# show what the mock saw, then stop the mock.
# `make demo` builds everything first; run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

mock_bin=target/release/ycm-mock
c_example=bindings/c/build/update_user
py_example=bindings/python/examples/update_user.py
python=${VENV:-.venv}/bin/python
ycm_bin=${CLI_BIN:-target/release/ycm}
token=ycm-mock-token

for f in "$mock_bin" "$c_example" "$ycm_bin"; do
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
echo "== the ycm command line: settings from the environment (never a secret as a flag)"
export YCM_BASE_URL=$url YCM_ACCESS_TOKEN=$token
# No settings file of the user's is read: the demo's own, empty, settings directory.
export XDG_CONFIG_HOME=$mock_dir/config
echo "\$ ycm users get 13329 --output table"
"$ycm_bin" users get 13329 --output table
echo
echo "\$ ycm users update 13329 --company \"Renamed from the CLI\" --remark \"via ycm\""
"$ycm_bin" users update 13329 --company "Renamed from the CLI" --remark "via ycm"
echo
records=$mock_dir/records.csv
printf 'userId,company,remark\n13329,Renamed from the CLI,\n13330,Synced Ltd,\n13331,,nightly sync\n99999,Nobody,\n' >"$records"
echo "\$ cat records.csv"
sed 's/^/    /' "$records"
echo "\$ ycm sync plan records.csv --output table"
"$ycm_bin" sync plan "$records" --output table || true   # exits 3: user 99999 is unknown
echo
echo "\$ ycm sync apply records.csv --yes --journal records.journal --output table"
"$ycm_bin" sync apply "$records" --yes --journal "$mock_dir/records.journal" --output table || true
echo
echo "\$ ycm sync plan records.csv --detailed-exitcode   # 2: updates pending; 0: none; 3: records to look at"
"$ycm_bin" sync plan "$records" --output table --quiet --detailed-exitcode >/dev/null || echo "    (exit $?: the unknown user remains)"

echo
echo "== the mock saw: $("$python" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/__mock/stats").read().decode())' "$url")"
echo "== stopping ycm-mock"
