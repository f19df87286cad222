"""plan_thread: drafts become numbered, counted posts with facets, per platform."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from ugrapheme import grapheme_len

from mastodon_server.length import status_length
from threadpost.draft import Draft, parse_draft
from threadpost.plan import Thread, numbering_suffix, plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.platforms.rules import fits
from threadpost.text.entities import bluesky_entities, mastodon_entities
from threadpost.text.graphemes import grapheme_count
from threadpost.values import PlatformLimits

LIMITS = [MASTODON_DEFAULT_LIMITS, BLUESKY_LIMITS]
SENTENCES = [
    "The tide comes in faster than anyone expects.",
    "Projects behave the same way, and nobody notices until the last week.",
    "A deadline is a promise we make to a calendar, not to people.",
    "Every team I know has a story like this one.",
    "We planned for three weeks and shipped in nine.",
]
NUMBER = re.compile(r" (\d+)/(\d+)$")


def draft(text: str, path: Path | str = "d.md") -> Draft:
    return parse_draft(text.encode(), path)


def essay(sentences: int) -> str:
    return " ".join(SENTENCES[i % len(SENTENCES)] for i in range(sentences))


def small(max_graphemes: int, platform: str = "bluesky") -> PlatformLimits:
    base = BLUESKY_LIMITS if platform == "bluesky" else MASTODON_DEFAULT_LIMITS
    return replace(base, max_graphemes=max_graphemes)


def independent_length(text: str, limits: PlatformLimits, spoiler_text: str) -> int:
    """The post's length as the network counts it, by code that shares nothing with the
    planner's: the Mastodon test server's own StatusLengthValidator, or plain graphemes."""
    if limits.platform == "mastodon":
        return status_length(text, spoiler_text, url_weight=limits.url_weight or 23)
    return int(grapheme_len(text))


def assert_sound(thread: Thread) -> None:
    """Every post fits, the numbering runs 1..n with the right total, offsets are right.

    Lengths and bytes are checked against an independent count, not the planner's own."""
    total = len(thread.posts)
    cw = thread.spoiler_text or ""
    limits = thread.limits
    for index, post in enumerate(thread.posts, start=1):
        assert post.index == index
        length = independent_length(post.text, limits, cw)
        size = len(post.text.encode("utf-8"))
        assert post.length == length, post.text
        assert post.bytes == size, post.text
        assert length <= limits.max_graphemes, post.text
        assert limits.max_bytes is None or size <= limits.max_bytes, post.text
        if total > 1:
            match = NUMBER.search(post.text)
            assert match, post.text
            assert (int(match.group(1)), int(match.group(2))) == (index, total)
        data = post.text.encode()
        for facet in post.facets:
            shown = data[facet.byte_start : facet.byte_end].decode()
            assert shown
    assert not thread.problems


def test_same_draft_gives_7_posts_on_mastodon_and_11_on_bluesky() -> None:
    d = draft(essay(55))
    mastodon = plan_thread(d, MASTODON_DEFAULT_LIMITS)
    bluesky = plan_thread(d, BLUESKY_LIMITS)
    assert (len(mastodon.posts), len(bluesky.posts)) == (7, 11)
    assert_sound(mastodon)
    assert_sound(bluesky)
    assert mastodon.posts[0].text.endswith(" 1/7")
    assert bluesky.posts[10].text.endswith(" 11/11")
    # Split at sentence ends: every post (numbering removed) ends with a full stop.
    for post in (*mastodon.posts, *bluesky.posts):
        assert NUMBER.sub("", post.text).endswith(".")


def test_single_post_thread_is_not_numbered() -> None:
    thread = plan_thread(draft("Just one short post."), BLUESKY_LIMITS)
    assert [p.text for p in thread.posts] == ["Just one short post."]
    assert numbering_suffix("{i}/{n}", 1, 1) == ""


