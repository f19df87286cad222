"""Mention aliases: rewritten per platform before planning, counted and faceted as sent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from threadpost.aliases import alias_draft, apply_aliases, unaliased_names
from threadpost.check import plan_draft
from threadpost.config import Alias, Settings, load_settings
from threadpost.draft import parse_draft
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS

ALIASES = {
    "@SomeName": Alias(mastodon="@some@instance.social", bluesky="@some.bsky.social"),
    "OnlyMasto": Alias(mastodon="only@example.social"),
    "@ab": Alias(mastodon="@ab@one.example", bluesky="ab.example.com"),
    "@ab_c": Alias(mastodon="@abc@two.example", bluesky="abc.example.com"),
}


@pytest.mark.parametrize(
    ("text", "mastodon", "bluesky"),
    [
        (
            "Thanks @SomeName!",
            "Thanks @some@instance.social!",
            "Thanks @some.bsky.social!",
        ),
        # X names are case-insensitive; the sentence's full stop stays.
        ("cc @somename.", "cc @some@instance.social.", "cc @some.bsky.social."),
        ("(@SomeName)", "(@some@instance.social)", "(@some.bsky.social)"),
        # Longest name first; the leading "@" in config is optional on both sides.
        (
            "@ab_c and @ab",
            "@abc@two.example and @ab@one.example",
            "@abc.example.com and @ab.example.com",
        ),
        # No Bluesky alias: left as written there.
        ("hi @OnlyMasto", "hi @only@example.social", "hi @OnlyMasto"),
    ],
)
def test_names_become_each_networks_account(text: str, mastodon: str, bluesky: str) -> None:
    assert apply_aliases(text, ALIASES, "mastodon") == mastodon
    assert apply_aliases(text, ALIASES, "bluesky") == bluesky


@pytest.mark.parametrize(
    "text",
    [
        "mail me@SomeName",  # an e-mail address
        "https://x.com/@SomeName",  # a URL path
        "@SomeNameLonger is someone else",
        "@SomeName.bsky.social is a handle already",
        "@SomeName@mastodon.social is an address already",
        "@other@SomeName",
    ],
)
def test_names_inside_other_things_are_left_alone(text: str) -> None:
    assert apply_aliases(text, ALIASES, "mastodon") == text
    assert apply_aliases(text, ALIASES, "bluesky") == text


def test_unaliased_twitter_style_names() -> None:
    text = "@SomeName met @Other_1 and @other_1, @x.bsky.social, @a@b.social, me@mail.example"
    assert unaliased_names(text, ALIASES) == ["Other_1", "other_1"]


def draft_text() -> bytes:
    return b"Thanks @SomeName for the tip.\n---\nAnd @SomeName again, with @Nobody.\n"


def test_plan_counts_the_alias_mastodon_domain_free() -> None:
    draft = parse_draft(draft_text(), "d.md")
    thread = plan_thread(draft, MASTODON_DEFAULT_LIMITS, aliases=ALIASES)
    first = thread.posts[0]
    assert first.text == "Thanks @some@instance.social for the tip. 1/2"
    # @user@domain counts as @user on Mastodon.
    assert first.length == len("Thanks @some for the tip. 1/2")
    [mention] = [f for f in first.facets if f.kind == "mention"]
    assert first.text.encode()[mention.byte_start : mention.byte_end] == b"@some@instance.social"


def test_plan_bluesky_facet_points_at_the_alias_handle() -> None:
    draft = parse_draft("Café ☕ with @SomeName today.\n".encode(), "d.md")
    [post] = plan_thread(draft, BLUESKY_LIMITS, aliases=ALIASES).posts
    assert post.text == "Café ☕ with @some.bsky.social today."
    [mention] = [f for f in post.facets if f.kind == "mention"]
    assert mention.value == "some.bsky.social"
    data = post.text.encode()
    assert data[mention.byte_start : mention.byte_end] == b"@some.bsky.social"
    assert mention.byte_start == len("Café ☕ with ".encode())
    assert post.length == len(post.text)  # graphemes: no combining characters here


def test_aliases_can_make_a_post_need_splitting() -> None:
    # 299 graphemes fit Bluesky's 300 as written; with the 17-character handle, 307 do not.
    text = "@SomeName " + "word " * 58
    draft = parse_draft(text.encode(), "d.md")
    assert len(plan_thread(draft, BLUESKY_LIMITS).posts) == 1
    aliased = plan_thread(draft, BLUESKY_LIMITS, aliases=ALIASES)
    assert len(aliased.posts) == 2
    assert all(post.length <= 300 for post in aliased.posts)


def test_alias_draft_keeps_lines_and_images(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"x")
    draft = parse_draft(b"one\n@SomeName two\n![alt](a.png)\n", tmp_path / "d.md")
    aliased = alias_draft(draft, ALIASES, "bluesky")
    [post] = aliased.posts
    assert post.text == "one\n@some.bsky.social two"
    assert post.text_lines == draft.posts[0].text_lines
    assert post.images == draft.posts[0].images
    assert alias_draft(draft, {}, "bluesky") is draft


def test_config_aliases_reach_check_plan_for_every_platform(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[aliases]\n"@SomeName" = { mastodon = "@some@instance.social", '
        'bluesky = "@some.bsky.social" }\n'
    )
    settings = load_settings(config, tmp_path / "db", environ={})
    draft = parse_draft(b"Hello @SomeName\n", tmp_path / "d.md")
    threads = plan_draft(draft, settings, offline=True)
    assert threads["mastodon"].posts[0].text == "Hello @some@instance.social"
    assert threads["bluesky"].posts[0].text == "Hello @some.bsky.social"
    plain = plan_draft(draft, replace(settings, aliases={}), offline=True)
    assert plain["bluesky"].posts[0].text == "Hello @SomeName"


def test_settings_default_has_no_aliases(tmp_path: Path) -> None:
    settings = Settings(None, tmp_path / "db", tmp_path, load_settings(environ={}).timezone)
    draft = parse_draft(b"Hello @SomeName\n", tmp_path / "d.md")
    assert plan_draft(draft, settings, offline=True)["bluesky"].posts[0].text == "Hello @SomeName"
