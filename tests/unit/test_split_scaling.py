"""Work done by splitting and entity scanning grows linearly (counted, not timed)."""

from __future__ import annotations

from threadpost.text.entities import mastodon_entities, protected_spans
from threadpost.text.split import split_text


def test_fits_is_called_a_bounded_number_of_times_per_break() -> None:
    counted: list[int] = []
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
        breaks = 7 * repeat
        # Galloping searches: O(log w) probes per chunk, each at most about twice the window;
        # the programme: about one probe per break of the windows, each at most one window.
        # (The greedy splitter alone was held to 12 probes per chunk.)
        assert calls <= 2 * breaks + 12 * len(chunks)
        assert seen <= (2 * breaks + 12 * len(chunks)) * 2 * 300
        counted.append(calls)
    # 10x the text, about 10x the probes: linear.
    assert counted[1] <= 11 * counted[0]


def test_interleaved_hashtag_sigils_are_all_found() -> None:
    # The sigil scan caches the next "#" and "＃": both kinds, in any order, are found.
    text = " ".join(["#alpha ＃beta", "@u text", "＃gamma #delta"] * 50)
    tags = [e.value for e in mastodon_entities(text) if e.kind == "tag"]
    assert tags == ["alpha", "beta", "gamma", "delta"] * 50
    assert len(protected_spans(text)) == 4 * 50 + 50
