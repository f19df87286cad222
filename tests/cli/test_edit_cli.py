"""`threadpost edit ID` end to end through the CLI against the local Mastodon API test
server (issue 15, "Edit after publishing"): the changed posts are edited in place (PUT
/api/v1/statuses/:id, asserted on what the server stored and on its edit history), the
unchanged ones are not touched, media and alt text are kept, a second run sends nothing, a
different number of posts is refused, and the ledger records each edit."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import write_image
from mastodon_server.server import MastodonTestServer
from threadpost.store import open_ledger

THREE_POSTS = (
    "First post, as it was.\n---\nSecond post, with a chart.\n"
    "![A chart of sales](img/chart.png)\n---\nThird post, as it was.\n"
)


def _env(server: MastodonTestServer) -> dict[str, str]:
    return {
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": server.token,
    }


def _publish(server: MastodonTestServer, folder: Path, body: str = THREE_POSTS) -> tuple[Path, str]:
    write_image(folder / "img" / "chart.png")
    draft = folder / "thread.md"
    draft.write_text(f'+++\nplatforms = ["mastodon"]\n+++\n{body}', encoding="utf-8")
    published = run_cli("publish", "--yes", "--json", str(draft), env=_env(server))
    assert published.exit_code == 0, published.stderr
    return draft, json.loads(published.stdout)["thread"]


def _puts(server: MastodonTestServer) -> list[str]:
    return [r.path for r in server.requests_to("PUT", r"/api/v1/statuses/\w+")]


def test_edit_changes_only_the_changed_posts_and_keeps_media(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env)
    before = mastodon_server.published()
    media_id = before[1].media_ids[0]
    draft.write_text(
        draft.read_text()
        .replace("Second post, with a chart.", "Second post, corrected.")
        .replace("A chart of sales", "A bar chart of sales by year")
        .replace("Third post, as it was.", "Third post, fixed typo."),
        encoding="utf-8",
    )

    result = run_cli("edit", "--yes", thread_id[:5], env=_env(mastodon_server))
    assert result.exit_code == 0, result.stderr
    assert "mastodon post 2: edited (text, alt text)" in result.stdout
    assert "mastodon post 3: edited (text)" in result.stdout
    assert "post 1" not in result.stdout

    after = mastodon_server.published()
    assert [s.id for s in after] == [s.id for s in before]  # edited in place, no new status
    assert [s.text for s in after] == [
        "First post, as it was. 1/3",
        "Second post, corrected. 2/3",
        "Third post, fixed typo. 3/3",
    ]
    # Only posts 2 and 3 were sent; post 1 was not touched.
    assert _puts(mastodon_server) == [
        f"/api/v1/statuses/{after[1].id}",
        f"/api/v1/statuses/{after[2].id}",
    ]
    assert after[0].edited_at is None and after[1].edited_at and after[2].edited_at
    # The image stays attached, with its new alt text.
    assert after[1].media_ids == [media_id]
    assert mastodon_server.media[media_id].description == "A bar chart of sales by year"
    history = mastodon_server.status_json(after[1].id)
    assert history["edited_at"] is not None
    assert len(after[1].history) == 2  # the original, then the edit

    # The ledger holds each edit, and the post's new text hash.
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        edits = ledger.edits(thread_id, "mastodon")
        assert [(e.index, e.remote_id, e.text) for e in edits] == [
            (2, after[1].id, "Second post, corrected. 2/3"),
            (3, after[2].id, "Third post, fixed typo. 3/3"),
        ]
        assert all(e.remote_edited_at for e in edits)
        assert [p.text for p in ledger.plan(thread_id, "mastodon").posts][1] == (
            "Second post, corrected. 2/3"
        )

    # `status` shows which posts were edited, and when.
    shown = run_cli("status", thread_id, env=_env(mastodon_server))
    assert shown.exit_code == 0, shown.stderr
    edited_lines = [line for line in shown.stdout.splitlines() if "(edited " in line]
    assert [line.split(".")[0].strip() for line in edited_lines] == ["2", "3"]
    shown_json = json.loads(
        run_cli("status", "--json", thread_id, env=_env(mastodon_server)).stdout
    )
    posts = shown_json["platforms"]["mastodon"]["posts"]
    assert [p["edited_at"] is not None for p in posts] == [False, True, True]

    # A second run sends nothing.
    again = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert again.exit_code == 0, again.stderr
    assert "nothing to edit" in again.stdout
    assert len(_puts(mastodon_server)) == 2
    # And publish no longer offers an edit: the draft is what is online.
    publish = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert publish.exit_code != 0
    assert "threadpost edit" not in publish.stderr


def test_publish_of_a_changed_published_draft_names_the_edit_command(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env)
    unchanged = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert unchanged.exit_code == 1
    assert "already published as thread" in unchanged.stderr
    assert "threadpost edit" not in unchanged.stderr

    draft.write_text(draft.read_text().replace("as it was", "as it is"), encoding="utf-8")
    changed = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert changed.exit_code == 1
    assert f"threadpost edit {thread_id}" in changed.stderr
    assert "--again" in changed.stderr
    assert len(mastodon_server.status_posts()) == 3 and _puts(mastodon_server) == []


def test_dry_run_shows_the_edits_and_sends_nothing(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env)
    draft.write_text(draft.read_text().replace("First post, as it was.", "First post, now."))
    shown = run_cli("edit", "--dry-run", thread_id, env=_env(mastodon_server))
    assert shown.exit_code == 0, shown.stderr
    assert "mastodon post 1: would edit (text)" in shown.stdout
    assert "was: First post, as it was. 1/3" in shown.stdout
    assert "now: First post, now. 1/3" in shown.stdout
    as_json = json.loads(
        run_cli("edit", "--dry-run", "--json", thread_id, env=_env(mastodon_server)).stdout
    )
    assert as_json["status"] == "dry-run"
    assert [(e["post"], e["changes"], e["text"]) for e in as_json["edits"]] == [
        (1, ["text"], "First post, now. 1/3")
    ]
    assert _puts(mastodon_server) == []
    assert mastodon_server.published()[0].text == "First post, as it was. 1/3"


def test_edit_asks_first_and_sends_nothing_unconfirmed(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env)
    draft.write_text(draft.read_text().replace("First post, as it was.", "First post, now."))
    declined = run_cli("edit", thread_id, env=_env(mastodon_server), input="n\n")
    assert declined.exit_code == 1
    assert "not confirmed; nothing was edited" in declined.stderr
    assert _puts(mastodon_server) == []
    accepted = run_cli("edit", thread_id, env=_env(mastodon_server), input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert f"Edit thread {thread_id} (mastodon post 1) in place now?" in accepted.stdout
    assert mastodon_server.published()[0].text == "First post, now. 1/3"


def test_a_different_number_of_posts_is_refused(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env)
    draft.write_text(draft.read_text() + "---\nA fourth post.\n", encoding="utf-8")
    refused = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert refused.exit_code == 3
    assert "the draft now makes 4 post(s) on mastodon where 3 were published" in refused.stderr
    assert "nothing was edited" in refused.stderr
    assert _puts(mastodon_server) == []
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        assert ledger.edits(thread_id) == []


def test_a_changed_image_is_refused_naming_the_post(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env)
    write_image(isolated_env / "img" / "other.png", color="red")
    draft.write_text(
        draft.read_text()
        .replace("img/chart.png", "img/other.png")
        .replace("First post, as it was.", "First post, now."),
        encoding="utf-8",
    )
    refused = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert refused.exit_code == 3
    assert "mastodon post 2: its images changed" in refused.stderr
    # All or nothing: post 1's edit was not sent either.
    assert _puts(mastodon_server) == []


def test_a_post_grown_past_the_limit_splits_and_is_refused_as_a_count_change(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env, body="Short.\n")
    draft.write_text(draft.read_text().replace("Short.", "word " * 120), encoding="utf-8")
    # The draft now splits into more posts: refused as a count change, nothing sent.
    refused = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert refused.exit_code == 3
    assert "the draft now makes 2 post(s) on mastodon where 1 were published" in refused.stderr
    assert _puts(mastodon_server) == []


def test_a_status_deleted_on_the_instance_is_reported_by_post(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env)
    mastodon_server.statuses[mastodon_server.published()[0].id].deleted = True
    draft.write_text(draft.read_text().replace("First post, as it was.", "First post, now."))
    failed = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert failed.exit_code == 1
    assert "post 1" in failed.stderr and "no longer exists" in failed.stderr
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        assert ledger.edits(thread_id) == []


def test_an_edit_stopped_half_way_sends_only_the_rest_when_run_again(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env)
    draft.write_text(draft.read_text().replace("as it was.", "as it is now."), encoding="utf-8")
    mastodon_server.faults.add(
        "error", on_path="/api/v1/statuses/*", method="PUT", at_count=2, status=422
    )
    stopped = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert stopped.exit_code == 1
    assert "mastodon post 1: edited (text)" in stopped.stdout
    statuses = mastodon_server.published()
    assert [s.text for s in statuses][::2] == [
        "First post, as it is now. 1/3",
        "Third post, as it was. 3/3",
    ]
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        assert [e.index for e in ledger.edits(thread_id)] == [1]

    resumed = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert resumed.exit_code == 0, resumed.stderr
    assert "post 1" not in resumed.stdout
    assert "mastodon post 3: edited (text)" in resumed.stdout
    puts = _puts(mastodon_server)
    # post 1, post 3 refused, then post 3 again: post 1 was never sent twice.
    assert puts == [f"/api/v1/statuses/{statuses[i].id}" for i in (0, 2, 2)]
    assert mastodon_server.published()[2].text == "Third post, as it is now. 3/3"


def test_a_new_language_and_content_warning_are_edited_and_reported_as_json(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env, body="Bonjour.\n---\nAu revoir.\n")
    draft.write_text(
        draft.read_text().replace("+++\nBonjour", 'lang = "fr"\ncw = "salutations"\n+++\nBonjour'),
        encoding="utf-8",
    )
    result = run_cli("edit", "--yes", "--json", thread_id, env=_env(mastodon_server))
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "edited"
    assert [(e["post"], e["changes"], e["edited"]) for e in report["edits"]] == [
        (1, ["content warning", "language"], True),
        (2, ["content warning", "language"], True),
    ]
    # The instance marks a status behind a content warning sensitive itself.
    statuses = mastodon_server.published()
    assert [(s.language, s.spoiler_text, s.sensitive) for s in statuses] == [
        ("fr", "salutations", True),
        ("fr", "salutations", True),
    ]


def test_a_changed_visibility_is_refused(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env)
    draft.write_text(
        draft.read_text().replace("+++\nFirst", 'visibility = "unlisted"\n+++\nFirst'),
        encoding="utf-8",
    )
    refused = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert refused.exit_code == 3
    assert "mastodon post 1: its visibility would change from public to unlisted" in refused.stderr
    assert _puts(mastodon_server) == []


def test_a_transient_failure_of_an_edit_is_retried(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, thread_id = _publish(mastodon_server, isolated_env)
    draft.write_text(draft.read_text().replace("First post, as it was.", "First post, now."))
    mastodon_server.faults.add(
        "error", on_path="/api/v1/statuses/*", method="PUT", at_count=1, status=503
    )
    result = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert result.exit_code == 0, result.stderr
    assert "retrying" in result.stderr
    first = mastodon_server.published()[0]
    assert _puts(mastodon_server) == [f"/api/v1/statuses/{first.id}"] * 2
    assert first.text == "First post, now. 1/3"
