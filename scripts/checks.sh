# Sourced by the check scripts (scripts/deb-test.sh, scripts/dist-cross-test.sh): counts
# and reports named checks. Set `checks_name` (what section and summary lines start with)
# and `work` (a directory for the checks' logs) first; CHECK_LOG_LINES (default 40) is how
# much of a failed check's output is shown. `checks_summary`, last, prints the counts and
# fails when any check failed.
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
# check NAME CMD...: runs CMD with its output in a log, shown on failure.
check() {
  local name=$1 log
  shift
  log="$work/log.$((passed + failed))"
  if "$@" >"$log" 2>&1; then ok "$name"; else bad "$name"; sed 's/^/     | /' "$log" | tail -n "${CHECK_LOG_LINES:-40}"; fi
}
section() { echo "== $checks_name: $*"; }
checks_summary() {
  echo "$checks_name: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