def test_each_draft_post_is_a_post_boundary() -> None:
    thread = plan_thread(draft("One.\n---\nTwo.\n---\nThree."), MASTODON_DEFAULT_LIMITS)
    assert [p.text for p in thread.posts] == ["One. 1/3", "Two. 2/3", "Three. 3/3"]
    assert [p.source_post for p in thread.posts] == [1, 2, 3]
    assert [p.source_line for p in thread.posts] == [1, 3, 5]


def test_numbering_format_from_front_matter_and_off() -> None:
    text = "One.\n---\nTwo."
    fancy = plan_thread(draft('+++\nnumbering = "({i} of {n})"\n+++\n' + text), BLUESKY_LIMITS)
    assert [p.text for p in fancy.posts] == ["One. (1 of 2)", "Two. (2 of 2)"]
    off = plan_thread(draft("+++\nnumbering = false\n+++\n" + text), BLUESKY_LIMITS)
    assert [p.text for p in off.posts] == ["One.", "Two."]
    override = plan_thread(draft(text), BLUESKY_LIMITS, numbering=None)
    assert [p.text for p in override.posts] == ["One.", "Two."]


@pytest.mark.parametrize(("target", "words"), [(10, range(30, 50)), (100, range(285, 310))])
def test_numbering_width_rollover_keeps_the_total_right(target: int, words: range) -> None:
    # 24 graphemes: "word" x5 fits unnumbered, x4 with " i/n", x3 with " ii/nn" or " iii/nnn".
    # Around 10 posts the one-digit plan overflows to 10+ posts and is re-planned with two
    # digits; the total must still be exact and every post must fit with its suffix.
    limits = small(24)
    totals = set()
    for count in words:
        thread = plan_thread(draft(" ".join(["word"] * count)), limits)
        assert_sound(thread)
        unnumbered = plan_thread(draft(" ".join(["word"] * count)), limits, numbering=None)
        assert len(thread.posts) >= len(unnumbered.posts)
        totals.add(len(thread.posts))
    assert min(totals) < target <= max(totals)


@pytest.mark.parametrize("count", [9, 10, 99, 100])
def test_numbering_exactly_at_the_width_boundaries(count: int) -> None:
    limits = small(30)
    thread = plan_thread(draft("\n---\n".join(f"Post {i}." for i in range(count))), limits)
    assert len(thread.posts) == count
    assert thread.posts[-1].text == f"Post {count - 1}. {count}/{count}"
    assert_sound(thread)


def test_every_word_count_plans_soundly_around_rollovers() -> None:
    limits = small(20)
    for words in range(1, 160, 3):
        assert_sound(plan_thread(draft(" ".join(["abc"] * words)), limits))


def test_unbreakable_600_char_token_is_an_error_not_a_mangled_post() -> None:
    token = "a" * 600
    d = draft(f"First line.\n\nA long token follows: {token} and text after it.\n---\nNext.")
    for limits in LIMITS:
        thread = plan_thread(d, limits)
        (problem,) = thread.problems
        assert problem.severity == "error"
        assert problem.code == "too-long"
        assert problem.platform == limits.platform
        assert problem.line == 3
        over = thread.posts[problem.post - 1]
        assert token in over.text
        assert NUMBER.sub("", over.text) == token
        assert "line 3, column 23" in problem.message
        assert f"post {problem.post}" in problem.message
        assert not fits(over.text, limits)
        # The rest is planned normally around it.
        assert thread.posts[-1].text.startswith("Next.")


def test_images_go_on_the_first_chunk(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"png")
    path = tmp_path / "d.md"
    path.write_text(essay(20) + "\n![A chart](a.png)\n---\nSecond.\n")
    from threadpost.draft import read_draft

    thread = plan_thread(read_draft(path), BLUESKY_LIMITS)
    with_images = [p.index for p in thread.posts if p.images]
    assert with_images == [1]
    assert thread.posts[0].images[0].alt == "A chart"
    assert len(thread.posts) > 2


