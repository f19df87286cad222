"""The watch loop in-process: polling, re-planning, the event stream, online cards."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bluesky_support import CARD_TITLE, serve_pages
from threadpost.config import Settings
from threadpost.watch import Revision, Watch, signature, start_watch


def settings(tmp_path: Path) -> Settings:
    return Settings(
        config_path=None,
        db_path=tmp_path / "db.sqlite",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
    )


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    path = tmp_path / "d.md"
    path.write_text("First version.\n", encoding="utf-8")
    return path


@pytest.fixture
def running(draft: Path, tmp_path: Path) -> Iterator[Watch]:
    watch = start_watch(draft, settings(tmp_path), offline=True)
    yield watch
    watch.close()


def next_revisions(watch: Watch, count: int, change: object) -> list[Revision]:
    """Run the loop in a thread until it re-planned `count` times after `change()`."""
    stop = threading.Event()
    got: list[Revision] = []

    def loop() -> None:
        for revision in watch.updates(stop, poll=0.02):
            got.append(revision)
            if len(got) >= count:
                stop.set()

    worker = threading.Thread(target=loop)
    worker.start()
    change()  # type: ignore[operator]
    worker.join(timeout=10)
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    return got


def test_signature_sees_edits_creation_and_removal(tmp_path: Path) -> None:
    path = tmp_path / "f"
    assert signature([path]) == (None,)
    path.write_text("a")
    first = signature([path])
    path.write_text("ab")
    assert signature([path]) != first
    path.unlink()
    assert signature([path]) == (None,)


def test_a_save_is_replanned_once_and_served(running: Watch, draft: Path) -> None:
    assert "First version." in running.server.revision.html
    [revision] = next_revisions(
        running, 1, lambda: draft.write_text("Second version.\n", encoding="utf-8")
    )
    assert revision.version == 2
    assert "Second version." in revision.html
    assert running.server.revision is revision


def test_the_event_stream_sends_each_revision(running: Watch, draft: Path) -> None:
    host, port = running.server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    connection.request("GET", "/events")
    answer = connection.getresponse()
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/event-stream")

    def read_event() -> dict[str, object]:
        lines: list[bytes] = []
        while True:
            line = answer.fp.readline()
            if line == b"\n" and any(part.startswith(b"data:") for part in lines):
                break
            lines.append(line)
        data = next(part for part in lines if part.startswith(b"data:"))
        value: dict[str, object] = json.loads(data[5:])
        return value

    assert read_event()["version"] == 1
    next_revisions(running, 1, lambda: draft.write_text("Third.\n", encoding="utf-8"))
    event = read_event()
    assert event["version"] == 2
    assert "Third." in str(event["html"])
    connection.close()


def test_stopping_ends_open_streams_and_closes_the_socket(draft: Path, tmp_path: Path) -> None:
    watch = start_watch(draft, settings(tmp_path), offline=True)
    host, port = watch.server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    connection.request("GET", "/events")
    answer = connection.getresponse()
    started = time.monotonic()
    watch.close()
    assert answer.read()  # the stream ends (instead of waiting for the next keep-alive)
    assert time.monotonic() - started < 5
    assert not watch.thread.is_alive()
    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection(str(host), int(port), timeout=5).connect()


def test_online_a_card_is_fetched_once_and_shown(tmp_path: Path) -> None:
    with serve_pages() as pages:
        draft = tmp_path / "d.md"
        draft.write_text(f"Read {pages.url('/article')} now.\n", encoding="utf-8")
        watch = start_watch(draft, settings(tmp_path), ["bluesky"], offline=False)
        try:
            html = watch.server.revision.html
            assert 'data-card="cached"' in html
            assert CARD_TITLE in html
            next_revisions(
                watch, 1, lambda: draft.write_text(f"Read {pages.url('/article')} again.\n")
            )
            # Its card (and the card's image) is not fetched again on the next save.
            assert pages.hits["/og.png"] == 1
        finally:
            watch.close()


def test_a_save_before_the_loop_first_looks_is_not_missed(running: Watch, draft: Path) -> None:
    """The loop compares with the files as the revision read them, not as they are when
    it starts polling (a save in between was lost)."""
    draft.write_text("Saved before the first poll.\n", encoding="utf-8")
    [revision] = next_revisions(running, 1, lambda: None)
    assert "Saved before the first poll." in revision.html


def test_a_port_in_use_is_a_clear_error(running: Watch, draft: Path, tmp_path: Path) -> None:
    from threadpost.errors import ThreadpostError

    taken = int(running.server.server_address[1])
    with pytest.raises(ThreadpostError, match=rf"cannot serve the preview on 127\.0\.0\.1:{taken}"):
        start_watch(draft, settings(tmp_path), offline=True, port=taken)


def test_only_the_drafts_images_are_served_by_number(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (5, 5)).save(tmp_path / "a.png")
    draft = tmp_path / "d.md"
    draft.write_text("One.\n![a](a.png)\n\n---\n\nTwo.\n![again](a.png)\n", encoding="utf-8")
    watch = start_watch(draft, settings(tmp_path), offline=True)
    try:
        revision = watch.server.revision
        assert revision.media == {"/media/0": tmp_path / "a.png"}
        assert revision.html.count('src="/media/0?v=') == 4  # two posts, two networks
    finally:
        watch.close()
