"""The splitter on its own, with simple injected `fits` functions (threadpost.text.split)."""

from __future__ import annotations

import re

import pytest

from threadpost.text.split import Chunk, split_text


def by_length(limit: int):  # type: ignore[no-untyped-def]
    return lambda text, index: len(text) <= limit


def rebuild(text: str, chunks: list[Chunk]) -> str:
    out = []
    for n, chunk in enumerate(chunks):
        out.append(chunk.text)
        if n + 1 < len(chunks):
            gap = text[chunk.end : chunks[n + 1].start]
            assert gap.strip() == "", f"dropped non-whitespace {gap!r}"
            out.append(gap)
    return "".join(out)


def texts(text: str, limit: int, **kwargs: object) -> list[str]:
    chunks = split_text(text, by_length(limit), **kwargs)  # type: ignore[arg-type]
    assert rebuild(text, chunks) == text
    return [chunk.text for chunk in chunks]


def test_text_that_fits_is_one_chunk() -> None:
    assert split_text("short", by_length(10)) == [Chunk(0, 5, "short")]
    assert split_text("", by_length(10)) == [Chunk(0, 0, "")]


def test_paragraph_break_beats_a_fuller_sentence_break() -> None:
    text = "First paragraph is here.\n\nSecond one. It goes on and on. And on."
    # 40 fits "First paragraph is here.\n\nSecond one." but the paragraph wins.
    assert texts(text, 40) == ["First paragraph is here.", "Second one. It goes on and on. And on."]
    # Two posts either way: "Second one." + 26 is more even than 30 + "And on." (was greedy).
    assert texts(text, 36) == [
        "First paragraph is here.",
        "Second one.",
        "It goes on and on. And on.",
    ]


def test_a_short_paragraph_is_not_glued_to_the_head_of_a_long_one() -> None:
    # Was ["Hi.\n\nThis paragraph ... somewhere.", "Right here."]: a post mixing two
    # paragraphs and the second one's tail alone. A post is whole paragraphs or part of one.
    text = "Hi.\n\nThis paragraph is long enough to need a split somewhere. Right here."
    assert texts(text, 62) == [
        "Hi.",
        "This paragraph is long enough to need a split somewhere.",
        "Right here.",
    ]


def test_sentence_beats_clause_and_clause_beats_word() -> None:
    # Two posts suffice (the greedy made three, the last one "eleven"): the clause break
    # beats the word breaks that would also give two.
    text = "One two three four. Five six, seven eight nine ten eleven"
    assert texts(text, 32) == ["One two three four. Five six,", "seven eight nine ten eleven"]
    text = "One two three four. Five six seven eight nine ten"
    assert texts(text, 32) == ["One two three four.", "Five six seven eight nine ten"]
    text = "Alpha beta gamma delta, epsilon zeta eta theta iota kappa"
    assert texts(text, 34) == ["Alpha beta gamma delta,", "epsilon zeta eta theta iota kappa"]


def kinds(text: str, chunks: list[str]) -> list[str]:
    """The kind of break each chunk but the last ends at."""
    from threadpost.text.sentences import break_opportunities

    by_end = {brk.end: brk.kind.name.lower() for brk in break_opportunities(text)}
    out = []
    at = 0
    for chunk in chunks[:-1]:
        at = text.index(chunk, at) + len(chunk)
        out.append(by_end[at])
    return out


