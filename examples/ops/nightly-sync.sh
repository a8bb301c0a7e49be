#!/usr/bin/env bash
# nightly-sync.sh RECORDS.csv STATE_DIR: the nightly job of the cookbook (cron, systemd
# timer, Kubernetes CronJob): make YCM's users match RECORDS.csv, resumably, and leave a
# report, the failed rows, a JSON summary and Prometheus metrics in STATE_DIR.
# Settings come from the environment or the ycm profile (never a secret as a flag).
# Exit status: ycm's (0 done, 3 some records to look at, 4 credentials refused, 5 stopped by
# the rate or retry budget: the next run resumes from the journal; 143 after SIGTERM, once
# the report and summary are written). `make docs-examples` runs it against ycm-mock.
set -euo pipefail
records=$1 state=$2
ycm=${YCM_BIN:-ycm}

# ANCHOR: run
mkdir -p "$state/journals"
# exec: ycm itself receives SIGTERM from systemd/Kubernetes and stops gracefully
# (calls in flight end, report, failed rows and summary written, journal intact).
exec "$ycm" sync apply "$records" --yes \
  --journal-dir "$state/journals" \
  --report "$state/report.csv" \
  --failed-out "$state/failed.csv" \
  --summary "$state/summary.json" \
  --metrics "$state/ycm_sync.prom" \
  --stop-grace 20 \
  --output json
# ANCHOR_END: run
