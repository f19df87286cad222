"""status_view: what `queue` and `status` show, as values and lines, from a real ledger
(the CLI tests check the same through the commands; these check the library alone)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fakes import make_thread
from threadpost.status_view import ledger_view, queue_view, thread_status
from threadpost.store import Ledger, open_ledger
from threadpost.values import PostRef, Problem

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(tmp_path / "ledger.db") as opened:
        yield opened


def _scheduled(ledger: Ledger) -> str:
    """A thread of three Bluesky posts due at 14:00 UTC: the first published, a retry due,
    two warnings recorded."""
    thread_id = ledger.create_thread(
        draft_path="/drafts/cameras.md",
        content_hash="h1",
        title="Cameras",
        plans={"bluesky": make_thread("bluesky", 3)},
        schedule_at=NOW + timedelta(hours=2),
        state="scheduled",
        now=NOW,
    )
    url = "https://bsky.example/post/1"
    ledger.confirm_posts(thread_id, [PostRef("bluesky", 1, "at://x/1", url, "cid1")], NOW)
    ledger.set_platform(
        thread_id, "bluesky", state="incomplete", attempts=1, next_retry_at=NOW, last_error="503"
    )
    ledger.add_warnings(
        thread_id,
        "bluesky",
        [
            Problem("warning", "link-card-failed", "post 2: no link card", "bluesky", 2),
            Problem("warning", "late", "published late", "bluesky", None),
        ],
        NOW,
    )
    return thread_id


def test_queue_lists_active_threads_with_local_time_and_progress(ledger: Ledger) -> None:
    assert queue_view(ledger, PARIS).lines() == ["Nothing scheduled."]
    thread_id = _scheduled(ledger)
    view = queue_view(ledger, PARIS)
    assert view.lines() == [
        f"{thread_id}  {'2026-03-01 15:00 CET':<22} {'scheduled':<10} bluesky 1/3  Cameras"
    ]
    (entry,) = view.to_json()["threads"]
    assert entry["schedule"] == "2026-03-01T15:00:00+01:00"
    assert entry["schedule_utc"] == "2026-03-01T14:00:00+00:00"
    assert entry["platforms"]["bluesky"] == {
        "state": "incomplete",
        "published": 1,
        "total": 3,
        "attempts": 1,
        "next_retry": "2026-03-01T13:00:00+01:00",
        "last_error": "503",
    }


def test_status_of_the_whole_ledger_names_the_draft(ledger: Ledger) -> None:
    assert ledger_view(ledger, PARIS).lines() == ["The ledger is empty."]
    thread_id = _scheduled(ledger)
    assert ledger_view(ledger, PARIS).lines() == [
        f"{thread_id}  {'scheduled':<10} bluesky 1/3  /drafts/cameras.md"
    ]


def test_status_of_one_thread_shows_retry_warnings_and_addresses(ledger: Ledger) -> None:
    thread_id = _scheduled(ledger)
    view = thread_status(ledger, thread_id[:6], PARIS)
    assert view.lines() == [
        f"Thread {thread_id}: scheduled  (/drafts/cameras.md)",
        "  scheduled for 2026-03-01 15:00 CET",
        "bluesky: incomplete, 1/3 published",
        "  next retry: 2026-03-01 13:00 CET (attempt 2)",  # one time format (issue 12)
        "  warning: post 2: no link card",
        "  warning: published late",
        "    1. https://bsky.example/post/1",
    ]
    bluesky = view.to_json()["platforms"]["bluesky"]
    assert [p["state"] for p in bluesky["posts"]] == ["confirmed", "planned", "planned"]
    assert bluesky["warnings"][0] == {
        "post": 2,
        "code": "link-card-failed",
        "message": "post 2: no link card",
    }


def test_zone_names_say_utc_for_every_alias_of_it() -> None:
    from zoneinfo import ZoneInfo

    from threadpost.clock import zone_name

    assert [zone_name(ZoneInfo(key)) for key in ("Etc/UTC", "UTC", "Etc/Universal")] == ["UTC"] * 3
    assert zone_name(PARIS) == "Europe/Paris"
