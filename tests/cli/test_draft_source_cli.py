"""The draft file is the source of truth, and "never twice" holds for content (issue 12),
end to end through the CLI against the local Mastodon API test server, asserting on what
the server stored.

- An edit made after `schedule` and before the thread starts is what `run` publishes
  (re-planned and re-checked); an edit with errors sends nothing and fails the thread with
  the reason, naming file, line and post; a deleted draft publishes the frozen plan with a
  warning; once posting has begun the frozen plan stays (an edit draws a warning).
  `queue`/`status` say when the draft changed since it was scheduled.
- A copied draft whose posts are already online is refused, naming the earlier thread and
  its address, unless `--again`; images count by their contents.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli_support import run_cli
from mastodon_server.fixtures import write_image
from mastodon_server.server import MastodonTestServer, running_server
from threadpost.clock import format_utc
from threadpost.store import open_ledger


def _write_private(path: Path, text: str) -> None:
    """A config file holding credentials: mode 0600, as threadpost requires."""
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


DRAFT = """+++
title = "Cameras"
platforms = ["mastodon"]
numbering = false
+++
Cities buy cameras.

---

They rarely count what the cameras cost.

---

Ask your council for the numbers.
"""


@pytest.fixture(scope="module")
def server() -> Iterator[MastodonTestServer]:
    with running_server() as running:
        yield running


class Author:
    """One person's config (credentials in the config file, as cron will have them),
    ledger and drafts folder, with an account of their own on the shared test server."""

    def __init__(self, tmp_path: Path, server: MastodonTestServer) -> None:
        self.server = server
        self.account = "src" + str(random.randrange(10**9))
        token = server.add_account(self.account)
        config = tmp_path / "config.toml"
        _write_private(config, f'[mastodon]\ninstance = "{server.url}"\naccess_token = "{token}"\n')
        self.db = tmp_path / "threadpost.db"
        self.env = {
            "THREADPOST_CONFIG": str(config),
            "THREADPOST_DB": str(self.db),
            "THREADPOST_STATE_DIR": str(tmp_path / "state"),
            "THREADPOST_TIMEZONE": "UTC",
        }
        self.folder = tmp_path / "drafts"
        self.folder.mkdir()

    def cli(self, *args: str) -> tuple[int, str, str]:
        result = run_cli(*args, env=self.env)
        assert "Traceback" not in result.stderr, result.stderr
        return result.exit_code, result.stdout, result.stderr

    def draft(self, text: str = DRAFT, name: str = "cameras.md") -> Path:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def schedule(self, draft: Path) -> str:
        code, out, err = self.cli("schedule", str(draft), "--at", "+1h")
        assert code == 0, out + err
        return out.split()[2]

    def make_due(self) -> None:
        """Time passes: every scheduled thread's time is moved into the past."""
        with open_ledger(self.db) as ledger:
            ledger.conn.execute(
                "UPDATE threads SET schedule_at = ? WHERE state = 'scheduled'",
                (format_utc(datetime.now(UTC) - timedelta(minutes=1)),),
            )

    def texts(self) -> list[str]:
        """What the server stored for this account, oldest first."""
        return [status.text for status in self.server.published(self.account)]

    def status_posts(self) -> int:
        return sum(
            1
            for r in self.server.requests
            if r.account == self.account and r.method == "POST" and r.path == "/api/v1/statuses"
        )

    def queue(self) -> list[dict[str, object]]:
        code, out, err = self.cli("queue", "--json")
        assert code == 0, err
        threads: list[dict[str, object]] = json.loads(out)["threads"]
        return threads


@pytest.fixture
def author(tmp_path: Path, server: MastodonTestServer) -> Author:
    return Author(tmp_path, server)


# -- the draft is the source of truth ----------------------------------------------------


