"""Hypothesis properties of planning (issue 2): fit, rebuild, numbering, entities, determinism."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threadpost.draft import Draft, parse_draft
from threadpost.plan import Thread, plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.platforms.rules import fits
from threadpost.text.entities import protected_spans
from threadpost.text.graphemes import grapheme_count
from threadpost.values import PlatformLimits

WORDS = [
    "the", "tide", "comes", "in", "faster", "than", "anyone", "expects", "caméras",
    "sécurité", "l'été", "déjà", "M.", "Mme", "Dr.", "etc.", "av.", "J.-C.", "janv.", "p.",
    "e.g.", "3.14", "3,14", "word.", "word,", "word;", "word:", "end!", "what?", "really?!",
    "so…", "wait...", "«", "»", "?", "!", ":", "—", "(aside)", '"quoted."', "“curly”",
    "🙂", "🇫🇷", "👨\u200d👩\u200d👧\u200d👦", "👍🏽", "e\u0301", "🏳️\u200d🌈", "漢字",
    "@alice.bsky.social", "@bob@mastodon.social", "@carol", "#SécuritéGlobale", "#tag",
    "$CAM", "https://example.com/a/b?c=d", "https://www.ccomptes.fr/fr/publications/les",
    "example.org", "https://example.com/" + "x" * 20,
    "10\u00a0000", "mot\u202f!", "«\u00a0citation\u00a0»",
]  # fmt: skip
SPACES = [" ", " ", " ", " ", "  ", "\n", "\n\n", "\n \n", "\t"]
#: Longer than some limit: Bluesky's 60-grapheme test limit, or every limit. (Thai has no
#: spaces and threadpost does not guess its word breaks: unbreakable.)
LONG = [
    "https://example.com/" + "x" * 120,
    "z" * 700,
    "https://example.com/" + "y" * 5000,
    "ภาษาไทยไม่มีการเว้นวรรค" * 30,
]
#: Chinese and Japanese pieces, glued together without spaces (breakable between characters).
#: Entities end with a space: a tag glued to a long CJK run is one long (unbreakable) tag.
CJK = [
    "潮見表は港町ならどこでも印刷されている。", "そして、", "「ちょっと待って」と言った。",
    "キャッシュー", "っ", "ー", "表は提案ではない！", "本当？", "東京", "々", "漢字",
    "每个港口小镇都印有潮汐表，", "项目也是如此！", "“人们并没有读错。”", "第一个原因是：",
    "（注）", "…", "。", "、", "ａｂｃ１２３", "#潮見表 ", "@alice.bsky.social ",
    "https://example.com/潮 ", "🇯🇵", "👍🏽", "e\u0301", "\u3000", "word", " ", "\n\n",
    "あいうえおかきくけこ" * 40, "漢字仮名交じり文" * 60,
]  # fmt: skip


@st.composite
def post_texts(draw: st.DrawFn, allow_long: bool) -> str:
    count = draw(st.integers(1, 100))
    parts: list[str] = []
    for n in range(count):
        if n:
            parts.append(draw(st.sampled_from(SPACES)))
        if allow_long and draw(st.integers(0, 60)) == 0:
            parts.append(draw(st.sampled_from(LONG)))
        else:
            parts.append(draw(st.sampled_from(WORDS)))
    return "".join(parts)


@st.composite
def cjk_texts(draw: st.DrawFn, allow_long: bool) -> str:
    parts = draw(st.lists(st.sampled_from(CJK), min_size=1, max_size=60))
    if allow_long and draw(st.integers(0, 10)) == 0:
        parts.insert(draw(st.integers(0, len(parts))), draw(st.sampled_from(LONG)))
    text = "".join(parts).strip()
    return text or "漢字"


@st.composite
def drafts(draw: st.DrawFn, allow_long: bool = True) -> Draft:
    posts = draw(st.lists(post_texts(allow_long) | cjk_texts(allow_long), min_size=1, max_size=4))
    numbering = draw(st.sampled_from(['"{i}/{n}"', '"({i} of {n})"', "false", '"{i}"']))
    cw = draw(st.sampled_from(["", 'cw = "Spoilers ahead"\n']))
    front = f"+++\nnumbering = {numbering}\n{cw}+++\n"
    return parse_draft((front + "\n---\n".join(posts)).encode(), "prop.md")


limits_strategy = st.sampled_from(
    [
        MASTODON_DEFAULT_LIMITS,
        BLUESKY_LIMITS,
        replace(BLUESKY_LIMITS, max_graphemes=60),
        replace(MASTODON_DEFAULT_LIMITS, max_graphemes=120),
        replace(BLUESKY_LIMITS, max_graphemes=300, max_bytes=400),
    ]
)

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def suffix(draft: Draft, index: int, total: int) -> str:
    form = draft.front.numbering
    return "" if form is None or total == 1 else form.format(i=index, n=total)


def bodies(draft: Draft, thread: Thread) -> list[tuple[int, str]]:
    """(source post, text without numbering) of every planned post; checks the numbering."""
    total = len(thread.posts)
    out: list[tuple[int, str]] = []
    for index, post in enumerate(thread.posts, start=1):
        assert post.index == index
        tail = suffix(draft, index, total)
        text = post.text
        if tail:
            assert text == tail or text.endswith(" " + tail), (text, tail)
            text = "" if text == tail else text[: -len(tail) - 1]
        out.append((post.source_post, text))
    return out


def chunk_ranges(draft: Draft, thread: Thread) -> dict[int, list[tuple[int, int]]]:
    """Where each post's text lies in its draft post; asserts only whitespace was dropped."""
    ranges: dict[int, list[tuple[int, int]]] = {p.index: [] for p in draft.posts}
    pos: dict[int, int] = dict.fromkeys(ranges, 0)
    for source, body in bodies(draft, thread):
        original = draft.posts[source - 1].text
        at = original.find(body, pos[source])
        assert at >= 0, (body, original)
        assert original[pos[source] : at].strip() == "", "dropped more than whitespace"
        ranges[source].append((at, at + len(body)))
        pos[source] = at + len(body)
    for post in draft.posts:
        assert post.text[pos[post.index] :].strip() == "", "text lost at the end"
        assert ranges[post.index], "a draft post produced no post"
    return ranges