# A word break costs readers more than one more post: the old objective (fewest posts first)
# gave the "old" split; now a paragraph may use one post more when that needs fewer word breaks.
ONE_MORE_POST = [
    (
        "Aaaa bbbb cccc dddd. Eeee ffff gggg hhhh. Iiii jjjj kkkk llll.",
        32,
        ["Aaaa bbbb cccc dddd. Eeee ffff", "gggg hhhh. Iiii jjjj kkkk llll."],
        ["Aaaa bbbb cccc dddd.", "Eeee ffff gggg hhhh.", "Iiii jjjj kkkk llll."],
        ["sentence", "sentence"],
    ),
    (
        "Aaaa bbbb cccc dddd, eeee ffff gggg hhhh; iiii jjjj kkkk llll.",
        32,
        ["Aaaa bbbb cccc dddd, eeee ffff", "gggg hhhh; iiii jjjj kkkk llll."],
        ["Aaaa bbbb cccc dddd,", "eeee ffff gggg hhhh;", "iiii jjjj kkkk llll."],
        ["clause", "clause"],
    ),
    (
        "Aaaa bbbb cccc dddd. Eeee ffff gggg hhhh. Iiii jjjj kkkk llll. Mmmm nnnn oooo pppp.",
        32,
        [
            "Aaaa bbbb cccc dddd.",
            "Eeee ffff gggg hhhh. Iiii jjjj",
            "kkkk llll. Mmmm nnnn oooo pppp.",
        ],
        [
            "Aaaa bbbb cccc dddd.",
            "Eeee ffff gggg hhhh.",
            "Iiii jjjj kkkk llll.",
            "Mmmm nnnn oooo pppp.",
        ],
        ["sentence", "sentence", "sentence"],
    ),
    (
        # The last sentence needs a word break in any split; the extra post saves the other.
        "Aaaa bbbb cccc dddd. Eeee ffff gggg hhhh. "
        "Iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr.",
        32,
        [
            "Aaaa bbbb cccc dddd. Eeee ffff",
            "gggg hhhh. Iiii jjjj kkkk llll",
            "mmmm nnnn oooo pppp qqqq rrrr.",
        ],
        [
            "Aaaa bbbb cccc dddd.",
            "Eeee ffff gggg hhhh.",
            "Iiii jjjj kkkk llll mmmm",
            "nnnn oooo pppp qqqq rrrr.",
        ],
        ["sentence", "sentence", "word"],
    ),
]


@pytest.mark.parametrize(("text", "limit", "old", "new", "breaks"), ONE_MORE_POST)
def test_one_more_post_rather_than_a_word_break(
    text: str, limit: int, old: list[str], new: list[str], breaks: list[str]
) -> None:
    assert kinds(text, old).count("word") > kinds(text, new).count("word")
    assert len(new) == len(old) + 1
    assert texts(text, limit) == new
    assert kinds(text, new) == breaks