def test_an_edit_after_schedule_is_what_run_publishes(author: Author) -> None:
    draft = author.draft()
    thread_id = author.schedule(draft)
    assert [t["draft_state"] for t in author.queue()] == ["unchanged"]
    draft.write_text(
        DRAFT.replace("They rarely count", "They never count") + "\n---\n\nA fourth post.\n",
        encoding="utf-8",
    )
    # queue and status say so before anything is sent.
    assert [t["draft_state"] for t in author.queue()] == ["changed"]
    assert "(draft changed since scheduled)" in author.cli("queue")[1]
    assert "the edited version will be sent" in author.cli("status", thread_id)[1]

    author.make_due()
    code, out, err = author.cli("run")
    assert code == 0, out + err
    assert author.texts() == [
        "Cities buy cameras.",
        "They never count what the cameras cost.",
        "Ask your council for the numbers.",
        "A fourth post.",
    ]
    assert f"changed since thread {thread_id} was scheduled" in err
    assert "mastodon 4 posts" in err
    status = json.loads(author.cli("status", thread_id, "--json")[1])
    assert status["state"] == "published"
    assert status["platforms"]["mastodon"]["published"] == 4


def test_an_edit_with_errors_sends_nothing_and_fails_the_thread_with_the_reason(
    author: Author,
) -> None:
    draft = author.draft()
    thread_id = author.schedule(draft)
    # Post 2 now attaches an "image" that is a text file: line 12 of the file.
    (draft.parent / "chart.png").write_text("not an image\n")
    broken = DRAFT.replace(
        "They rarely count what the cameras cost.\n",
        "They rarely count what the cameras cost.\n\n![A chart](chart.png)\n",
    )
    assert broken.splitlines()[11] == "![A chart](chart.png)"
    draft.write_text(broken, encoding="utf-8")
    author.make_due()
    code, out, err = author.cli("run")
    assert code == 1, out + err
    where = f"{draft.resolve()}:12 mastodon post 2: image chart.png"
    assert where in err
    assert "nothing was sent" in err
    assert author.status_posts() == 0
    assert author.texts() == []

    status = json.loads(author.cli("status", thread_id, "--json")[1])
    assert status["state"] == "failed"
    assert where in status["last_error"]
    assert "changed since thread" in status["last_error"]
    text = author.cli("status", thread_id)[1]
    assert f"Thread {thread_id}: failed" in text
    assert where in text
    # A later run does not try again: nothing is due.
    assert author.cli("run")[0] == 0
    assert author.status_posts() == 0


def test_an_edit_that_cannot_be_read_sends_nothing_and_names_the_line(author: Author) -> None:
    draft = author.draft()
    thread_id = author.schedule(draft)
    draft.write_text(DRAFT.replace('title = "Cameras"', 'title = "Cameras'), encoding="utf-8")
    author.make_due()
    code, out, err = author.cli("run")
    assert code == 1, out + err
    assert f"{draft.resolve()} changed since thread {thread_id} was scheduled" in err
    assert f"{draft.resolve()}:2" in err
    assert author.status_posts() == 0
    assert json.loads(author.cli("status", thread_id, "--json")[1])["state"] == "failed"


def test_a_deleted_draft_publishes_the_frozen_plan_with_a_warning(author: Author) -> None:
    draft = author.draft()
    thread_id = author.schedule(draft)
    draft.unlink()
    assert [t["draft_state"] for t in author.queue()] == ["missing"]
    assert "(draft file gone)" in author.cli("queue")[1]
    author.make_due()
    code, out, err = author.cli("run")
    assert code == 0, out + err
    assert f"Warning: {draft.resolve()} is gone; publishing thread {thread_id} as it was" in err
    assert author.texts() == [
        "Cities buy cameras.",
        "They rarely count what the cameras cost.",
        "Ask your council for the numbers.",
    ]


