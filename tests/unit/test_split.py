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
    assert max(seen) == len(chunks) - 1


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
    # programme then probes each break of the windows about once (was: < 20 per chunk,
    # the greedy alone).
    breaks = 5 * 4000
    assert calls < breaks + 20 * len(chunks)
