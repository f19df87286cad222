"""publish / schedule / queue / cancel / status / run / cron / delete through the real CLI."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import threadpost
from cli_support import run_cli, write_cron_logins
from fakes import TWO_POST_DRAFT, FakePublisher, FakeServer, install_fake_network, make_thread
from threadpost.store import open_ledger

REPO = Path(__file__).resolve().parents[2]
#: Rounds of racing processes per race test (each round: five processes at once).
RACE_REPETITIONS = 3


@pytest.fixture
def network(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, FakePublisher]]:
    """Fake publishers behind `platforms.open_publisher`; fixed limits, no network."""
    write_cron_logins(isolated_env / "config.toml")  # `schedule` wants logins cron has
    yield install_fake_network(monkeypatch, FakeServer())


def _draft(folder: Path, text: str = TWO_POST_DRAFT, name: str = "cameras.md") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_every_command_has_help() -> None:
    for command in ("publish", "schedule", "queue", "cancel", "status", "run", "cron", "delete"):
        result = run_cli(command, "--help")
        assert result.exit_code == 0, command
        assert "Usage" in result.stdout


def test_publish_yes_publishes_and_status_lists_every_url(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    draft = _draft(isolated_env)
    result = run_cli("publish", str(draft), "--yes")
    assert result.exit_code == 0, result.stderr
    assert "mastodon: published, 2/2 posts https://mastodon.example/" in result.stdout
    assert "bluesky: published, 2/2 posts" in result.stdout
    thread_id = result.stdout.split()[1].rstrip(":")

    status = run_cli("status", thread_id[:4], "--json")
    data = json.loads(status.stdout)
    assert data["id"] == thread_id
    assert data["state"] == "published"
    assert set(data["platforms"]) == {"mastodon", "bluesky"}
    posts = data["platforms"]["bluesky"]["posts"]
    assert [p["index"] for p in posts] == [1, 2]
    assert all(p["url"].startswith("https://bluesky.example/") for p in posts)
    text = run_cli("status", thread_id).stdout
    assert text.count("https://") == 4


def test_publishing_twice_needs_again(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    draft = _draft(isolated_env)
    assert run_cli("publish", str(draft), "--yes").exit_code == 0
    again = run_cli("publish", str(draft), "--yes")
    assert again.exit_code == 1
    assert "already published as thread" in again.stderr
    assert "--again" in again.stderr
    assert run_cli("publish", str(draft), "--yes", "--again").exit_code == 0


def test_publish_asks_first(
    isolated_env: Path, network: dict[str, FakePublisher], monkeypatch: pytest.MonkeyPatch
) -> None:
    from threadpost.cli import terminal

    monkeypatch.setattr(terminal, "stdin_is_terminal", lambda: True)
    draft = _draft(isolated_env)
    refused = run_cli("publish", str(draft), input="n\n")
    # Declining is an answer, not a failure (issue 12): exit 0, nothing sent.
    assert refused.exit_code == 0
    assert "nothing was sent" in refused.stderr
    assert "mastodon 2 posts, bluesky 2 posts" in refused.stdout
    assert json.loads(run_cli("queue", "--json").stdout) == {"threads": []}
    accepted = run_cli("publish", str(draft), input="y\n")
    assert accepted.exit_code == 0, accepted.stderr


def test_publish_one_platform_only(isolated_env: Path, network: dict[str, FakePublisher]) -> None:
    result = run_cli(
        "publish", str(_draft(isolated_env)), "--yes", "--platform", "bluesky", "--json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data["platforms"]) == ["bluesky"]
    assert data["platforms"]["bluesky"]["status"] == "published"
    assert len(data["platforms"]["bluesky"]["urls"]) == 2


def test_unknown_platform_is_a_usage_error(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    result = run_cli("publish", str(_draft(isolated_env)), "--yes", "--platform", "myspace")
    assert result.exit_code == 2
    assert "unknown platform 'myspace'" in result.stderr


def test_incomplete_publish_exits_4_and_run_resumes_it(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    network["bluesky"].fail_at(2, "transient", times=99)
    result = run_cli("publish", str(_draft(isolated_env)), "--yes", "--json")
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert data["state"] == "incomplete"
    assert data["platforms"]["mastodon"]["status"] == "published"
    bluesky = data["platforms"]["bluesky"]
    assert (bluesky["status"], bluesky["published"]) == ("incomplete", 1)
    assert bluesky["next_retry_at"]

    queue = json.loads(run_cli("queue", "--json").stdout)["threads"]
    assert [t["state"] for t in queue] == ["incomplete"]
    # Not yet time: run does nothing and says when.
    idle = run_cli("run", "-v")
    assert idle.exit_code == 0
    assert "Nothing due; 1 waiting" in idle.stdout
    # Time passes (the retry time is moved into the past) and the network recovers.
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        ledger.conn.execute(
            "UPDATE platforms SET next_retry_at = '2000-01-01T00:00:00.000000+00:00'"
        )
    network["bluesky"].faults.clear()
    resumed = run_cli("run")
    assert resumed.exit_code == 0, resumed.stderr
    assert "bluesky: published, 2/2 posts" in resumed.stdout
    assert network["bluesky"].calls[-1] == ("send", 2)
    # run's output goes to a log: every line, stdout and stderr, starts with the local time.
    lines = (resumed.stdout + resumed.stderr).splitlines()
    assert lines and all(
        re.match(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+\] ", line) for line in lines
    )


def test_schedule_queue_cancel(isolated_env: Path, network: dict[str, FakePublisher]) -> None:
    draft = _draft(isolated_env)
    result = run_cli("schedule", str(draft), "--at", "+2h")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Scheduled thread ")
    thread_id = result.stdout.split()[2]
    queue = json.loads(run_cli("queue", "--json").stdout)["threads"]
    assert [(t["id"], t["state"], t["title"]) for t in queue] == [
        (thread_id, "scheduled", "Cameras")
    ]
    assert queue[0]["schedule"].endswith(("+01:00", "+02:00"))  # local time, Europe/Paris
    assert queue[0]["platforms"]["mastodon"] == {
        "state": "pending",
        "published": 0,
        "total": 2,
        "attempts": 0,
        "next_retry": None,
        "last_error": None,
    }
    assert thread_id in run_cli("queue").stdout
    # Not due: run publishes nothing.
    assert run_cli("run").exit_code == 0
    assert network["mastodon"].calls == []
    cancelled = run_cli("cancel", thread_id)
    assert cancelled.exit_code == 0
    assert json.loads(run_cli("queue", "--json").stdout) == {"threads": []}
    again = run_cli("cancel", thread_id)
    assert again.exit_code == 1
    assert "is cancelled" in again.stderr


def test_cancel_and_delete_refuse_a_thread_another_process_is_publishing(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    """A cancel under a running publisher used to be overwritten by the publisher's final
    state (and a later run resumed the thread); a delete could be followed by resends."""
    from threadpost.lease import lease_name

    scheduled = run_cli("schedule", str(_draft(isolated_env)), "--at", "+2h")
    thread_id = scheduled.stdout.split()[2]
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        until = datetime.now(UTC) + timedelta(hours=1)
        assert ledger.claim_lease(
            lease_name(thread_id), "other-run", until=until, now=datetime.now(UTC)
        )
        cancelled = run_cli("cancel", thread_id)
        assert cancelled.exit_code == 1
        assert "being published by another threadpost process" in cancelled.stderr
        assert "cannot cancel it now" in cancelled.stderr
        assert ledger.thread(thread_id).state == "scheduled"
        deleted = run_cli("delete", thread_id, "--yes")
        assert deleted.exit_code == 1
        assert "cannot delete it now" in deleted.stderr
        assert network["mastodon"].calls == []
        ledger.release_lease(lease_name(thread_id), "other-run")
    assert run_cli("cancel", thread_id).exit_code == 0


THREE_POST_DRAFT = """+++
platforms = ["mastodon"]
+++
One.