def test_too_many_images_is_a_problem(tmp_path: Path) -> None:
    for n in range(5):
        (tmp_path / f"{n}.png").write_bytes(b"png")
    path = tmp_path / "d.md"
    lines = "\n".join(f"![img {n}]({n}.png)" for n in range(5))
    path.write_text(f"Intro.\n---\nLook:\n{lines}\n")
    from threadpost.draft import read_draft

    thread = plan_thread(read_draft(path), MASTODON_DEFAULT_LIMITS)
    (problem,) = thread.problems
    assert (problem.code, problem.severity, problem.post, problem.line) == (
        "too-many-images",
        "error",
        2,
        8,  # the fifth image, the first one too many
    )
    assert len(thread.posts[1].images) == 5  # not reflowed


def test_mastodon_content_warning_counts_in_every_post() -> None:
    d = draft('+++\ncw = "' + "spoiler " * 12 + '"\n+++\n' + essay(30))
    with_cw = plan_thread(d, MASTODON_DEFAULT_LIMITS)
    without = plan_thread(d, MASTODON_DEFAULT_LIMITS, spoiler_text="")
    assert with_cw.spoiler_text and without.spoiler_text is None
    assert len(with_cw.posts) > len(without.posts)
    cw = with_cw.spoiler_text
    for post in with_cw.posts:
        assert post.length == grapheme_count(cw) + grapheme_count(post.text)
        assert post.length <= 500
    assert_sound(with_cw)
    # Bluesky has no content warning.
    assert plan_thread(d, BLUESKY_LIMITS).spoiler_text is None


def test_front_matter_settings_reach_the_thread() -> None:
    d = draft(
        '+++\nlang = "fr"\nvisibility = "unlisted"\nreply_visibility = "private"\n'
        "sensitive = true\nlink_cards = false\n+++\nBonjour."
    )
    thread = plan_thread(d, MASTODON_DEFAULT_LIMITS)
    assert (thread.lang, thread.visibility, thread.reply_visibility) == (
        "fr",
        "unlisted",
        "private",
    )
    assert thread.sensitive is True
    assert thread.link_cards is False
    default = plan_thread(draft("Hi."), BLUESKY_LIMITS)
    assert (default.visibility, default.reply_visibility, default.link_cards) == (
        "public",
        "unlisted",
        True,
    )
    assert plan_thread(d, BLUESKY_LIMITS, lang="en").lang == "en"


FR_TEXT = (
    "Les caméras de #SécuritéGlobale coûtent cher 💶 : M. Dupont l'a dit à @alice.bsky.social "
    "et à @bob@mastodon.social. Voir https://www.ccomptes.fr/fr/publications/les-polices "
    "(rapport, p. 12). Le 3 janv. 2024, Mme Durand répond : « Ce n'est pas prouvé ! » 🇫🇷 $CAM"
)


def test_facets_use_utf8_byte_offsets_of_the_final_text() -> None:
    d = draft("\n\n".join([FR_TEXT] * 4))
    for limits, detect in (
        (BLUESKY_LIMITS, bluesky_entities),
        (MASTODON_DEFAULT_LIMITS, mastodon_entities),
    ):
        thread = plan_thread(d, limits)
        assert len(thread.posts) > 1
        kinds = set()
        for post in thread.posts:
            data = post.text.encode()
            expected = detect(post.text)  # cashtags too: Bluesky makes them tag facets
            assert [(f.byte_start, f.byte_end, f.value) for f in post.facets] == [
                (e.byte_start, e.byte_end, e.value) for e in expected
            ]
            for facet in post.facets:
                kinds.add(facet.kind)
                shown = data[facet.byte_start : facet.byte_end].decode()
                if facet.kind == "tag" and facet.value.startswith("$"):
                    assert shown.upper() == facet.value  # a cashtag: "$CAM"
                elif facet.kind == "tag":
                    assert shown == "#" + facet.value
        assert kinds == {"link", "mention", "tag"}
        assert_sound(thread)


