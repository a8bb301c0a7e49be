"""Bulk sync end to end against ycm-mock: ``ycm.read_records``, ``Client.plan_sync``,
``Client.apply_sync`` and their typed results.

The mock seeds 120 users (13329, 13330, 13331 and 20001..20117). PUTs are counted per user
from ``mock.log()`` (a request is logged once the mock has processed it). Subprocess tests
(SIGKILL, SIGINT) run a small script against the mock and rerun the job in this process
with the same journal; their only time limits are generous hang guards.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

import ycm
import ycm.aio
from conftest import CTRL_C_AS_IN_A_TERMINAL, TOKEN, Mock, read_first_line


def puts(mock: Mock) -> Counter[int]:
    """PUTs the mock processed, per user id."""
    counts: Counter[int] = Counter()
    for entry in mock.log():
        if entry["method"] == "PUT":
            counts[int(entry["path"].rsplit("/", 1)[1].split("?")[0])] += 1
    return counts


def client_for(mock: Mock, token: str = TOKEN) -> ycm.Client:
    return ycm.Client(mock.url, token, allow_insecure_http=True, max_retries=3)


def mixed_csv(mock: Mock) -> str:
    """30 users (every third changed, the rest as they are), a limit that differs, an
    unknown user and an invalid record."""
    lines = ["userId,company,remark,pbxCreationLimit"]
    for uid in range(20001, 20031):
        company = f"Synced {uid}" if uid % 3 == 0 else mock.user(uid)["company"]
        lines.append(f"{uid},{company},,")
    lines.append("13329,,,unlimited")  # the mock returns its limit, 10: an update
    lines.append("99999,Nobody,,")  # unknown user
    lines.append("13330,,,0")  # invalid: a limit must be >= 1
    return "\n".join(lines) + "\n"


def test_read_records_types_every_record(tmp_path: Path, mock: Mock) -> None:
    path = tmp_path / "users.csv"
    path.write_text(mixed_csv(mock), encoding="utf-8")
    records = ycm.read_records(path)
    assert isinstance(records, ycm.Records)
    assert records.format == "csv" and len(records.input_hash) == 64
    assert len(records) == 33
    first = records.records[0]
    assert (first.row, first.user_id, first.error) == (2, 20001, None)
    assert dict(first.fields) == {"company": "Synced 20001"}  # 20001 % 3 == 0
    assert dict(records.records[1].fields) == {"company": mock.user(20002)["company"]}
    (bad,) = records.errors
    assert bad.user_id == 13330 and bad.error is not None
    assert bad.error.column == "pbxCreationLimit"
    assert records.records[30].fields["pbxCreationLimit"] == ""

    jsonl = tmp_path / "users.ndjson"
    jsonl.write_text('{"userId": 13329, "remark": ""}\n{"userId": \n', encoding="utf-8")
    parsed = ycm.read_records(str(jsonl))
    assert parsed.format == "jsonl"
    assert parsed.records[0].fields == {"remark": ""} and parsed.records[0].error is None
    broken = parsed.records[1]
    assert broken.row == 2 and broken.error is not None, "one bad line is that record's error"


@pytest.mark.parametrize(
    "name,content,expected",
    [
        ("no-id.csv", "company\nACME\n", "userId"),
        ("unknown.csv", "userId,colour\n13329,red\n", "colour"),
        ("users.txt", "userId\n13329\n", ".csv or .jsonl"),
        ("users.json", '{"userId": 13329, "remark": ""}\n', "one JSON document"),
        ("missing.csv", None, "cannot be read"),
    ],
)
def test_an_unusable_input_raises_invalid_argument(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ycm.InvalidArgumentError) as info:
        ycm.read_records(path)
    assert expected in info.value.message and name in info.value.message
    assert info.value.attempts == 0


def test_an_input_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"userId,company\n13329,Caf\xe9\n")
    with pytest.raises(ValueError, match="UTF-8"):
        ycm.read_records(path)


def test_plan_and_apply_make_the_state_match_and_skip_the_unchanged(
    tmp_path: Path, mock: Mock
) -> None:
    path = tmp_path / "users.csv"
    path.write_text(mixed_csv(mock), encoding="utf-8")
    with client_for(mock) as client:
        plan = client.plan_sync(ycm.read_records(path))
        assert isinstance(plan, ycm.SyncPlan)
        assert plan.counts[ycm.Action.UPDATE] == 11
        assert plan.counts["unchanged"] == 20
        assert plan.counts[ycm.Action.UNKNOWN_USER] == 1
        assert plan.counts[ycm.Action.INVALID] == 1
        by_user = {item.user_id: item for item in plan.items}
        changed = by_user[20004]  # every third user
        assert changed.action is ycm.Action.UPDATE
        assert changed.changes == {
            "company": (mock.user(20004)["company"], "Synced 20004")
        }
        assert by_user[20005].action is ycm.Action.UNCHANGED and not by_user[20005].changes
        limit = by_user[13329]
        # The mock returns the limit (10), so it is compared, not sent blind.
        assert "pbxCreationLimit" not in limit.not_compared
        assert limit.changes["pbxCreationLimit"] == (10, "")
        invalid = by_user[13330]
        assert invalid.action is ycm.Action.INVALID
        assert invalid.error is not None and "pbxCreationLimit" in invalid.error
        assert by_user[99999].action is ycm.Action.UNKNOWN_USER
        assert puts(mock) == Counter(), "planning sends nothing"

        events: List[ycm.ProgressEvent] = []
        report = client.apply_sync(plan, on_progress=events.append)
    assert isinstance(report, ycm.SyncReport)
    assert report.stopped is None
    assert report.counts[ycm.Outcome.UPDATED] == 11, report.to_json()
    assert report.counts["unchanged"] == 20
    assert report.counts[ycm.Outcome.UNKNOWN_USER] == 1
    assert report.counts[ycm.Outcome.INVALID] == 1
    assert [r.row for r in report.items] == list(range(2, 35))
    done = [e for e in events if e.kind is ycm.ProgressKind.DONE]
    assert events[0].kind is ycm.ProgressKind.STARTED
    assert events[0].total == 11 and events[0].records == 33
    assert len(done) == 11 and done[-1].done == 11
    assert all(e.result is not None and e.result.outcome is ycm.Outcome.UPDATED for e in done)
    updated = next(r for r in report.items if r.user_id == 20004)
    assert updated.code is ycm.Code.OK and updated.request_id and updated.attempts >= 1
    assert updated.changed == ("company",)

    sent = puts(mock)
    for uid in range(20001, 20031):
        assert sent[uid] == (1 if uid % 3 == 0 else 0), uid
        if uid % 3 == 0:
            assert mock.user(uid)["company"] == f"Synced {uid}"
    assert sent[13330] == 0 and sent[99999] == 0, "invalid and unknown: untouched"
    assert mock.user(13329)["pbxCreationLimit"] == ""
    assert json.loads(report.to_json())["counts"]["updated"] == 11


def test_records_as_mappings_and_a_saved_plan(mock: Mock) -> None:
    desired = [{"userId": 20001, "company": "Planned A"}, {"userId": 20002, "company": "Planned B"}]
    with client_for(mock) as client:
        saved = client.plan_sync(desired).to_json()
        client.update_user(20002, company="Changed elsewhere")
        plan = ycm.SyncPlan.from_json(saved)
        assert [i.action for i in plan.items] == [ycm.Action.UPDATE, ycm.Action.UPDATE]
        assert plan.input_format == "jsonl"
        report = client.apply_sync(plan)
    assert [r.outcome for r in report.items] == [ycm.Outcome.UPDATED, ycm.Outcome.CONFLICT]
    assert mock.user(20001)["company"] == "Planned A"
    assert mock.user(20002)["company"] == "Changed elsewhere"
    with pytest.raises(ycm.InvalidArgumentError):
        ycm.SyncPlan.from_json('{"items": []}')


def test_apply_plans_records_first_and_checks_options(mock: Mock) -> None:
    with client_for(mock) as client:
        with pytest.raises(ycm.InvalidArgumentError, match="concurrency"):
            client.apply_sync([{"userId": 20001, "remark": "x"}], concurrency=0)
        with pytest.raises(ycm.InvalidArgumentError, match="burst"):
            client.apply_sync([{"userId": 20001, "remark": "x"}], burst=3)
        with pytest.raises(TypeError):
            client.apply_sync([{"userId": 20001, "remark": "x"}], on_progress=42)  # type: ignore[arg-type]
        assert puts(mock) == Counter()
        report = client.apply_sync(
            [{"userId": 20001, "remark": "direct"}], rate=100, interval_s=1, burst=10
        )
    assert report.counts[ycm.Outcome.UPDATED] == 1
    assert mock.user(20001)["remark"] == "direct"


def test_an_exception_in_on_progress_aborts_the_run_and_keeps_the_report(mock: Mock) -> None:
    desired = [{"userId": uid, "remark": f"abort {uid}"} for uid in range(20001, 20041)]
    mock.faults(latency_ms=20)

    class Stop(Exception):
        pass

    seen: List[int] = []

    def on_progress(event: ycm.ProgressEvent) -> None:
        if event.kind is ycm.ProgressKind.DONE:
            seen.append(event.done)
            if event.done == 5:
                raise Stop("enough")

    with client_for(mock) as client:
        with pytest.raises(Stop) as info:
            client.apply_sync(desired, concurrency=2, on_progress=on_progress)
    report = ycm.report_of(info.value)
    assert report is not None and report is getattr(info.value, "ycm_report")
    assert report.stopped is ycm.StopReason.ABORTED
    assert seen[:5] == [1, 2, 3, 4, 5] and len(seen) == 5, "no callback after the exception"
    updated = report.counts[ycm.Outcome.UPDATED]
    # The calls in flight (and those whose events were still queued) ended and were recorded.
    assert 5 <= updated < 20, report.counts
    assert report.counts[ycm.Outcome.NOT_ATTEMPTED] == 40 - updated
    sent = puts(mock)
    assert sum(sent.values()) == updated, "what the report says was sent, and nothing more"
    for result in report.items:
        assert sent[result.user_id or 0] == (1 if result.outcome is ycm.Outcome.UPDATED else 0)


def test_a_429_storm_completes(mock: Mock) -> None:
    desired = [{"userId": uid, "remark": "storm"} for uid in range(20001, 20013)]
    with client_for(mock) as client:
        plan = client.plan_sync(desired)
        mock.faults(fail_next=4, fail_status=429, retry_after="1")
        report = client.apply_sync(plan)
    assert report.stopped is None
    assert report.throttled >= 1
    assert report.counts[ycm.Outcome.UPDATED] == 12, report.to_json()
    assert all(mock.user(uid)["remark"] == "storm" for uid in range(20001, 20013))


def test_a_revoked_token_stops_the_run(mock: Mock) -> None:
    desired = [{"userId": uid, "remark": "refused"} for uid in range(20001, 20031)]
    with client_for(mock) as good:
        plan = good.plan_sync(desired)
    with client_for(mock, "revoked-token") as revoked:
        report = revoked.apply_sync(plan, concurrency=2)
    assert report.stopped is ycm.StopReason.CREDENTIALS_REFUSED
    assert report.counts[ycm.Outcome.FAILED] <= 2, report.counts
    assert report.counts[ycm.Outcome.NOT_ATTEMPTED] >= 28
    failed = [r for r in report.items if r.outcome is ycm.Outcome.FAILED]
    assert failed and all(r.code is ycm.Code.UNAUTHORIZED for r in failed)
    assert mock.stats()["unauthorized"] <= 2
    assert all(mock.user(uid)["remark"] != "refused" for uid in range(20001, 20031))


def test_the_report_carries_the_runs_summary_typed(mock: Mock) -> None:
    desired = [{"userId": uid, "remark": f"summary {uid}"} for uid in range(20001, 20004)]
    before = mock.requests()
    with client_for(mock) as client:
        report = client.apply_sync(client.plan_sync(desired))
    summary = report.summary
    assert isinstance(summary, ycm.SyncSummary)
    assert summary.counts[ycm.Outcome.UPDATED] == 3
    assert summary.counts["conflict"] == 0, "every outcome, zeros too"
    assert summary.records == 3
    # The plan's reads and the updates: every request the server saw.
    assert summary.requests == mock.requests() - before
    assert summary.requests == 6
    assert summary.token_grants == 0 and summary.throttled == 0
    assert summary.stopped is None and summary.error is None
    assert summary.exit_code is None, "a library run is no command"
    assert isinstance(summary.duration_s, float) and summary.duration_s > 0
    assert summary.rate_per_s > 0
    assert summary.finished_at.tzinfo is timezone.utc
    assert summary.finished_timestamp == int(summary.finished_at.timestamp())
    assert json.loads(report.to_json())["summary"]["requests"] == summary.requests


def test_async_client_plans_and_applies(mock: Mock) -> None:
    desired = [{"userId": uid, "remark": f"async {uid}"} for uid in range(20001, 20011)]

    async def main() -> ycm.SyncReport:
        async with ycm.aio.AsyncClient(mock.url, TOKEN, allow_insecure_http=True) as client:
            plan = await client.plan_sync(desired)
            assert plan.counts[ycm.Action.UPDATE] == 10
            return await client.apply_sync(plan, concurrency=3)

    report = asyncio.run(main())
    assert report.counts[ycm.Outcome.UPDATED] == 10
    assert all(mock.user(uid)["remark"] == f"async {uid}" for uid in range(20001, 20011))


def test_cancelling_an_async_apply_waits_for_the_run_to_stop(mock: Mock) -> None:
    desired = [{"userId": uid, "remark": f"cancel {uid}"} for uid in range(20001, 20041)]
    mock.faults(latency_ms=100)

    async def main() -> None:
        async with ycm.aio.AsyncClient(mock.url, TOKEN, allow_insecure_http=True) as client:
            plan = await client.plan_sync(desired)
            started = asyncio.get_running_loop().create_future()

            def mark_started() -> None:
                if not started.done():
                    started.set_result(None)

            def on_progress(event: ycm.ProgressEvent) -> None:
                if event.kind is ycm.ProgressKind.DONE and event.done == 2:
                    started.get_loop().call_soon_threadsafe(mark_started)

            task = asyncio.ensure_future(
                client.apply_sync(plan, concurrency=2, on_progress=on_progress)
            )
            await asyncio.wait_for(started, 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The run has stopped: nothing more is sent once the task has ended.
            count = sum(puts(mock).values())
            await asyncio.sleep(0.5)
            assert sum(puts(mock).values()) == count
            assert 2 <= count < 40

    asyncio.run(main())


# --- runs stopped from outside, resumed with their journal ---------------------------------

CHILD = CTRL_C_AS_IN_A_TERMINAL + """
import json, sys, time
import ycm

