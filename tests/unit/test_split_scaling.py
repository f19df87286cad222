"""Work done by splitting and entity scanning grows linearly (counted, not timed)."""

from __future__ import annotations

from threadpost.text.entities import mastodon_entities, protected_spans
from threadpost.text.split import split_text


def test_fits_is_called_a_bounded_number_of_times_per_break() -> None:
    for repeat in (400, 500, 2000, 4000, 5000):
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
        # Galloping searches: O(log w) probes per chunk, each at most about twice the window.
        # The programme: for each break of a window and each post that may start there, how
        # far that post reaches (one or two probes, at most one window long). A break lies in
        # one window of the k-post split and in at most two of the (k + 1)-post one (tried
        # here: k posts need word breaks). Linear: a bound per break, whatever the size.
        # (k posts only: 2 per break; the greedy splitter alone: 12 probes per chunk.)
        assert calls <= 5 * breaks + 12 * len(chunks), repeat
        assert seen <= (5 * breaks + 12 * len(chunks)) * 2 * 300
    # No ratio between two sizes: whether the extra post removes every word break (cheap:
    # 400 sentences) or not (every window searched: 4000) depends on how the text's length
    # falls against the limit, not on its size.


def test_interleaved_hashtag_sigils_are_all_found() -> None:
    # The sigil scan caches the next "#" and "＃": both kinds, in any order, are found.
    text = " ".join(["#alpha ＃beta", "@u text", "＃gamma #delta"] * 50)
    tags = [e.value for e in mastodon_entities(text) if e.kind == "tag"]
    assert tags == ["alpha", "beta", "gamma", "delta"] * 50
    assert len(protected_spans(text)) == 4 * 50 + 50
