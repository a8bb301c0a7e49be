"""Makes YCM's users match a records file (CSV or JSONL): plans, shows the plan, applies it
with a journal (rerun the same command after a crash or Ctrl-C to finish the job).

Usage: python sync_users.py BASE_URL ACCESS_TOKEN RECORDS_FILE [JOURNAL]

Against ycm-mock: printf 'userId,company\\n20001,ACME\\n' > users.csv &&
python sync_users.py http://127.0.0.1:PORT ycm-mock-token users.csv users.journal
"""

from __future__ import annotations

import sys
from typing import Optional

import ycm

USAGE = "usage: python sync_users.py BASE_URL ACCESS_TOKEN RECORDS_FILE [JOURNAL]"


def show(event: ycm.ProgressEvent) -> None:
    if event.kind is ycm.ProgressKind.DONE and event.result is not None:
        print(f"  [{event.done}/{event.total}] user {event.result.user_id}: {event.result.outcome}")
    elif event.kind is ycm.ProgressKind.STOPPING:
        print(f"  stopping: {event.reason}")


def main(argv: list[str]) -> int:
    if len(argv) not in (4, 5):
        print(USAGE, file=sys.stderr)
        return 2
    base_url, token, path = argv[1], argv[2], argv[3]
    journal: Optional[str] = argv[4] if len(argv) == 5 else None
    try:
        records = ycm.read_records(path)
        for bad in records.errors:
            assert bad.error is not None
            where = f" column {bad.error.column}" if bad.error.column else ""
            print(f"row {bad.row}{where}: {bad.error.message}")
        with ycm.Client(base_url, token) as client:
            plan = client.plan_sync(records)
            print("plan:", ", ".join(f"{action} {n}" for action, n in plan.counts.items()))
            report = client.apply_sync(plan, journal=journal, on_progress=show)
    except KeyboardInterrupt as exc:
        stopped = ycm.report_of(exc)
        if stopped is not None:
            print("interrupted:", dict(stopped.counts), file=sys.stderr)
        return 130
    except ycm.YcmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("report:", ", ".join(f"{outcome} {n}" for outcome, n in report.counts.items()))
    for result in report.failed:
        print(f"  row {result.row} user {result.user_id}: {result.outcome} {result.message}")
    return 0 if report.stopped is None and not report.failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