def test_no_extra_post_when_it_cannot_save_a_word_break() -> None:
    # The long sentence needs a word break however many posts there are: 3 posts, not 4.
    text = (
        "Alpha beta gamma. Delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho."
    )
    chunks = texts(text, 40)
    assert chunks == [
        "Alpha beta gamma.",
        "Delta epsilon zeta eta theta iota",
        "kappa lambda mu nu xi omicron pi rho.",
    ]
    assert kinds(text, chunks) == ["sentence", "word"]
    # No punctuation at all: every split breaks words, so the fewest posts win.
    words = " ".join(["aaaa", "bbb", "cc", "ddddd"] * 12)
    assert len(texts(words, 50)) == -(-len(words) // 50)


def test_no_extra_post_to_avoid_a_clause_break() -> None:
    # Three posts could end at sentences only, but a clause break is acceptable: two posts.
    text = "Aaaa bbbb cccc dddd. Eeee ffff, gggg hhhh. Iiii jjjj kkkk llll."
    assert texts(text, 32) == ["Aaaa bbbb cccc dddd. Eeee ffff,", "gggg hhhh. Iiii jjjj kkkk llll."]
    # Nor to make the split more even, or to trade a clause for a sentence.
    text = "The ferry was late. Nobody minded much, since the pier had a good café and the view."
    assert texts(text, 60) == [
        "The ferry was late. Nobody minded much,",
        "since the pier had a good café and the view.",
    ]


def test_word_break_when_no_better_break_is_full_enough() -> None:
    text = "A, bb cc dd ee ff gg hh ii jj kk ll mm nn"
    assert texts(text, 20) == ["A, bb cc dd ee ff gg", "hh ii jj kk ll mm nn"]


def test_line_break_ranks_above_sentence() -> None:
    text = "Line one is here\nline two. Is here and continues"
    assert texts(text, 36) == ["Line one is here", "line two. Is here and continues"]


def test_whitespace_at_breaks_is_dropped_and_rebuilds_the_text() -> None:
    text = "Para one.\n\n\n   Para two has   several   spaces.\n  Indented line."
    chunks = texts(text, 20)
    for chunk in chunks:
        assert chunk == chunk.strip() or chunk is chunks[0]


def test_never_breaks_inside_a_protected_span() -> None:
    # A fake entity containing a space (entities never do, but the splitter must not care).
    text = "see this linked phrase now please"
    span = (text.index("linked"), text.index(" now"))
    chunks = texts(text, 18, protected=[span])
    assert "linked phrase" in " ".join(chunks)
    assert all("linked" not in c or "phrase" in c for c in chunks)


def test_url_near_the_limit_moves_whole_to_the_next_chunk() -> None:
    url = "https://example.com/a/long/path?q=1"
    text = f"Read this first {url} and then more words"
    chunks = texts(text, 40)
    assert any(url in chunk for chunk in chunks)
    assert chunks[0] == "Read this first"


def test_unbreakable_token_longer_than_the_limit_stands_alone() -> None:
    token = "x" * 600
    text = f"Before it. {token} after it."
    chunks = split_text(text, by_length(100))
    assert [c.fits for c in chunks] == [True, False, True]
    assert chunks[1].text == token
    assert chunks[1].start == text.index(token)
    assert rebuild(text, chunks) == text


def test_unbreakable_token_at_the_end() -> None:
    text = "word " + "y" * 50
    chunks = split_text(text, by_length(20))
    assert [(c.text, c.fits) for c in chunks] == [("word", True), ("y" * 50, False)]


def test_fits_receives_the_chunk_index() -> None:
    seen: list[int] = []

    def fits(text: str, index: int) -> bool:
        seen.append(index)
        return len(text) + len(f" {index + 1}/9") <= 20

    chunks = split_text("one two three four five six seven eight nine ten", fits)
    assert all(len(c.text) + 4 <= 20 for c in chunks)
    # Every break here is a word break, so one more post is not even tried (never asked).
    assert max(seen) == len(chunks) - 1

    # Where one more post saves a word break, it is fitted with its own index.
    seen.clear()

    def roomier(text: str, index: int) -> bool:
        seen.append(index)
        return len(text) + len(f" {index + 1}/9") <= 36

    text = "Aaaa bbbb cccc dddd. Eeee ffff gggg hhhh. Iiii jjjj kkkk llll."
    chunks = split_text(text, roomier)
    assert [c.text for c in chunks] == text.replace(". ", ".\n").splitlines()
    assert max(seen) == len(chunks) - 1 == 2


def test_space_carrying_a_combining_mark_is_not_cut_from_it() -> None:
    # " \u0301" is one grapheme cluster: the break may drop the first space only.
    text = "abc  \u0301def"
    starts = [0, 1, 2, 3, 4, 6, 7, 8, 9]
    chunks = split_text(text, by_length(4), cluster_starts=starts)
    assert [c.text for c in chunks] == ["abc", " \u0301def"]
    assert rebuild(text, chunks) == text


def test_french_guillemets_and_spaced_punctuation_stay_with_their_words() -> None:
    text = "Il a dit « bonjour » puis « au revoir » et enfin : quoi ? rien !"
    for limit in range(12, 40):
        for chunk in texts(text, limit):
            assert not chunk.endswith("«")
            assert not re.match(r"^[»?!:;]", chunk)


@pytest.mark.parametrize("limit", [12, 25, 50, 100, 280])
def test_every_chunk_fits_when_words_fit(limit: int) -> None:
    words = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod. " * 20
    chunks = split_text(words.strip(), by_length(limit))
    assert all(c.fits and len(c.text) <= limit for c in chunks)
    assert rebuild(words.strip(), chunks) == words.strip()


def test_splitting_is_linear_in_calls() -> None:
    calls = 0

    def fits(text: str, index: int) -> bool:
        nonlocal calls
        calls += 1
        return len(text) <= 300

    text = "Some words in a sentence. " * 4000  # ~100 KB, 20,000 word breaks
    chunks = split_text(text.strip(), fits)
    # Galloping searches find each post's window (a handful of probes per chunk); the
    # programme then finds, for each break of the windows and each post it may start, how far
    # that post reaches (one or two probes). The fewest posts need a word break here, so one
    # more post is tried too: its windows are up to two posts wide, each break in up to two
    # of them (was < breaks + 20 per chunk with k posts only, < 20 per chunk greedy).
    breaks = 5 * 4000
    assert calls < 4 * breaks + 20 * len(chunks)
