"""Per-post content warnings, polls and quotes on Mastodon (issue 15), end to end: `check`,
`preview`, `publish --dry-run` and `publish` through the CLI against the local Mastodon API
test server, asserting on what the server itself stored."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import write_image
from mastodon_server.server import MastodonTestServer


def _env(server: MastodonTestServer) -> dict[str, str]:
    return {
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": server.token,
    }


def _draft(folder: Path, body: str, front: str = "") -> Path:
    path = folder / "thread.md"
    path.write_text(f'+++\nplatforms = ["mastodon"]\n{front}+++\n{body}', encoding="utf-8")
    return path


# -- content warnings per post ------------------------------------------------------------

CW_BODY = "Plain first post.\n---\n> cw: spoilers for episode 3\nThe twist.\n---\nLast post.\n"


def test_a_post_cw_is_stored_on_its_status_only(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, CW_BODY)
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    statuses = mastodon_server.published()
    assert [s.spoiler_text for s in statuses] == ["", "spoilers for episode 3", ""]
    assert statuses[1].text == "The twist. 2/3"
    # The instance marks a status behind a content warning sensitive.
    assert [s.sensitive for s in statuses] == [False, True, False]


def test_a_post_cw_replaces_the_thread_cw(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, CW_BODY, front='cw = "politics"\n')
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    assert [s.spoiler_text for s in mastodon_server.published()] == [
        "politics",
        "spoilers for episode 3",
        "politics",
    ]


def test_preview_and_dry_run_show_the_post_cw(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, CW_BODY)
    env = _env(mastodon_server)
    preview = run_cli("preview", str(draft), env=env)
    assert preview.exit_code == 0, preview.stderr
    assert preview.stdout.count("CW: spoilers for episode 3") == 1
    as_json = json.loads(run_cli("preview", "--json", str(draft), env=env).stdout)
    posts = as_json["platforms"]["mastodon"]["posts"]
    assert [p["cw"] for p in posts] == [None, "spoilers for episode 3", None]
    dry = run_cli("publish", "--dry-run", "--json", str(draft), env=env)
    assert dry.exit_code == 0, dry.stderr
    payloads = json.loads(dry.stdout)["platforms"]["mastodon"]["payloads"]
    assert [p["spoiler_text"] for p in payloads] == [None, "spoilers for episode 3", None]
    html = isolated_env / "p.html"
    assert run_cli("preview", str(draft), "--html", str(html), env=env).exit_code == 0
    assert html.read_text().count("CW: spoilers for episode 3") == 1
    assert mastodon_server.published() == []


def test_check_warns_that_bluesky_does_not_show_a_post_cw(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    path = isolated_env / "both.md"
    path.write_text(CW_BODY, encoding="utf-8")
    checked = run_cli("check", "--offline", str(path), env=_env(mastodon_server))
    assert checked.exit_code == 0, checked.stdout
    out = checked.stdout.replace("\n", " ")
    assert f"{path}:3 bluesky post 2: warning: post 2's content warning" in out
    assert "[content-warning-not-on-bluesky]" in out


# -- polls --------------------------------------------------------------------------------

POLL_BODY = (
    "Intro post.\n---\nWhat do you drink?\n> poll Tea | Coffee | Water\n"
    "> poll-duration 3d\n> poll-multiple\n> poll-hide-totals\n---\nThanks.\n"
)


def test_a_poll_is_published_on_its_status(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, POLL_BODY)
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    first, second, third = mastodon_server.published()
    assert first.poll is None and third.poll is None
    assert second.poll is not None
    assert second.poll.options == ["Tea", "Coffee", "Water"]
    assert (second.poll.multiple, second.poll.hide_totals) == (True, True)
    assert round((second.poll.expires_at - second.created_at).total_seconds()) == 3 * 86_400
    assert second.in_reply_to_id == first.id
    shown = mastodon_server.status_json(second.id)["poll"]
    assert [option["title"] for option in shown["options"]] == ["Tea", "Coffee", "Water"]


def test_check_refuses_a_poll_over_the_instances_limits_and_nothing_is_sent(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(poll_max_options=2)
    draft = _draft(isolated_env, POLL_BODY)
    env = _env(mastodon_server)
    checked = run_cli("check", str(draft), env=env)
    assert checked.exit_code == 3, checked.stdout
    out = checked.stdout.replace("\n", " ")
    assert f"{draft}:7 mastodon post 2: error: post 2's poll has 3 options; the instance" in out
    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 3
    assert mastodon_server.status_posts() == []


def test_a_poll_with_an_image_is_refused_before_anything_is_sent(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    write_image(isolated_env / "cat.png")
    draft = _draft(isolated_env, "Q?\n![a cat](cat.png)\n> poll Yes | No\n")
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 3
    assert "mastodon post 1: post 1 has a poll and 1 image" in published.stderr
    assert mastodon_server.requests_to("POST", "/api/v[12]/(statuses|media)") == []


def test_preview_and_dry_run_show_the_poll(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, POLL_BODY)
    env = _env(mastodon_server)
    preview = run_cli("preview", str(draft), env=env)
    assert preview.exit_code == 0, preview.stderr
    assert "Poll: Tea | Coffee | Water (3 days · multiple choice · totals hidden)" in preview.stdout
    posts = json.loads(run_cli("preview", "--json", str(draft), env=env).stdout)["platforms"][
        "mastodon"
    ]["posts"]
    assert [p["poll"] for p in posts] == [
        None,
        {
            "options": ["Tea", "Coffee", "Water"],
            "expires_in": 259_200,
            "multiple": True,
            "hide_totals": True,
        },
        None,
    ]
    dry = json.loads(run_cli("publish", "--dry-run", "--json", str(draft), env=env).stdout)
    payloads = dry["platforms"]["mastodon"]["payloads"]
    assert payloads[1]["poll"] == posts[1]["poll"]
    assert payloads[0]["poll"] is None
    assert mastodon_server.status_posts() == []


def test_check_warns_that_a_poll_is_left_out_on_bluesky(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    path = isolated_env / "both.md"
    path.write_text(POLL_BODY, encoding="utf-8")
    checked = run_cli("check", "--offline", str(path), env=_env(mastodon_server))
    assert checked.exit_code == 0, checked.stdout
    out = checked.stdout.replace("\n", " ")
    assert f"{path}:4 bluesky post 2: warning: post 2's poll (Tea | Coffee | Water)" in out
    assert "[poll-not-on-bluesky]" in out


# -- quotes -------------------------------------------------------------------------------


def _existing_status(server: MastodonTestServer, text: str = "The original post.") -> str:
    """A status already on the instance (as another thread of the author's); its url."""
    answer = httpx.post(
        f"{server.url}/api/v1/statuses",
        data={"status": text},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["url"])


def test_a_quote_is_published_with_quoted_status_id_where_the_instance_quotes(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    address = _existing_status(mastodon_server)
    (original,) = mastodon_server.published()
    draft = _draft(isolated_env, f"First.\n---\nAbout this:\n> quote {address}\n")
    env = _env(mastodon_server)
    checked = run_cli("check", str(draft), env=env)
    assert checked.exit_code == 0, checked.stdout
    # No warning: the instance quotes (the draft's path, named first, may hold "quote").
    assert checked.stdout.rstrip().endswith("0 errors · 0 warnings")
    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 0, published.stderr
    _, first, second = mastodon_server.published()
    assert (first.quoted_status_id, second.quoted_status_id) == (None, original.id)
    assert second.text == "About this: 2/2"  # the address is not in the text
    (search,) = mastodon_server.requests_to("GET", "/api/v2/search")
    assert search.query["q"] == [address]
    assert search.query["type"] == ["statuses"]
    assert search.query["resolve"] in (["1"], ["true"])
    quote = mastodon_server.status_json(second.id)["quote"]
    assert quote["quoted_status"]["id"] == original.id


def test_without_quote_support_the_address_is_a_link_in_the_text_with_a_warning(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    address = _existing_status(mastodon_server)
    draft = _draft(isolated_env, f"About this:\n> quote {address}\n---\nSecond.\n")
    env = _env(mastodon_server)
    checked = run_cli("check", str(draft), env=env)
    assert checked.exit_code == 0, checked.stdout
    out = checked.stdout.replace("\n", " ")
    assert f"{draft}:5 mastodon post 1: warning: post 1 quotes {address}, but the instance" in out
    assert "api_versions.mastodon ≥ 7" in out and "[quote-as-link]" in out
    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 0, published.stderr
    _, first, _ = mastodon_server.published()
    assert first.text == f"About this:\n\n{address} 1/2"
    assert first.quoted_status_id is None
    assert mastodon_server.requests_to("GET", "/api/v2/search") == []


def test_a_quoted_post_the_instance_cannot_find_stops_the_thread_before_anything_is_sent(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    missing = f"{mastodon_server.url}/@alice/123456"
    draft = _draft(isolated_env, f"First.\n---\nAbout this:\n> quote {missing}\n")
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 1, published.stderr
    assert "mastodon: failed, 0/2 posts" in published.stdout
    assert f"post 2 (draft line 7) quotes {missing}" in published.stderr.replace("\n", " ")
    assert "finds no such post" in published.stderr.replace("\n", " ")
    assert mastodon_server.status_posts() == []


def test_a_quote_that_is_no_web_address_is_a_check_error_for_mastodon(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, "Look.\n> quote at://did:plc:abc/app.bsky.feed.post/3aaa\n")
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 3
    assert "which is no web address" in published.stderr.replace("\n", " ")
    assert mastodon_server.status_posts() == []


def test_preview_and_dry_run_show_the_quote(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    address = _existing_status(mastodon_server)
    draft = _draft(isolated_env, f"About this:\n> quote {address}\n")
    env = _env(mastodon_server)
    # Offline, before the instance was ever read (nothing cached), it is unknown: the dry
    # run shows the link in the text instead.
    offline = json.loads(
        run_cli("publish", "--dry-run", "--json", "--offline", str(draft), env=env).stdout
    )
    (payload,) = offline["platforms"]["mastodon"]["payloads"]
    assert (payload["status"], payload["quoted_status_id"]) == (f"About this:\n\n{address}", None)
    assert [p["code"] for p in offline["problems"]] == ["quote-as-link"]
    assert "offline, the instance is not known" in offline["problems"][0]["message"]

    preview = run_cli("preview", str(draft), env=env)
    assert f"Quotes: {address}" in preview.stdout.replace("\n", "")
    dry = json.loads(run_cli("publish", "--dry-run", "--json", str(draft), env=env).stdout)
    (payload,) = dry["platforms"]["mastodon"]["payloads"]
    assert payload["quoted_status_id"] == f"<id of {address}>"
    assert payload["status"] == "About this:"
    assert dry["problems"] == []
    assert len(mastodon_server.published()) == 1  # only the quoted post
