"""Scheduling: WHEN parsing (DST included), due / late / too late / cancelled, leases."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fakes import FakePublisher, FakeServer, make_thread
from threadpost.clock import FrozenClock
from threadpost.config import Settings
from threadpost.errors import ExitStatus, UsageError
from threadpost.platforms.base import Publisher
from threadpost.retry import RetryPolicy
from threadpost.schedule import parse_when, resolve_schedule, run_due
from threadpost.store import Ledger, open_ledger
from threadpost.values import PlatformName

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # 13:00 in Paris
POLICY = RetryPolicy(attempts=2).without_sleep()
REPO = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(
        config_path=None,
        db_path=tmp_path / "ledger.db",
        state_dir=tmp_path,
        timezone=PARIS,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T09:00:00+01:00", datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
        ("2026-03-02T08:00:00Z", datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
        ("2026-03-02 09:00", datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
        ("2026-07-02 09:00", datetime(2026, 7, 2, 7, 0, tzinfo=UTC)),  # summer time
        ("+30m", NOW + timedelta(minutes=30)),
        ("+2h", NOW + timedelta(hours=2)),
        ("+1d", NOW + timedelta(days=1)),
        ("today 18:00", datetime(2026, 3, 1, 17, 0, tzinfo=UTC)),
        ("tomorrow 09:00", datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW, tz=PARIS) == expected


def test_dst_change_keeps_the_wall_clock_time() -> None:
    # 28 March 2026 12:00 Paris (CET); clocks go forward on the 29th at 02:00.
    before = datetime(2026, 3, 28, 11, 0, tzinfo=UTC)
    assert parse_when("tomorrow 09:00", now=before, tz=PARIS) == datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC
    )
    assert parse_when("+1d", now=before, tz=PARIS) == datetime(2026, 3, 29, 10, 0, tzinfo=UTC)
    assert parse_when("+24h", now=before, tz=PARIS) == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)


def test_a_time_skipped_by_dst_is_refused() -> None:
    before = datetime(2026, 3, 28, 11, 0, tzinfo=UTC)
    with pytest.raises(UsageError, match="does not exist in Europe/Paris"):
        parse_when("2026-03-29 02:30", now=before, tz=PARIS)


def test_an_ambiguous_time_means_the_first_one() -> None:
    before = datetime(2026, 10, 24, 11, 0, tzinfo=UTC)
    # 25 October 02:30 happens twice; the first is still summer time (UTC+2).
    assert parse_when("2026-10-25 02:30", now=before, tz=PARIS) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


@pytest.mark.parametrize("text", ["2026-02-28 09:00", "today 08:00", "2020-01-01T00:00:00Z"])
def test_the_past_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="in the past"):
        parse_when(text, now=NOW, tz=PARIS)


@pytest.mark.parametrize("text", ["next week", "2026-02-30 09:00", "tomorrow 25:00", "+2y"])
def test_unreadable_times_are_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_when(text, now=NOW, tz=PARIS)


@pytest.mark.parametrize(
    "text", ["+99999999d", "+999999999999999999999m", "+9999999999h", "9999-12-31T23:00Z"]
)
def test_a_time_past_the_calendar_is_a_usage_error(text: str) -> None:
    """These escaped as OverflowError (an "unexpected" crash) instead of exit 2."""
    with pytest.raises(UsageError, match="too far in the future"):
        parse_when(text, now=NOW, tz=PARIS)


def test_naive_front_matter_schedule_is_read_in_the_configured_zone() -> None:
    assert resolve_schedule(datetime(2026, 7, 1, 9, 0), PARIS) == datetime(
        2026, 7, 1, 7, 0, tzinfo=UTC
    )


# -- run ------------------------------------------------------------------------------------


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(tmp_path / "ledger.db") as opened:
        yield opened


def _schedule(ledger: Ledger, at: datetime, n: int = 3) -> str:
    return ledger.create_thread(
        # A draft of its own: the ledger allows one unfinished thread per draft.
        draft_path=f"/d{len(ledger.threads())}.md",
        content_hash="h",
        title=None,
        plans={"mastodon": make_thread("mastodon", n)},
        schedule_at=at,
        state="scheduled",
        now=NOW - timedelta(days=2),
    )


def _opener(fake: FakePublisher):  # type: ignore[no-untyped-def]
    def open_publisher(platform: PlatformName) -> Publisher:
        return fake

    return open_publisher


def test_run_publishes_due_threads_only(ledger: Ledger, tmp_path: Path) -> None:
    due = _schedule(ledger, NOW - timedelta(minutes=1))
    later = _schedule(ledger, NOW + timedelta(minutes=1))
    server = FakeServer()
    clock = FrozenClock(NOW)
    report = run_due(
        ledger,
        _settings(tmp_path),
        _opener(FakePublisher("mastodon", server)),
        clock=clock,
        policy=POLICY,
    )
    assert [(i.thread_id, i.action, i.warning) for i in report.items] == [(due, "published", None)]
    assert report.exit_status == ExitStatus.OK
    assert (report.waiting, report.next_due) == (1, NOW + timedelta(minutes=1))
    assert ledger.thread(later).state == "scheduled"
    clock.advance(minutes=1)
    report = run_due(
        ledger,
        _settings(tmp_path),
        _opener(FakePublisher("mastodon", server)),
        clock=clock,
        policy=POLICY,
    )
    assert [i.thread_id for i in report.items] == [later]
    assert len(server.posts()) == 6


def test_late_within_max_lateness_publishes_with_a_warning(ledger: Ledger, tmp_path: Path) -> None:
    thread_id = _schedule(ledger, NOW - timedelta(hours=3))
    report = run_due(
        ledger,
        _settings(tmp_path, max_lateness=timedelta(hours=24)),
        _opener(FakePublisher("mastodon", FakeServer())),
        clock=FrozenClock(NOW),
        policy=POLICY,
    )
    item = report.items[0]
    assert (item.thread_id, item.action) == (thread_id, "published")
    assert item.warning is not None
    assert "3 h late" in item.warning


def test_too_late_is_skipped_with_a_message(ledger: Ledger, tmp_path: Path) -> None:
    thread_id = _schedule(ledger, NOW - timedelta(hours=30))
    server = FakeServer()
    report = run_due(
        ledger,
        _settings(tmp_path, max_lateness=timedelta(hours=24)),
        _opener(FakePublisher("mastodon", server)),
        clock=FrozenClock(NOW),
        policy=POLICY,
    )
    item = report.items[0]
    assert item.action == "skipped"
    assert "more than max_lateness" in (item.message or "")
    assert ledger.thread(thread_id).state == "skipped"
    assert server.posts() == []
    assert report.exit_status == ExitStatus.OK


def test_cancelled_threads_are_not_published(ledger: Ledger, tmp_path: Path) -> None:
    thread_id = _schedule(ledger, NOW - timedelta(minutes=1))
    ledger.set_thread_state(thread_id, "cancelled", NOW)
    server = FakeServer()
    fake = FakePublisher("mastodon", server)
    report = run_due(
        ledger,
        _settings(tmp_path),
        _opener(fake),
        clock=FrozenClock(NOW),
        policy=POLICY,
    )
    assert report.items == ()
    assert server.posts() == []
    assert not any(call == "send" for call, _ in fake.calls)
    assert ledger.thread(thread_id).state == "cancelled"


def test_dst_scheduled_thread_is_due_at_the_right_instant(ledger: Ledger, tmp_path: Path) -> None:
    before = datetime(2026, 3, 28, 11, 0, tzinfo=UTC)
    at = parse_when("tomorrow 09:00", now=before, tz=PARIS)  # 07:00 UTC, after the change
    thread_id = _schedule(ledger, at)
    fake = FakePublisher("mastodon", FakeServer())
    settings = _settings(tmp_path)
    clock = FrozenClock(datetime(2026, 3, 29, 6, 59, tzinfo=UTC))  # 08:59 CEST
    assert run_due(ledger, settings, _opener(fake), clock=clock, policy=POLICY).items == ()
    clock.advance(minutes=1)
    items = run_due(ledger, settings, _opener(fake), clock=clock, policy=POLICY).items
    assert [(i.thread_id, i.action) for i in items] == [(thread_id, "published")]


def test_failures_back_off_between_runs_then_give_up(ledger: Ledger, tmp_path: Path) -> None:
    thread_id = _schedule(ledger, NOW)
    settings = _settings(tmp_path, max_attempts=2)
    clock = FrozenClock(NOW)
    fake = FakePublisher("mastodon", FakeServer()).fail_at(2, "transient", times=999)
    report = run_due(ledger, settings, _opener(fake), clock=clock, policy=POLICY)
    assert report.items[0].action == "incomplete"
    assert report.exit_status == ExitStatus.PUBLISH_INCOMPLETE
    # Not yet time to retry.
    assert run_due(ledger, settings, _opener(fake), clock=clock, policy=POLICY).items == ()
    clock.advance(minutes=2)
    report = run_due(ledger, settings, _opener(fake), clock=clock, policy=POLICY)
    assert report.items[0].action == "failed"
    assert ledger.thread(thread_id).state == "failed"


def test_run_closes_the_publishers_it_opened_when_it_ends(ledger: Ledger, tmp_path: Path) -> None:
    _schedule(ledger, NOW)
    _schedule(ledger, NOW)
    fake = FakePublisher("mastodon", FakeServer())
    opened: list[str] = []

    def open_publisher(platform: PlatformName) -> Publisher:
        assert not fake.closed, "closed while the run still needed it"
        opened.append(platform)
        return fake

    report = run_due(
        ledger, _settings(tmp_path), open_publisher, clock=FrozenClock(NOW), policy=POLICY
    )
    assert [i.action for i in report.items] == ["published", "published"]
    assert opened == ["mastodon"], "one login for the whole run"
    assert fake.closed


def test_a_thread_left_scheduled_with_no_time_is_due_at_once(
    ledger: Ledger, tmp_path: Path
) -> None:
    """`publish` freezes a thread "scheduled, no time" and claims it; killed (or out of disk)
    right then, the thread was never due again: "1 waiting, next at now" forever."""
    thread_id = _schedule(ledger, NOW)
    ledger.set_schedule(thread_id, None, NOW)
    fake = FakePublisher("mastodon", FakeServer())
    report = run_due(
        ledger, _settings(tmp_path), _opener(fake), clock=FrozenClock(NOW), policy=POLICY
    )
    assert [(i.thread_id, i.action) for i in report.items] == [(thread_id, "published")]
    assert ledger.next_due() == (0, None)


def test_one_threads_unexpected_errors_do_not_stop_the_run(ledger: Ledger, tmp_path: Path) -> None:
    """A RuntimeError from an adapter, or an unreadable frozen plan, escaped `run`: it
    exited 1 every tick and the threads after it stayed scheduled forever."""
    broken_adapter = _schedule(ledger, NOW - timedelta(minutes=3))
    broken_plan = _schedule(ledger, NOW - timedelta(minutes=2))
    healthy = _schedule(ledger, NOW - timedelta(minutes=1))
    ledger.conn.execute("UPDATE platforms SET plan = '{' WHERE thread_id = ?", (broken_plan,))
    server = FakeServer()
    fake = FakePublisher("mastodon", server)

    def sending(thread_id: str) -> bool:
        return any(p.state == "sending" for p in ledger.posts(thread_id, "mastodon"))

    def before_post(index: int) -> None:
        # Only while the broken adapter's thread is being sent. Its post stays "sending"
        # afterwards (in doubt until the next pass looks it up), so the healthy thread's own
        # "sending" post tells the two apart whichever order the run takes them in.
        if sending(broken_adapter) and not sending(healthy):
            raise RuntimeError("DecompressionBombError: 225000000 pixels")

    fake.before_post = before_post
    report = run_due(
        ledger, _settings(tmp_path), _opener(fake), clock=FrozenClock(NOW), policy=POLICY
    )
    by_id = {item.thread_id: item for item in report.items}
    assert set(by_id) == {broken_adapter, broken_plan, healthy}
    assert by_id[broken_adapter].action == "incomplete"
    assert "RuntimeError: DecompressionBombError" in (by_id[broken_adapter].message or "")
    assert by_id[broken_plan].action == "failed"
    assert "frozen plan" in (ledger.thread(broken_plan).last_error or "")
    assert by_id[healthy].action == "published"
    assert ledger.thread(healthy).state == "published"


def test_a_thread_leased_by_another_run_is_left_alone(ledger: Ledger, tmp_path: Path) -> None:
    thread_id = _schedule(ledger, NOW)
    ledger.claim_lease(f"thread:{thread_id}", "other", until=NOW + timedelta(minutes=5), now=NOW)
    fake = FakePublisher("mastodon", FakeServer())
    report = run_due(
        ledger, _settings(tmp_path), _opener(fake), clock=FrozenClock(NOW), policy=POLICY
    )
    assert [i.action for i in report.items] == ["busy"]
    # A crashed run's lease expires and is taken over.
    later = FrozenClock(NOW + timedelta(minutes=6))
    report = run_due(ledger, _settings(tmp_path), _opener(fake), clock=later, policy=POLICY)
    assert [i.action for i in report.items] == ["published"]


_WORKER = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    from zoneinfo import ZoneInfo
    from fakes import FakePublisher, FakeServer
    from threadpost.config import Settings
    from threadpost.retry import RetryPolicy
    from threadpost.schedule import run_due
    from threadpost.store import open_ledger

    db, network = Path(sys.argv[1]), sys.argv[2]
    settings = Settings(config_path=None, db_path=db, state_dir=db.parent,
                        timezone=ZoneInfo("UTC"))
    server = FakeServer(network)
    publishers = {}
    def open_publisher(platform):
        return publishers.setdefault(platform, FakePublisher(platform, server, delay=0.02))
    # A barrier (bounded): every worker is started before any runs, so they really overlap.
    barrier, workers = Path(sys.argv[3]), int(sys.argv[4])
    (barrier / f"ready-{sys.argv[5]}").touch()
    deadline = time.monotonic() + 60
    while len(list(barrier.iterdir())) < workers and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.time()
    with open_ledger(db) as ledger:
        report = run_due(ledger, settings, open_publisher,
                         policy=RetryPolicy().without_sleep())
    end = time.time()
    print(sum(1 for item in report.items if item.action == "published"), start, end)
    """
)