---

Two.

---

Three.
"""


def test_a_run_long_after_the_lease_duration_never_takes_over_a_publish_still_sending(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    """`publish` never renewed its lease, and a lease was only as good as its expiry: a cron
    `run` whose clock had passed it took the thread over and sent the remaining posts while
    `publish` was still sending them. A live holder must never be taken over."""
    from zoneinfo import ZoneInfo

    from threadpost.clock import FrozenClock
    from threadpost.config import Settings
    from threadpost.retry import RetryPolicy
    from threadpost.schedule import run_due

    db = isolated_env / "threadpost.db"
    settings = Settings(
        config_path=None, db_path=db, state_dir=isolated_env, timezone=ZoneInfo("UTC")
    )
    cron_publisher = FakePublisher("mastodon", network["mastodon"].server)
    actions: list[str] = []

    def cron_run_meanwhile(index: int) -> None:
        # publish has sent post 1 and is slow with post 2: two hours later, far past any
        # lease duration, cron starts `run` on the same ledger.
        if index != 2 or actions:
            return
        later = FrozenClock(datetime.now(UTC) + timedelta(hours=2))
        with open_ledger(db) as other:
            report = run_due(
                other,
                settings,
                lambda platform: cron_publisher,
                clock=later,
                policy=RetryPolicy(attempts=1).without_sleep(),
            )
        actions.extend(item.action for item in report.items)

    network["mastodon"].before_post = cron_run_meanwhile
    result = run_cli("publish", str(_draft(isolated_env, THREE_POST_DRAFT)), "--yes")
    assert actions == ["busy"], "the run left the thread to its live publisher"
    assert result.exit_code == 0, result.stderr
    keys = [p["key"] for p in network["mastodon"].server.posts("mastodon")]
    assert len(keys) == 3 and len(set(keys)) == 3, "every post sent exactly once"
    assert cron_publisher.calls == []


def test_a_ledger_locked_past_the_busy_timeout_is_a_store_error(
    isolated_env: Path, network: dict[str, FakePublisher], monkeypatch: pytest.MonkeyPatch
) -> None:
    """sqlite3's "database is locked" escaped the funnel as an unexpected crash."""
    import threadpost.store.ledger

    scheduled = run_cli("schedule", str(_draft(isolated_env)), "--at", "+2h")
    thread_id = scheduled.stdout.split()[2]
    monkeypatch.setattr(threadpost.store.ledger, "BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(isolated_env / "threadpost.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        result = run_cli("cancel", thread_id)
    finally:
        other.close()
    assert result.exit_code == 1
    assert "unexpected" not in result.stderr
    assert f"the ledger {isolated_env / 'threadpost.db'} is locked by another process" in (
        result.stderr
    )
    assert run_cli("cancel", thread_id).exit_code == 0


def test_schedule_of_an_edited_draft_replaces_the_plan(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    draft = _draft(isolated_env)
    first = run_cli("schedule", str(draft), "--at", "tomorrow 09:00")
    assert first.exit_code == 0, first.stderr
    draft.write_text(TWO_POST_DRAFT + "\n---\n\nA third post.\n")
    second = run_cli("schedule", str(draft), "--at", "tomorrow 10:00")
    assert second.exit_code == 0, second.stderr
    assert "plan was replaced" in second.stderr
    queue = json.loads(run_cli("queue", "--json").stdout)["threads"]
    assert len(queue) == 1
    assert queue[0]["platforms"]["mastodon"]["total"] == 3


def test_schedule_refuses_the_past_and_a_missing_time(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    draft = _draft(isolated_env)
    past = run_cli("schedule", str(draft), "--at", "2020-01-01 09:00")
    assert past.exit_code == 2
    assert "in the past" in past.stderr
    missing = run_cli("schedule", str(draft))
    assert missing.exit_code == 2
    assert "pass --at WHEN" in missing.stderr
    garbled = run_cli("schedule", str(draft), "--at", "someday")
    assert garbled.exit_code == 2
    assert "cannot read the time 'someday'" in garbled.stderr


def test_schedule_from_front_matter(isolated_env: Path, network: dict[str, FakePublisher]) -> None:
    year = datetime.now(UTC).year + 1
    draft = _draft(
        isolated_env, TWO_POST_DRAFT.replace("+++\nC", f'schedule = "{year}-07-01 09:00"\n+++\nC')
    )
    result = run_cli("schedule", str(draft), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schedule"] == f"{year}-07-01T09:00:00+02:00"
    assert data["action"] == "created"


def test_delete_removes_the_posts(isolated_env: Path, network: dict[str, FakePublisher]) -> None:
    published = run_cli("publish", str(_draft(isolated_env)), "--yes")
    thread_id = published.stdout.split()[1].rstrip(":")
    result = run_cli("delete", thread_id, "--platform", "mastodon", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "mastodon: deleted 2 posts" in result.stdout
    assert network["mastodon"].calls[-1] == ("delete", [2, 1])
    data = json.loads(run_cli("status", thread_id, "--json").stdout)
    assert data["platforms"]["mastodon"]["state"] == "deleted"
    assert data["platforms"]["bluesky"]["state"] == "published"


def test_cron_prints_absolute_paths_and_a_timer(isolated_env: Path) -> None:
    result = run_cli("cron")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("*/5"))
    # After the THREADPOST_* assignments cron needs (isolated_env sets some).
    command = next(word for word in line.split()[5:] if "=" not in word)
    assert Path(command).is_absolute()
    assert " run >> " in line and line.endswith("2>&1")
    assert str(isolated_env / "state" / "run.log") in line
    assert "[Timer]" in result.stdout and "OnCalendar=*:0/5" in result.stdout


def test_foreign_database_is_refused(isolated_env: Path) -> None:
    other = isolated_env / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    result = run_cli("--db", str(other), "queue")
    assert result.exit_code == 1
    assert "is not a threadpost ledger" in result.stderr
    (isolated_env / "text.db").write_text("not a database at all\n")
    result = run_cli("--db", str(isolated_env / "text.db"), "status")
    assert result.exit_code == 1
    assert "is corrupt or not SQLite" in result.stderr


def test_unknown_thread_id(isolated_env: Path) -> None:
    result = run_cli("status", "abcdef12")
    assert result.exit_code == 1
    assert "no thread 'abcdef12'" in result.stderr


_PROBE = (
    "import sys, atexit\n"
    "heavy = ('atproto', 'mastodon', 'httpx', 'rich', 'tenacity')\n"
    "atexit.register(lambda: print('LOADED', [m for m in heavy if m in sys.modules],"
    " file=sys.stderr))\n"
    "from threadpost.cli import main\n"
    "main(['run', '-v'])\n"
)


@pytest.mark.parametrize("scheduled", [0, 50])
def test_run_with_nothing_due_imports_no_network_library(
    isolated_env: Path, scheduled: int
) -> None:
    db = isolated_env / "threadpost.db"
    with open_ledger(db) as ledger:
        for i in range(scheduled):
            ledger.create_thread(
                # One unfinished thread per draft (the ledger's unique index).
                draft_path=f"/d{i}.md",
                content_hash="h",
                title=None,
                plans={"mastodon": make_thread("mastodon", 2)},
                schedule_at=datetime.now(UTC) + timedelta(days=3),
                state="scheduled",
                now=datetime.now(UTC),
            )
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADPOST_")}
    env |= {
        "THREADPOST_DB": str(db),
        "THREADPOST_CONFIG": str(isolated_env / "config.toml"),
        "THREADPOST_STATE_DIR": str(isolated_env / "state"),
        "THREADPOST_TIMEZONE": "UTC",
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr, done.stderr
    assert "Nothing due" in done.stdout


_START_UP_PROBE = (
    "import sys, atexit\n"
    "kept_off = ('hashlib', 'sqlite_utils', 'platformdirs', 'threadpost.schedule',"
    " 'threadpost.publish', 'threadpost.platforms')\n"
    "atexit.register(lambda: print('LOADED', [m for m in kept_off if m in sys.modules],"
    " file=sys.stderr))\n"
    "from threadpost.cli import main\n"
    "main(['run', '-v'])\n"
)


def test_run_with_nothing_due_keeps_start_up_modules_off_the_path(isolated_env: Path) -> None:
    """The cron tick's start-up: with nothing due, `run` neither hashes (hashlib), migrates
    (sqlite-utils), looks up default folders it was given (platformdirs) nor imports the
    publishing machinery."""
    db = isolated_env / "threadpost.db"
    with open_ledger(db) as ledger:
        ledger.create_thread(
            draft_path="/d.md",
            content_hash="h",
            title=None,
            plans={"mastodon": make_thread("mastodon", 2)},
            schedule_at=datetime.now(UTC) + timedelta(days=3),
            state="scheduled",
            now=datetime.now(UTC),
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADPOST_")}
    env |= {
        "THREADPOST_DB": str(db),
        "THREADPOST_CONFIG": str(isolated_env / "config.toml"),
        "THREADPOST_STATE_DIR": str(isolated_env / "state"),
        "THREADPOST_TIMEZONE": "UTC",
    }
    done = subprocess.run(
        [sys.executable, "-c", _START_UP_PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr, done.stderr
    assert "Nothing due; 1 waiting" in done.stdout


_RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import threadpost.platforms as platforms
    from fakes import FakePublisher, FakeServer
    from threadpost.cli import main
    from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
    from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS

    network, start, args = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    server = FakeServer(network)
    publishers = {p: FakePublisher(p, server, delay=0.01) for p in ("mastodon", "bluesky")}
    platforms.open_publisher = lambda platform, settings: publishers[platform]
    platforms.limits_for = lambda platform, settings, offline: (
        BLUESKY_LIMITS if platform == "bluesky" else MASTODON_DEFAULT_LIMITS
    )
    deadline = time.monotonic() + 60
    while not start.exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    main(args)
    """
)


@pytest.mark.parametrize("mix", ["publish", "schedule-and-publish"])
def test_concurrent_publish_and_schedule_of_one_draft_make_one_thread(
    isolated_env: Path, mix: str
) -> None:
    """Five `publish --yes` of one draft started at once (or `schedule` racing `publish`)
    each found no thread and created their own: the whole thread was posted twice."""
    write_cron_logins(isolated_env / "config.toml")
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO / 'tests'}{os.pathsep}{Path(threadpost.__file__).parents[1]}",
        "THREADPOST_CONFIG": str(isolated_env / "config.toml"),
        "THREADPOST_STATE_DIR": str(isolated_env / "state"),
        "THREADPOST_TIMEZONE": "UTC",
    }
    for repetition in range(RACE_REPETITIONS):
        folder = isolated_env / f"r{repetition}"
        folder.mkdir()
        draft, start = _draft(folder), folder / "start"
        db, network = folder / "threadpost.db", folder / "network.db"
        open_ledger(db).close()
        FakeServer(network).conn.close()
        commands = [["publish", str(draft), "--yes"]] * 5
        if mix == "schedule-and-publish":
            commands[1] = commands[3] = ["schedule", str(draft), "--at", "+1h"]
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", _RACER, str(network), str(start), *command],
                env={**env, "THREADPOST_DB": str(db)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for command in commands
        ]
        time.sleep(1.5)  # every racer is waiting at the start line
        start.touch()
        for racer in racers:
            _, err = racer.communicate(timeout=120)
            assert racer.returncode in (0, 1), err
        with open_ledger(db) as ledger:
            threads = ledger.threads(draft_path=str(draft.resolve()))
        assert len(threads) == 1, f"repetition {repetition}: {len(threads)} threads"
        keys = [p["key"] for p in FakeServer(network).posts()]
        assert len(keys) == len(set(keys)), f"repetition {repetition}: a post sent twice"
        assert len(keys) in (0, 4), "nothing sent, or each network's two posts once"