@SETTINGS
@given(draft=drafts(), limits=limits_strategy)
def test_every_post_fits_unless_a_problem_says_why(draft: Draft, limits: PlatformLimits) -> None:
    thread = plan_thread(draft, limits)
    explained = {p.post for p in thread.problems if p.code == "too-long"}
    for post in thread.posts:
        ok = fits(post.text, limits, spoiler_text=thread.spoiler_text or "")
        within = grapheme_count(post.text) <= limits.max_graphemes or limits.url_weight
        within_bytes = limits.max_bytes is None or post.bytes <= limits.max_bytes
        if not (ok and within and within_bytes):
            assert post.index in explained, post.text
    for problem in thread.problems:
        assert problem.severity == "error"
        assert problem.platform == limits.platform
        assert problem.post is not None and problem.line is not None


@SETTINGS
@given(draft=drafts(allow_long=False), limits=limits_strategy)
def test_without_overlong_tokens_every_post_fits(draft: Draft, limits: PlatformLimits) -> None:
    thread = plan_thread(draft, limits)
    assert not thread.problems
    for post in thread.posts:
        assert fits(post.text, limits, spoiler_text=thread.spoiler_text or "")
        assert post.length <= limits.max_graphemes
        assert limits.max_bytes is None or post.bytes <= limits.max_bytes


@SETTINGS
@given(draft=drafts(), limits=limits_strategy)
def test_posts_rebuild_the_draft_and_numbering_runs_1_to_n(
    draft: Draft, limits: PlatformLimits
) -> None:
    thread = plan_thread(draft, limits)
    chunk_ranges(draft, thread)  # asserts numbering 1..n/total and whitespace-only drops
    sources = [p.source_post for p in thread.posts]
    assert sources == sorted(sources)
    assert set(sources) == {p.index for p in draft.posts}


@SETTINGS
@given(draft=drafts(), limits=limits_strategy)
def test_no_entity_is_cut(draft: Draft, limits: PlatformLimits) -> None:
    thread = plan_thread(draft, limits)
    ranges = chunk_ranges(draft, thread)
    for post in draft.posts:
        for start, end in protected_spans(post.text):
            assert any(s <= start and end <= e for s, e in ranges[post.index]), post.text[start:end]


@SETTINGS
@given(draft=drafts(), limits=limits_strategy)
def test_planning_is_deterministic(draft: Draft, limits: PlatformLimits) -> None:
    assert plan_thread(draft, limits) == plan_thread(draft, limits)


@SETTINGS
@given(draft=drafts(allow_long=False))
def test_images_and_facets_are_consistent(draft: Draft) -> None:
    for limits in (MASTODON_DEFAULT_LIMITS, BLUESKY_LIMITS):
        thread = plan_thread(draft, limits)
        for post in thread.posts:
            data = post.text.encode()
            for facet in post.facets:
                assert 0 <= facet.byte_start < facet.byte_end <= len(data)
                data[facet.byte_start : facet.byte_end].decode()  # on character boundaries