url, token, journal = sys.argv[1:4]
desired = [{"userId": uid, "remark": "resumed %d" % uid} for uid in range(20001, 20041)]

def on_progress(event):
    if event.kind is ycm.ProgressKind.DONE:
        print(json.dumps({"done": event.done, "at": time.monotonic()}), flush=True)

client = ycm.Client(url, token, allow_insecure_http=True)
print("ready", flush=True)
try:
    report = client.apply_sync(desired, concurrency=2, journal=journal, on_progress=on_progress)
    print(json.dumps({"finished": dict(report.counts)}), flush=True)
except KeyboardInterrupt as exc:
    report = ycm.report_of(exc)
    print(json.dumps({
        "interrupted": time.monotonic(),
        "stopped": None if report is None or report.stopped is None else report.stopped.value,
        "counts": None if report is None else dict(report.counts),
    }), flush=True)
"""


def start_child(mock: Mock, journal: Path) -> "subprocess.Popen[bytes]":
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), mock.url, TOKEN, str(journal)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def rerun_and_check(mock: Mock, journal: Path) -> None:
    """The same job rerun with the same journal finishes it; no user got two PUTs."""
    desired = [{"userId": uid, "remark": f"resumed {uid}"} for uid in range(20001, 20041)]
    mock.faults(latency_ms=0)
    with client_for(mock) as client:
        report = client.apply_sync(desired, concurrency=2, journal=journal)
    assert report.stopped is None
    assert report.counts[ycm.Outcome.UPDATED] + report.counts[ycm.Outcome.UNCHANGED] == 40
    sent = puts(mock)
    for uid in range(20001, 20041):
        assert sent[uid] == 1, f"user {uid}: {sent[uid]} PUTs"
        assert mock.user(uid)["remark"] == f"resumed {uid}"


def test_a_run_killed_mid_way_and_rerun_with_its_journal_sends_nothing_twice(
    tmp_path: Path, mock: Mock
) -> None:
    journal = tmp_path / "sync.journal"
    mock.faults(latency_ms=30)
    child = start_child(mock, journal)
    try:
        assert read_first_line(child, timeout=30, name="child") == "ready"
        while True:
            line = json.loads(read_first_line(child, timeout=30, name="child"))
            if line.get("done", 0) >= 8:
                break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert 8 <= sum(puts(mock).values()) < 40, "killed mid-way"
    assert journal.exists()
    rerun_and_check(mock, journal)


def test_a_journal_of_another_input_is_refused_and_nothing_is_sent(
    tmp_path: Path, mock: Mock
) -> None:
    # Its "done" rows were checked against what YCM held then: skipping by them would
    # leave a user changed since then as it is.
    journal = tmp_path / "sync.journal"
    with client_for(mock) as client:
        client.apply_sync([{"userId": 20001, "remark": "first"}], journal=journal)
        assert puts(mock)[20001] == 1
        started = journal.read_bytes()
        with pytest.raises(ycm.InvalidArgumentError, match="belongs to a run over another input"):
            client.apply_sync([{"userId": 20002, "remark": "second"}], journal=journal)
    assert sum(puts(mock).values()) == 1
    assert journal.read_bytes() == started


def test_ctrl_c_stops_the_run_with_keyboard_interrupt_and_keeps_the_journal(
    tmp_path: Path, mock: Mock
) -> None:
    journal = tmp_path / "sync.journal"
    mock.faults(latency_ms=300)
    child = start_child(mock, journal)
    try:
        assert read_first_line(child, timeout=30, name="child") == "ready"
        last_done: Dict[str, Any] = {}
        while last_done.get("done", 0) < 3:
            last_done = json.loads(read_first_line(child, timeout=30, name="child"))
        child.send_signal(signal.SIGINT)
        outcome: Dict[str, Any] = {}
        while "interrupted" not in outcome and "finished" not in outcome:
            outcome = json.loads(read_first_line(child, timeout=30, name="child"))
            if "done" in outcome:
                last_done = outcome
        assert child.wait(timeout=30) == 0, child.stderr.read() if child.stderr else ""
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "interrupted" in outcome, outcome
    # Hang guard only: the calls in flight end (300 ms each), then the run stops at once.
    delay = outcome["interrupted"] - last_done["at"]
    print(f"KeyboardInterrupt {delay * 1000:.0f} ms after the last update ended")
    assert delay < 5.0
    assert outcome["stopped"] in ("cancelled", "aborted"), outcome
    counts = outcome["counts"]
    assert counts["not_attempted"] > 0 and counts["updated"] >= 3, counts
    assert sum(puts(mock).values()) == counts["updated"]
    rerun_and_check(mock, journal)
