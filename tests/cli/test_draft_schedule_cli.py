"""A queued thread follows its draft's `schedule` line (issue 15), end to end through the CLI
against the local Mastodon API test server, asserting on what the server stored:

- moved later: `run` publishes nothing and says "re-timed from … to … (the draft's
  schedule changed)"; the thread goes out at the new time;
- moved earlier, to a time already past: due now, published by the same (plain, cron)
  `run`, not skipped as late; moved earlier but still ahead: `queue` shows the new time;
- the line removed: the queued time stays, and `queue`/`status` say so;
- a thread that has begun posting is never re-timed: it resumes;
- every re-timing is recorded in the ledger; a cron tick with the draft unchanged reads
  no draft (the draft parser and the scheduler stay unimported).

Time passes as the neighbouring tests make it pass: the ledger's queued time is moved
into the past (`make_due`), the draft's times are written relative to the real clock.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli_support import run_cli
from mastodon_server.server import MastodonTestServer, running_server
from threadpost.clock import format_utc, local_time
from threadpost.store import open_ledger

DRAFT = """+++
title = "Cameras"
platforms = ["mastodon"]
numbering = false
{schedule}+++
Cities buy cameras.

---

Ask your council for the numbers.
"""


def _at(delta: timedelta) -> datetime:
    """A whole minute `delta` from now (messages show times to the minute)."""
    return (datetime.now(UTC) + delta).replace(second=0, microsecond=0)


def _line(moment: datetime) -> str:
    return f'schedule = "{moment.strftime("%Y-%m-%dT%H:%M:%SZ")}"\n'


def _shown(moment: datetime) -> str:
    return local_time(moment, UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[MastodonTestServer]:
    with running_server() as running:
        yield running


class Author:
    """One person's config (credentials in the config file, as cron has them), ledger and
    draft, with an account of their own on the shared test server."""

    def __init__(self, tmp_path: Path, server: MastodonTestServer) -> None:
        self.server = server
        self.account = "when" + str(random.randrange(10**9))
        token = server.add_account(self.account)
        config = tmp_path / "config.toml"
        config.write_text(f'[mastodon]\ninstance = "{server.url}"\naccess_token = "{token}"\n')
        config.chmod(0o600)
        self.db = tmp_path / "threadpost.db"
        self.env = {
            "THREADPOST_CONFIG": str(config),
            "THREADPOST_DB": str(self.db),
            "THREADPOST_STATE_DIR": str(tmp_path / "state"),
            "THREADPOST_TIMEZONE": "UTC",
        }
        self.draft = tmp_path / "cameras.md"

    def cli(self, *args: str) -> tuple[int, str, str]:
        result = run_cli(*args, env=self.env)
        assert "Traceback" not in result.stderr, result.stderr
        return result.exit_code, result.stdout, result.stderr

    def write(self, when: datetime | None) -> None:
        text = DRAFT.format(schedule=_line(when) if when else "")
        self.draft.write_text(text, encoding="utf-8")
        # An edit a second later than the last: its mtime differs on every file system.
        stamp = self.draft.stat().st_mtime + random.uniform(1, 2)
        os.utime(self.draft, (stamp, stamp))

    def schedule(self, *args: str) -> str:
        code, out, err = self.cli("schedule", str(self.draft), *args)
        assert code == 0, out + err
        return out.split()[2]

    def make_due(self) -> None:
        """Time passes: every scheduled thread's queued time is moved into the past."""
        with open_ledger(self.db) as ledger:
            ledger.conn.execute(
                "UPDATE threads SET schedule_at = ? WHERE state = 'scheduled'",
                (format_utc(datetime.now(UTC) - timedelta(minutes=1)),),
            )

    def queued_at(self, thread_id: str) -> datetime:
        with open_ledger(self.db) as ledger:
            moment = ledger.thread(thread_id).schedule_at
        assert moment is not None
        return moment

    def retimes(self, thread_id: str) -> list[tuple[str, str | None, str | None]]:
        with open_ledger(self.db) as ledger:
            rows = ledger.conn.execute(
                "SELECT kind, from_at, to_at FROM retimes WHERE thread_id = ? ORDER BY id",
                (thread_id,),
            ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def texts(self) -> list[str]:
        return [status.text for status in self.server.published(self.account)]

    def queue_entry(self) -> dict[str, Any]:
        code, out, err = self.cli("queue", "--json")
        assert code == 0, err
        [entry] = json.loads(out)["threads"]
        return dict(entry)


@pytest.fixture
def author(tmp_path: Path, server: MastodonTestServer) -> Author:
    return Author(tmp_path, server)


def test_a_schedule_moved_later_defers_the_thread(author: Author) -> None:
    first, later = _at(timedelta(hours=1)), _at(timedelta(hours=5))
    author.write(first)
    thread_id = author.schedule()
    assert author.queued_at(thread_id) == first

    author.write(later)
    author.make_due()  # the first time has come...
    was = author.queued_at(thread_id)
    code, out, err = author.cli("run", "-v")
    assert code == 0, out + err
    assert author.texts() == []  # ...but the draft now says later: nothing is sent
    assert (
        f"Thread {thread_id}: re-timed from {_shown(was)} to {_shown(later)} "
        "(the draft's schedule changed)" in out
    )
    assert f"next at {_shown(later)}" in out
    assert author.queued_at(thread_id) == later
    assert author.retimes(thread_id) == [("retimed", format_utc(was), format_utc(later))]

    # queue and status say so, for as long as it holds.
    entry = author.queue_entry()
    assert entry["schedule_utc"] == later.isoformat()
    assert entry["retimed"]["kind"] == "retimed"
    assert entry["retimed"]["to"] == later.isoformat()
    queue = author.cli("queue")[1]
    assert f"re-timed from {_shown(was)} to {_shown(later)} (the draft's schedule changed)" in (
        queue
    )
    assert f"re-timed from {_shown(was)}" in author.cli("status", thread_id)[1]

    # A second run has nothing new to say, and still sends nothing.
    code, out, err = author.cli("run", "-v")
    assert (code, author.texts()) == (0, [])
    assert "re-timed" not in out
    # Its new time comes: it is published.
    author.make_due()
    code, out, err = author.cli("run")
    assert code == 0, out + err
    assert author.texts() == ["Cities buy cameras.", "Ask your council for the numbers."]


def test_run_json_lists_the_threads_it_retimed(author: Author) -> None:
    author.write(_at(timedelta(hours=1)))
    thread_id = author.schedule()
    was, later = author.queued_at(thread_id), _at(timedelta(hours=4))
    author.write(later)
    code, out, err = author.cli("run", "--json")
    assert code == 0, out + err
    [retimed] = json.loads(out)["retimed"]
    assert retimed["thread"] == thread_id
    assert (retimed["kind"], retimed["from_utc"], retimed["to_utc"]) == (
        "retimed",
        was.isoformat(),
        later.isoformat(),
    )
    assert "(the draft's schedule changed)" in retimed["message"]
    assert "retimed" not in json.loads(author.cli("run", "--json")[1])  # said once


def test_a_schedule_moved_to_a_past_time_is_due_at_once_in_a_plain_cron_run(
    author: Author,
) -> None:
    author.write(_at(timedelta(hours=2)))
    thread_id = author.schedule()
    # Earlier than max_lateness (24 h) allows for a missed time: still not skipped, the
    # author asked for it.
    past = _at(-timedelta(days=2))
    author.write(past)
    code, out, err = author.cli("run")  # cron's plain line: the quiet path must not answer
    assert code == 0, out + err
    assert author.texts() == ["Cities buy cameras.", "Ask your council for the numbers."]
    assert f"Thread {thread_id}: re-timed from " in out
    assert f"its new time, {_shown(past)}, has passed: due now" in out
    assert "late" not in out + err
    [(kind, _, _)] = author.retimes(thread_id)
    assert kind == "retimed"
    status = json.loads(author.cli("status", thread_id, "--json")[1])
    assert status["state"] == "published"
    assert status["retimed"] is None  # history now: the thread is out


def test_a_schedule_moved_earlier_but_ahead_shows_in_queue_and_waits(author: Author) -> None:
    author.write(_at(timedelta(hours=6)))
    thread_id = author.schedule()
    earlier = _at(timedelta(hours=2))
    author.write(earlier)
    entry = author.queue_entry()  # queue re-times it, before any run
    assert entry["schedule_utc"] == earlier.isoformat()
    assert entry["retimed"]["message"].startswith("re-timed from ")
    code, _, _ = author.cli("run")
    assert (code, author.texts()) == (0, [])
    assert author.queued_at(thread_id) == earlier
    assert len(author.retimes(thread_id)) == 1  # queue did it; run had nothing to do
    # status re-times too, and says so under the time.
    earliest = _at(timedelta(hours=1))
    author.write(earliest)
    code, out, err = author.cli("status", thread_id)
    assert code == 0, out + err
    assert f"scheduled for {_shown(earliest)}" in out
    assert (
        f"re-timed from {_shown(earlier)} to {_shown(earliest)} (the draft's schedule changed)"
        in out
    )
    assert author.queued_at(thread_id) == earliest


def test_an_edit_elsewhere_or_the_same_time_does_not_retime(author: Author) -> None:
    """`--at` chose the time; an edit that leaves the draft's schedule as it was keeps it."""
    written = _at(timedelta(hours=3))
    author.write(written)
    thread_id = author.schedule("--at", "+1h")
    chosen = author.queued_at(thread_id)
    author.draft.write_text(
        author.draft.read_text().replace("numbers", "figures"), encoding="utf-8"
    )
    code, out, err = author.cli("run", "-v")
    assert code == 0, out + err
    assert "re-timed" not in out
    assert author.queued_at(thread_id) == chosen
    assert author.retimes(thread_id) == []
    assert author.queue_entry()["retimed"] is None


def test_a_removed_schedule_line_keeps_the_queued_time_and_says_so(author: Author) -> None:
    when = _at(timedelta(hours=3))
    author.write(when)
    thread_id = author.schedule()
    author.write(None)
    code, out, err = author.cli("run", "-v")
    assert code == 0, out + err
    assert (
        f"Thread {thread_id}: the schedule line was removed from {author.draft.resolve()}; "
        f"it keeps its queued time, {_shown(when)}" in out
    )
    assert author.queued_at(thread_id) == when
    assert author.retimes(thread_id) == [("kept", format_utc(when), format_utc(when))]
    message = f"kept its queued time, {_shown(when)} (the draft's schedule line was removed)"
    assert message in author.cli("queue")[1]
    assert message in author.cli("status", thread_id)[1]
    assert author.texts() == []


def test_a_thread_that_began_posting_is_never_retimed(author: Author) -> None:
    author.write(_at(timedelta(hours=1)))
    thread_id = author.schedule()
    author.make_due()
    # Post 2 is refused for the whole run: post 1 is online.
    author.server.faults.add("error", on_path="/api/v1/statuses", at_count=2, times=100, status=503)
    code, out, err = author.cli("run")
    assert code == 4, out + err
    assert author.texts() == ["Cities buy cameras."]
    author.server.faults.clear()

    author.write(_at(timedelta(days=3)))  # the author moves it, too late
    code, out, err = author.cli("queue")
    assert "re-timed" not in out
    with open_ledger(author.db) as ledger:  # the retry time comes
        ledger.conn.execute(
            "UPDATE platforms SET next_retry_at = ?", (format_utc(datetime.now(UTC)),)
        )
    code, out, err = author.cli("run", "-v")
    assert code == 0, out + err
    assert "re-timed" not in out
    assert author.texts() == ["Cities buy cameras.", "Ask your council for the numbers."]
    assert author.retimes(thread_id) == []


_PROBE = (
    "import sys, atexit\n"
    "kept_off = ('hashlib', 'threadpost.draft', 'threadpost.schedule', 'threadpost.publish',"
    " 'threadpost.platforms')\n"
    "atexit.register(lambda: print('LOADED', [m for m in kept_off if m in sys.modules],"
    " file=sys.stderr))\n"
    "from threadpost.cli import main\n"
    "main(sys.argv[1:])\n"
)


@pytest.mark.parametrize("args", [["run", "-v"], ["run"]], ids=["verbose", "cron-line"])
def test_a_cron_tick_with_the_draft_unchanged_reads_no_draft(
    author: Author, args: list[str]
) -> None:
    author.write(_at(timedelta(hours=3)))
    author.schedule()
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADPOST_")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env=env | author.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr, done.stderr