def test_overlapping_run_processes_publish_each_thread_exactly_once(tmp_path: Path) -> None:
    db, network = tmp_path / "ledger.db", tmp_path / "network.db"
    threads = 12
    with open_ledger(db) as ledger:
        for i in range(threads):
            ledger.create_thread(
                draft_path=f"/d{i}.md",
                content_hash="h",
                title=None,
                plans={
                    "mastodon": make_thread("mastodon", 3),
                    "bluesky": make_thread("bluesky", 2),
                },
                schedule_at=datetime.now(UTC) - timedelta(minutes=1),
                state="scheduled",
                now=datetime.now(UTC),
            )
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'tests'}{os.pathsep}{REPO / 'src'}"}
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(db), str(network), str(barrier), "4", str(n)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    published = 0
    spans: list[tuple[float, float]] = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        count, start, end = out.split()
        published += int(count)
        spans.append((float(start), float(end)))
    # The runs overlapped in time (all four were running at once), so the lease was tested.
    assert max(start for start, _ in spans) < min(end for _, end in spans)
    assert published == threads, "every thread published by exactly one process"
    server = FakeServer(network)
    keys = [p["key"] for p in server.posts()]
    assert len(keys) == threads * 5
    assert len(set(keys)) == len(keys), "no post sent twice"
    with open_ledger(db) as ledger:
        assert {t.state for t in ledger.threads()} == {"published"}
        assert ledger.conn.execute("SELECT count(*) FROM leases").fetchone()[0] == 0