def test_an_edit_after_posting_began_keeps_the_frozen_plan(author: Author) -> None:
    draft = author.draft()
    thread_id = author.schedule(draft)
    author.make_due()
    # Post 2 is refused by a failing server for the whole run: post 1 is online.
    author.server.faults.add("error", on_path="/api/v1/statuses", at_count=2, times=100, status=503)
    code, out, err = author.cli("run")
    assert code == 4, out + err
    assert author.texts() == ["Cities buy cameras."]
    author.server.faults.clear()

    draft.write_text(DRAFT.replace("They rarely count", "They never count"), encoding="utf-8")
    assert [t["draft_state"] for t in author.queue()] == ["changed"]
    assert "the rest is sent as frozen" in author.cli("status", thread_id)[1]
    assert "(draft changed after posting began)" in author.cli("queue")[1]
    with open_ledger(author.db) as ledger:  # the retry time comes
        ledger.conn.execute(
            "UPDATE platforms SET next_retry_at = ?", (format_utc(datetime.now(UTC)),)
        )
    code, out, err = author.cli("run")
    assert code == 0, out + err
    assert f"changed after thread {thread_id} began posting" in err
    assert author.texts() == [
        "Cities buy cameras.",
        "They rarely count what the cameras cost.",
        "Ask your council for the numbers.",
    ]


# -- never twice, for content ------------------------------------------------------------


def test_a_copied_draft_is_refused_naming_the_earlier_thread_until_again(author: Author) -> None:
    original = author.draft()
    code, out, err = author.cli("publish", str(original), "--yes")
    assert code == 0, out + err
    first_id = out.split()[1].rstrip(":")
    first = author.server.published(author.account)[0]
    first_url = f"{author.server.url}/@{author.account}/{first.id}"
    assert first_url in out

    copy = author.folder / "copy-of-cameras.md"
    shutil.copy(original, copy)
    for command in ("publish", "schedule"):
        extra = ["--yes"] if command == "publish" else ["--at", "+1h"]
        code, out, err = author.cli(command, str(copy), *extra)
        assert code == 1, out + err
        assert f"its mastodon posts are already online as thread {first_id}" in err
        assert str(original.resolve()) in err and first_url in err
        assert "--again" in err
    assert author.status_posts() == 3
    assert author.queue() == []

    code, out, err = author.cli("publish", str(copy), "--yes", "--again")
    assert code == 0, out + err
    assert len(author.texts()) == 6


def test_a_renamed_draft_with_one_word_changed_is_not_a_repeat(author: Author) -> None:
    original = author.draft()
    assert author.cli("publish", str(original), "--yes")[0] == 0
    renamed = author.folder / "cameras-2.md"
    original.rename(renamed)
    code, out, err = author.cli("publish", str(renamed), "--yes")
    assert code == 1, out + err  # same posts, new name
    renamed.write_text(DRAFT.replace("numbers", "figures"), encoding="utf-8")
    code, out, err = author.cli("publish", str(renamed), "--yes")
    assert code == 0, out + err
    assert author.texts()[-1] == "Ask your council for the figures."


def test_images_count_by_their_contents(author: Author) -> None:
    with_image = DRAFT.replace(
        "Cities buy cameras.\n", "Cities buy cameras.\n![A grey camera on a pole](pole.png)\n"
    )
    original = author.draft(with_image)
    write_image(author.folder / "pole.png", color="grey")
    assert author.cli("publish", str(original), "--yes")[0] == 0

    # A second import into another folder, images copied along: the same thread.
    other = author.folder / "imported"
    other.mkdir()
    copy = other / "cameras.md"
    shutil.copy(original, copy)
    shutil.copy(author.folder / "pole.png", other / "pole.png")
    code, out, err = author.cli("publish", str(copy), "--yes")
    assert code == 1, out + err
    assert "already online" in err
    # Another picture under the same name: other posts.
    write_image(other / "pole.png", color="red")
    code, out, err = author.cli("publish", str(copy), "--yes")
    assert code == 0, out + err
    assert len(author.server.published(author.account)) == 6


