"""The CLI paths a user meets around publishing that test_publishing.py leaves out: the delete
prompt, plain-text status of every thread and of an unfinished one, `run` and `queue` with
nothing to do, `publish --dry-run`, and the publish prompt actually sending."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_support import run_cli, write_cron_logins
from fakes import TWO_POST_DRAFT, FakePublisher, FakeServer, install_fake_network
from threadpost.cli import terminal


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def network(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, server: FakeServer
) -> Iterator[dict[str, FakePublisher]]:
    """Fake publishers behind `platforms.open_publisher`; fixed limits, no network."""
    write_cron_logins(isolated_env / "config.toml")  # `schedule` wants logins cron has
    yield install_fake_network(monkeypatch, server)


def _draft(folder: Path) -> Path:
    path = folder / "cameras.md"
    path.write_text(TWO_POST_DRAFT)
    return path


def _publish(folder: Path) -> str:
    result = run_cli("publish", str(_draft(folder)), "--yes")
    assert result.exit_code == 0, result.stderr
    return result.stdout.split()[1].rstrip(":")


def test_the_publish_prompt_sends_only_when_accepted(
    isolated_env: Path,
    network: dict[str, FakePublisher],
    server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from threadpost.cli import terminal

    draft = _draft(isolated_env)
    # With no terminal to ask on, --yes is required (issue 12): a usage error.
    unasked = run_cli("publish", str(draft), input="n\n")
    assert unasked.exit_code == 2
    assert "pass --yes" in unasked.stderr
    assert server.posts() == []
    monkeypatch.setattr(terminal, "stdin_is_terminal", lambda: True)
    refused = run_cli("publish", str(draft), input="n\n")
    # Declining is an answer, not a failure: exit 0.
    assert refused.exit_code == 0
    assert "nothing was sent" in refused.stderr
    assert server.posts() == []
    accepted = run_cli("publish", str(draft), input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    # Each post once (the two networks publish at once: their order is not fixed).
    assert sorted((p["platform"], p["idx"]) for p in server.posts()) == [
        ("bluesky", 1),
        ("bluesky", 2),
        ("mastodon", 1),
        ("mastodon", 2),
    ]


def test_delete_asks_first_and_a_refusal_deletes_nothing(
    isolated_env: Path,
    network: dict[str, FakePublisher],
    server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    thread_id = _publish(isolated_env)
    # Without a terminal nothing can answer: a usage error naming --yes, nothing deleted.
    unasked = run_cli("delete", thread_id, input="y\n")
    assert unasked.exit_code == 2
    assert "standard input is not a terminal" in unasked.stderr and "--yes" in unasked.stderr
    monkeypatch.setattr(terminal, "stdin_is_terminal", lambda: True)
    refused = run_cli("delete", thread_id, input="n\n")
    # Declining is a choice, not a failure (as for publish).
    assert refused.exit_code == 0
    assert f"Delete thread {thread_id}'s posts from mastodon, bluesky?" in refused.stdout
    assert "Not confirmed: nothing was deleted." in refused.stderr
    assert not any(call == "delete" for p in network.values() for call, _ in p.calls)
    assert all(post["deleted"] == 0 for post in server.posts())
    assert json.loads(run_cli("status", thread_id, "--json").stdout)["state"] == "published"

    accepted = run_cli("delete", thread_id, "--platform", "bluesky", input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert "posts from bluesky?" in accepted.stdout
    assert network["bluesky"].calls[-1] == ("delete", [2, 1])
    assert [p["deleted"] for p in server.posts("bluesky")] == [1, 1]
    assert [p["deleted"] for p in server.posts("mastodon")] == [0, 0]


def test_status_of_every_thread_in_text(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    empty = run_cli("status")
    assert empty.exit_code == 0
    assert empty.stdout.strip() == "The ledger is empty."
    assert json.loads(run_cli("status", "--json").stdout) == {"threads": []}

    thread_id = _publish(isolated_env)
    listed = run_cli("status")
    assert listed.exit_code == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert line.startswith(f"{thread_id}  published")
    assert "mastodon 2/2, bluesky 2/2" in line
    assert line.endswith("cameras.md")


def test_status_of_an_unfinished_thread_says_what_failed_and_when_it_resumes(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    network["bluesky"].fail_at(2, "transient", times=99)
    result = run_cli("publish", str(_draft(isolated_env)), "--yes")
    assert result.exit_code == 4
    assert "threadpost run resumes it from" in result.stderr
    thread_id = result.stdout.split()[1].rstrip(":")

    status = run_cli("status", thread_id)
    assert status.exit_code == 0, status.stderr
    assert f"Thread {thread_id}: incomplete" in status.stdout
    assert "mastodon: published, 2/2 published" in status.stdout
    assert "bluesky: incomplete, 1/2 published" in status.stdout
    assert "next retry: " in status.stdout
    assert "(attempt " in status.stdout


def test_run_and_queue_with_nothing_to_do(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    idle = run_cli("run", "-v")
    assert idle.exit_code == 0
    # A log line: the local time (Europe/Paris in isolated_env), then the message.
    assert re.fullmatch(
        r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T\] Nothing due\.", idle.stdout.strip()
    )
    # Without -v a cron tick with nothing due is silent.
    quiet = run_cli("run")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    idle_json = json.loads(run_cli("run", "--json").stdout)
    assert idle_json == {"items": [], "waiting": 0, "next_due": None}
    queue = run_cli("queue")
    assert (queue.exit_code, queue.stdout.strip()) == (0, "Nothing scheduled.")

    scheduled = run_cli("schedule", str(_draft(isolated_env)), "--at", "+2h")
    assert scheduled.exit_code == 0, scheduled.stderr
    waiting = json.loads(run_cli("run", "--json").stdout)
    assert (waiting["items"], waiting["waiting"]) == ([], 1)
    assert waiting["next_due"].endswith(("+01:00", "+02:00"))  # local time, Europe/Paris
    assert network["mastodon"].calls == []


def test_publish_dry_run_sends_nothing_and_records_nothing(
    isolated_env: Path, network: dict[str, FakePublisher], server: FakeServer
) -> None:
    result = run_cli("publish", str(_draft(isolated_env)), "--dry-run", "--offline", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert server.posts() == []
    assert not any(call == "send" for p in network.values() for call, _ in p.calls)
    assert json.loads(run_cli("queue", "--json").stdout) == {"threads": []}
    text = run_cli("publish", str(_draft(isolated_env)), "--dry-run", "--offline")
    assert text.exit_code == 0, text.stderr
    assert "Cities buy cameras." in text.stdout