def test_french_text_splits_at_sentences_and_keeps_guillemets() -> None:
    d = draft(FR_TEXT)
    thread = plan_thread(d, small(120))
    texts = [NUMBER.sub("", p.text) for p in thread.posts]
    for text in texts:
        assert not text.endswith("«")
        assert not re.match(r"^[»?!:;]", text)
    assert "M. Dupont" in " ".join(texts)
    assert not any(t.endswith((" M.", " p.", "janv.")) for t in texts)
    assert_sound(thread)


def test_mastodon_urls_count_23_so_long_links_fit() -> None:
    url = "https://example.com/" + "x" * 200
    text = f"{'word ' * 90}{url} end"
    thread = plan_thread(draft(text), MASTODON_DEFAULT_LIMITS)
    assert len(thread.posts) == 1
    assert thread.posts[0].length == 90 * 5 + 23 + 4
    bluesky = plan_thread(draft(text), BLUESKY_LIMITS)
    assert any(url in p.text for p in bluesky.posts)
    assert_sound(bluesky)


def test_bluesky_display_shortening_keeps_the_full_uri() -> None:
    url = "https://example.com/" + "a/" * 60 + "page"
    thread = plan_thread(draft(f"Read {url} now"), BLUESKY_LIMITS, shorten_links=True)
    (post,) = thread.posts
    assert post.text == "Read example.com/a/a/a/a/a/a/... now"
    (facet,) = post.facets
    assert facet.value == url
    assert post.text.encode()[facet.byte_start : facet.byte_end].decode() == (
        "example.com/a/a/a/a/a/a/..."
    )
    long = plan_thread(draft(" ".join([f"see {url}"] * 20)), BLUESKY_LIMITS, shorten_links=True)
    plain = plan_thread(draft(" ".join([f"see {url}"] * 20)), BLUESKY_LIMITS)
    assert len(long.posts) < len(plain.posts)
    assert not long.problems


@pytest.mark.parametrize(
    "cluster",
    ["🇫🇷", "👨\u200d👩\u200d👧\u200d👦", "👍🏽", "e\u0301", "🏳️\u200d🌈"],
)
def test_emoji_clusters_at_the_limit_are_never_cut(cluster: str) -> None:
    text = " ".join([cluster * 3] * 200)
    for limits in LIMITS:
        thread = plan_thread(draft(text), limits)
        assert_sound(thread)
        for post in thread.posts:
            body = NUMBER.sub("", post.text)
            assert body.split(" ") == [cluster * 3] * len(body.split(" "))
            assert grapheme_count(post.text) <= limits.max_graphemes
            if limits.max_bytes:
                assert post.bytes <= limits.max_bytes


def test_mention_and_url_near_the_limit_move_whole() -> None:
    filler = "x" * 270
    for tail in ("@someone.bsky.social", "https://example.com/page", "#LongishHashtag"):
        thread = plan_thread(draft(f"{filler} {tail} more"), BLUESKY_LIMITS)
        assert any(tail in p.text for p in thread.posts)
        assert_sound(thread)


def test_planning_is_deterministic() -> None:
    d = draft("\n\n".join([FR_TEXT, essay(40)]) + "\n---\n" + essay(12))
    for limits in LIMITS:
        assert plan_thread(d, limits) == plan_thread(d, limits)


def test_example_drafts_plan_cleanly() -> None:
    from threadpost.draft import read_draft

    root = Path(__file__).resolve().parents[2] / "drafts"
    paths = sorted(root.glob("*.md"))
    assert len(paths) >= 3, f"the example drafts are missing from {root}"  # not a vacuous loop
    for path in paths:
        d = read_draft(path)
        for limits in LIMITS:
            thread = plan_thread(d, limits)
            assert not [p for p in thread.problems if p.code == "too-long"], path
            for post in thread.posts:
                assert fits(post.text, limits, spoiler_text=thread.spoiler_text or "")
