"""Work done by splitting and entity scanning grows linearly (counted, not timed)."""

from __future__ import annotations

from threadpost.text.entities import mastodon_entities, protected_spans
from threadpost.text.split import split_text


def test_fits_is_called_a_bounded_number_of_times_per_chunk() -> None:
    for repeat in (400, 4000):
        calls = 0
        seen = 0

        def fits(text: str, index: int) -> bool:
            nonlocal calls, seen
            calls += 1
            seen += len(text)
            return len(text) <= 300

        text = ("Some words in a sentence, and more. " * repeat).strip()
        chunks = split_text(text, fits)
        # Galloping search: O(log w) probes per chunk, each at most about twice the window.
        assert calls <= 12 * len(chunks)
        assert seen <= 12 * 2 * 300 * len(chunks)


def test_interleaved_hashtag_sigils_are_all_found() -> None:
    # The sigil scan caches the next "#" and "＃": both kinds, in any order, are found.
    text = " ".join(["#alpha ＃beta", "@u text", "＃gamma #delta"] * 50)
    tags = [e.value for e in mastodon_entities(text) if e.kind == "tag"]
    assert tags == ["alpha", "beta", "gamma", "delta"] * 50
    assert len(protected_spans(text)) == 4 * 50 + 50