def test_a_scheduled_copy_of_a_thread_published_meanwhile_is_not_sent(author: Author) -> None:
    original = author.draft()
    copy = author.draft(name="copy.md")
    copy_id = author.schedule(copy)
    # The same posts already waiting in the queue: refused, naming the queued thread.
    code, out, err = author.cli("publish", str(original), "--yes")
    assert code == 1, out + err
    assert f"its mastodon posts are already queued as thread {copy_id}" in err
    assert f"threadpost cancel {copy_id}" in err
    assert author.status_posts() == 0
    # Published all the same (--again): the queued copy is then a repeat, and not sent.
    assert author.cli("publish", str(original), "--yes", "--again")[0] == 0
    author.make_due()
    code, out, err = author.cli("run")
    assert code == 1, out + err
    assert "already online" in err
    assert author.status_posts() == 3
    status = json.loads(author.cli("status", copy_id, "--json")[1])
    assert status["state"] == "failed"
    assert "its mastodon posts are already online" in status["last_error"]


def test_an_image_replaced_after_schedule_is_noticed_and_the_new_one_sent(author: Author) -> None:
    with_image = DRAFT.replace(
        "Cities buy cameras.\n", "Cities buy cameras.\n![A grey camera on a pole](pole.png)\n"
    )
    draft = author.draft(with_image)
    write_image(author.folder / "pole.png", color="grey")
    author.schedule(draft)
    assert [t["draft_state"] for t in author.queue()] == ["unchanged"]
    write_image(author.folder / "pole.png", color="red")
    assert [t["draft_state"] for t in author.queue()] == ["changed"]
    author.make_due()
    code, out, err = author.cli("run")
    assert code == 0, out + err
    sent = [m for m in author.server.media.values() if m.account == author.account]
    assert [m.sha256 for m in sent] == [
        hashlib.sha256((author.folder / "pole.png").read_bytes()).hexdigest()
    ]


def test_a_copy_scheduled_with_again_is_sent_at_its_time(author: Author) -> None:
    original = author.draft()
    assert author.cli("publish", str(original), "--yes")[0] == 0
    copy = author.draft(name="copy.md")
    code, out, err = author.cli("schedule", str(copy), "--at", "+1h")
    assert code == 1, out + err
    code, out, err = author.cli("schedule", str(copy), "--at", "+1h", "--again")
    assert code == 0, out + err
    author.make_due()
    code, out, err = author.cli("run")
    assert code == 0, out + err
    assert len(author.texts()) == 6


def test_an_edit_that_drops_every_scheduled_network_sends_nothing(author: Author) -> None:
    draft = author.draft()
    thread_id = author.schedule(draft)
    draft.write_text(DRAFT.replace('platforms = ["mastodon"]', 'platforms = ["bluesky"]'))
    author.make_due()
    code, out, err = author.cli("run")
    assert code == 1, out + err
    assert f"{draft.resolve()}:3 changed since thread {thread_id} was scheduled" in err
    assert "its platforms no longer include mastodon" in err
    assert author.status_posts() == 0
    assert json.loads(author.cli("status", thread_id, "--json")[1])["state"] == "failed"


def test_an_edited_draft_with_its_own_schedule_is_published_when_due(author: Author) -> None:
    """The front matter's schedule has passed when the thread is due: not an error then."""
    when = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    scheduled = DRAFT.replace("numbering = false\n", f'numbering = false\nschedule = "{when}"\n')
    draft = author.draft(scheduled)
    code, out, err = author.cli("schedule", str(draft))
    assert code == 0, out + err
    # Its time comes (in the ledger, and as the draft's schedule, now past) after an edit.
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    draft.write_text(scheduled.replace("numbers", "figures").replace(when, past), encoding="utf-8")
    author.make_due()
    code, out, err = author.cli("run")
    assert code == 0, out + err
    assert author.texts()[-1] == "Ask your council for the figures."
