"""The page renderer: each network's look (link text, cards, CW, labels, image grids,
accounts) from the plan, for the static page and the live one alike."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from threadpost.check import check_draft
from threadpost.config import Settings
from threadpost.platforms.bluesky.session import SavedSession, save_session
from threadpost.preview_accounts import preview_accounts
from threadpost.preview_html import (
    LIVE_CSP,
    STATIC_CSP,
    mastodon_link_display,
    render_html,
    render_live_page,
    render_preview,
)
from threadpost.saved_login import SavedLogin, save_credentials


def settings(tmp_path: Path, **bluesky: str) -> Settings:
    from threadpost.config import BlueskySettings

    return Settings(
        config_path=None,
        db_path=tmp_path / "db.sqlite",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
        bluesky=BlueskySettings(**bluesky),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("url", "prefix", "shown", "rest"),
    [
        ("https://example.com/a", "https://", "example.com/a", ""),
        ("http://www.example.com/", "http://www.", "example.com/", ""),
        ("https://example.com/" + "b" * 18, "https://", "example.com/" + "b" * 18, ""),
        ("https://example.com/" + "b" * 19, "https://", "example.com/" + "b" * 18, "b"),
        ("https://wwwx.example.com/", "https://", "wwwx.example.com/", ""),
        ("xmpp:someone@example.com", "xmpp:", "someone@example.com", ""),
    ],
)
def test_mastodon_shows_links_without_scheme_cut_at_30(
    url: str, prefix: str, shown: str, rest: str
) -> None:
    display = mastodon_link_display(url)
    assert (display.prefix, display.shown, display.rest) == (prefix, shown, rest)
    assert display.prefix + display.shown + display.rest == url
    assert len(display.shown) <= 30
    assert display.cut is bool(rest)


def images_draft(tmp_path: Path, count: int) -> str:
    from PIL import Image

    lines = []
    for n in range(count):
        Image.new("RGB", (8, 8), (n * 40, 0, 0)).save(tmp_path / f"p{n}.png")
        lines.append(f"![picture {n}](p{n}.png)")
    return "\n".join(lines)


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_images_sit_in_the_apps_grid_with_alt_badges(tmp_path: Path, count: int) -> None:
    draft = tmp_path / "d.md"
    draft.write_text(f"Pictures.\n{images_draft(tmp_path, count)}\n", encoding="utf-8")
    page = render_html(check_draft(draft, settings(tmp_path), offline=True))
    assert page.count(f'<div class="images grid-{count}" data-count="{count}">') == 2
    assert page.count('<span class="alt-badge" title="has alt text">ALT</span>') == 2 * count
    # A post with images gets no link card.
    assert 'class="card' not in page


def link_report(tmp_path: Path, front: str = "") -> str:
    draft = tmp_path / "d.md"
    draft.write_text(f"{front}Read https://example.com/page please.\n", encoding="utf-8")
    return render_html(check_draft(draft, settings(tmp_path), offline=True))


def section(page: str, platform: str) -> str:
    start = page.index(f'<section class="network {platform}"')
    return page[start : page.index("</section>", start)]


def test_link_cards_are_placeholders_where_each_network_makes_them(tmp_path: Path) -> None:
    page = link_report(tmp_path)
    for platform in ("mastodon", "bluesky"):
        card = section(page, platform)
        assert 'data-card="placeholder" data-uri="https://example.com/page"' in card
        assert '<span class="card-host">example.com</span>' in card
    assert "the instance makes this card" in section(page, "mastodon")
    assert "threadpost fetches this card when publishing" in section(page, "bluesky")
    # link_cards = false: Bluesky sends none; the Mastodon instance still makes its own.
    off = link_report(tmp_path, "+++\nlink_cards = false\n+++\n")
    assert 'class="card' not in section(off, "bluesky")
    assert 'class="card' in section(off, "mastodon")


def test_bluesky_shows_link_text_shortened_as_its_app_does(tmp_path: Path) -> None:
    """The app shows every link facet through toShortUrl, whatever the text sent."""
    long = "https://example.com/" + "segment/" * 8
    draft = tmp_path / "d.md"
    draft.write_text(f"Read {long}\n", encoding="utf-8")
    shown = '<span class="shown">example.com/segment/segm...</span></a>'
    page = render_html(check_draft(draft, settings(tmp_path), offline=True))
    bluesky = section(page, "bluesky")
    assert f'<a class="link" href="{long}" rel="noopener noreferrer nofollow">{shown}' in bluesky
    assert f"Read {long}" not in bluesky  # the text sent is the full link, not what shows
    # With shorten_links the text sent is already short: it shows the same.
    draft.write_text(f"+++\nshorten_links = true\n+++\nRead {long}\n", encoding="utf-8")
    page = render_html(check_draft(draft, settings(tmp_path), offline=True))
    assert shown in section(page, "bluesky")
    # A short link shows whole, without its scheme.
    draft.write_text("Read https://example.com/a\n", encoding="utf-8")
    page = render_html(check_draft(draft, settings(tmp_path), offline=True))
    assert '<span class="shown">example.com/a</span></a>' in section(page, "bluesky")


def test_cw_collapses_mastodon_posts_and_labels_show(tmp_path: Path) -> None:
    draft = tmp_path / "d.md"
    draft.write_text(
        '+++\ncw = "spoilers"\nlang = "fr"\nsensitive = true\n+++\nUn.\n\n---\n\nDeux.\n'
        f"{images_draft(tmp_path, 1)}\n",
        encoding="utf-8",
    )
    page = render_html(check_draft(draft, settings(tmp_path), offline=True))
    mastodon, bluesky = section(page, "mastodon"), section(page, "bluesky")
    assert mastodon.count('<details class="cw"><summary><span class="cw-text">CW: spoilers') == 2
    assert "<details" not in bluesky
    assert "Bluesky has no content warnings" in bluesky
    labels = re.findall(r'data-label="(\w+)">([^<]*)<', mastodon)
    assert labels == [
        ("visibility", "public"),
        ("lang", "lang fr"),
        ("visibility", "unlisted"),
        ("sensitive", "sensitive media"),
        ("lang", "lang fr"),
        ("reply", "reply to 1"),
    ]
    assert re.findall(r'data-label="(\w+)"', bluesky) == ["lang", "lang", "reply"]
    # The reply-chain line joins post 1 to post 2 only.
    assert mastodon.count('<span class="chain"></span>') == 1


def test_the_author_is_the_saved_login_or_a_marked_placeholder(tmp_path: Path) -> None:
    plain = settings(tmp_path)
    draft = tmp_path / "d.md"
    draft.write_text("Hello.\n", encoding="utf-8")
    report = check_draft(draft, plain, offline=True)
    page = render_preview(report, preview_accounts(plain), images=lambda image: None)
    assert page.count("placeholder account: log in to see yours") == 2
    save_credentials(
        plain.state_dir,
        SavedLogin(instance="https://masto.test", access_token="secret", account="ada@masto.test"),
    )
    logged = settings(tmp_path, handle="ada.example.org")
    save_session(
        logged.state_dir,
        SavedSession("https://bsky.social", "ada.example.org", "did:plc:x", "secret-session"),
    )
    page = render_preview(report, preview_accounts(logged), images=lambda image: None)
    assert "placeholder account" not in page
    assert (
        '<span class="display-name">ada</span> <span class="handle">@ada@masto.test</span>' in page
    )
    assert '<span class="handle">@ada.example.org</span>' in page
    assert "secret" not in page


def test_both_pages_forbid_everything_but_their_own_origin(tmp_path: Path) -> None:
    page = link_report(tmp_path)
    assert f'content="{STATIC_CSP}"' in page
    assert "<script" not in page
    live = render_live_page("<p>x</p>", title="T", lang="en")
    assert f'content="{LIVE_CSP}"' in live
    assert '<script src="/live.js" defer></script>' in live
    assert "default-src 'none'" in LIVE_CSP and "connect-src 'self'" in LIVE_CSP
    assert "http" not in LIVE_CSP + STATIC_CSP


def test_a_cached_card_shows_as_it_will_appear(tmp_path: Path) -> None:
    from threadpost.linkcard import LinkCard
    from threadpost.linkcard_cache import cached_cards, fill_cache, load_card, save_card

    state = tmp_path / "state"
    thumb = tmp_path / "t.png"
    from PIL import Image

    Image.new("RGB", (4, 4), (0, 0, 255)).save(thumb)
    save_card(
        state,
        LinkCard(
            "https://example.com/page",
            "The <page>",
            "What it says",
            thumb.read_bytes(),
            "image/png",
        ),
    )
    assert load_card(state, "https://example.com/page") is not None
    draft = tmp_path / "d.md"
    draft.write_text("Read https://example.com/page please.\n", encoding="utf-8")
    report = check_draft(draft, settings(tmp_path), offline=True)
    page = render_html(report, cards=cached_cards(state))
    for platform in ("mastodon", "bluesky"):
        card = section(page, platform)
        assert '<div class="card" data-card="cached" data-uri="https://example.com/page">' in card
        assert '<img class="card-image" src="data:image/png;base64,' in card
        assert '<span class="card-title">The &lt;page&gt;</span>' in card
        assert 'data-card="placeholder"' not in card
    # Filling the cache fetches only what is missing, and reports what failed.
    asked: list[str] = []

    def fetch(uri: str) -> LinkCard:
        from threadpost.linkcard import LinkCardError

        asked.append(uri)
        if "bad" in uri:
            raise LinkCardError(f"{uri}: HTTP 404")
        return LinkCard(uri, "Other", "")

    failed = fill_cache(
        state,
        ["https://example.com/page", "https://example.com/other", "https://bad.test/"],
        fetch=fetch,
    )
    assert sorted(asked) == ["https://bad.test/", "https://example.com/other"]
    assert failed == {"https://bad.test/": "https://bad.test/: HTTP 404"}
    assert load_card(state, "https://example.com/other").title == "Other"  # type: ignore[union-attr]


def test_the_static_page_uses_the_saved_login_and_cached_cards(tmp_path: Path) -> None:
    from threadpost.authoring import preview_draft
    from threadpost.linkcard import LinkCard
    from threadpost.linkcard_cache import save_card

    plain = settings(tmp_path, handle="ada.example.org")
    save_card(plain.state_dir, LinkCard("https://example.com/page", "Cached title", ""))
    draft = tmp_path / "d.md"
    draft.write_text("Read https://example.com/page please.\n", encoding="utf-8")
    page = tmp_path / "page.html"
    preview_draft(draft, plain, offline=True, html=page)
    text = page.read_text(encoding="utf-8")
    assert '<span class="handle">@ada.example.org</span>' in text
    assert text.count('<span class="card-title">Cached title</span>') == 2


def test_a_reply_shows_the_post_it_replies_to_in_its_column(tmp_path: Path) -> None:
    toot = "https://mastodon.social/@bob/113000000000000001"
    draft = tmp_path / "reply.md"
    draft.write_text(f'+++\nreply_to = "{toot}"\n+++\nAn answer.', encoding="utf-8")
    page = render_html(check_draft(draft, settings(tmp_path), offline=True))
    mastodon, bluesky = page.split('data-platform="bluesky"')
    assert f"↳ replying to {toot}" in mastodon
    assert "replying to" not in bluesky  # a single Mastodon address: Bluesky starts anew
