"""preview: facet placement, count colouring, the JSON object, terminal cards and the HTML page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image as PILImage
from rich.console import Console

from threadpost.check import CheckReport
from threadpost.draft import Image, parse_draft
from threadpost.plan import Facet, PlannedPost, Thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.preview import (
    count_label,
    count_level,
    facet_spans,
    render_html,
    render_terminal,
    summary_text,
    to_json,
)
from threadpost.values import Problem

TEXT = "Café 🇫🇷 #Paris lire https://ex.com/é @bob.test"


def located(text: str, piece: str, kind: str, value: str) -> Facet:
    start = len(text[: text.index(piece)].encode())
    return Facet(kind, start, start + len(piece.encode()), value)  # type: ignore[arg-type]


FACETS = (
    located(TEXT, "#Paris", "tag", "Paris"),
    located(TEXT, "https://ex.com/é", "link", "https://ex.com/é"),
    located(TEXT, "@bob.test", "mention", "bob.test"),
)


def planned(
    text: str = TEXT, *, index: int = 1, length: int | None = None, **extra: object
) -> PlannedPost:
    return PlannedPost(
        index=index,
        text=text,
        length=len(text) if length is None else length,
        bytes=len(text.encode()),
        facets=extra.pop("facets", FACETS if text == TEXT else ()),  # type: ignore[arg-type]
        images=extra.pop("images", ()),  # type: ignore[arg-type]
        source_post=index,
        source_line=5,
    )


def report(*threads: Thread, problems: tuple[Problem, ...] = (), title: str = "T") -> CheckReport:
    draft = parse_draft(f'+++\ntitle = "{title}"\n+++\nx\n'.encode(), Path("/d/t.md"))
    return CheckReport(draft, {t.platform: t for t in threads}, problems)


def bluesky(*posts: PlannedPost, cw: str | None = None) -> Thread:
    return Thread("bluesky", BLUESKY_LIMITS, posts, "fr", cw)


def mastodon(*posts: PlannedPost, cw: str | None = None) -> Thread:
    return Thread("mastodon", MASTODON_DEFAULT_LIMITS, posts, "fr", cw)


def test_facet_spans_are_code_point_ranges() -> None:
    spans = facet_spans(TEXT, FACETS)
    assert [TEXT[start:end] for start, end, _, _ in spans] == [
        "#Paris",
        "https://ex.com/é",
        "@bob.test",
    ]


def test_facet_off_a_character_boundary_is_ignored() -> None:
    broken = Facet("tag", 4, 6, "x")  # inside "é"
    assert facet_spans(TEXT, (broken,)) == []


@pytest.mark.parametrize(
    ("length", "level"), [(10, "ok"), (269, "ok"), (270, "near"), (300, "near"), (301, "over")]
)
def test_count_level_by_graphemes(length: int, level: str) -> None:
    assert count_level(planned("x", length=length), bluesky()) == level


def test_count_level_by_bytes() -> None:
    heavy = PlannedPost(1, "é" * 10, 10, 2950, (), (), 1, 1)
    assert count_level(heavy, bluesky()) == "near"
    assert count_label(heavy, bluesky()) == "10/300 · 2950/3000 bytes"
    assert count_label(heavy, mastodon()) == "10/500"


def test_json_shape() -> None:
    problem = Problem("warning", "mention-not-handle", "m", "bluesky", 1, 5)
    data = to_json(report(mastodon(planned()), bluesky(planned()), problems=(problem,)))
    json.dumps(data)  # serialisable as is
    assert data["draft"] == "/d/t.md"
    assert data["ok"] is True
    assert data["platforms"]["bluesky"]["limit"] == 300
    assert data["platforms"]["mastodon"]["limit"] == 500
    [post] = data["platforms"]["bluesky"]["posts"]
    assert post["index"] == 1
    assert post["text"] == TEXT
    assert post["bytes"] == len(TEXT.encode())
    assert post["facets"][0] == {
        "type": "tag",
        "byteStart": FACETS[0].byte_start,
        "byteEnd": FACETS[0].byte_end,
        "tag": "Paris",
    }
    assert {"uri": "https://ex.com/é"}.items() <= post["facets"][1].items()
    assert {"handle": "bob.test"}.items() <= post["facets"][2].items()
    assert data["problems"] == [
        {
            "severity": "warning",
            "platform": "bluesky",
            "post": 1,
            "line": 5,
            "code": "mention-not-handle",
            "message": "m",
        }
    ]
    assert data["summary"] == {"errors": 0, "warnings": 1, "posts": {"mastodon": 1, "bluesky": 1}}


def test_summary_text() -> None:
    problems = (
        Problem("error", "too-long", "x", "bluesky", 2),
        Problem("warning", "w", "y", "bluesky", 1),
        Problem("warning", "w", "z", "mastodon", 1),
    )
    posts = (planned(), planned(index=2))
    assert (
        summary_text(report(mastodon(planned()), bluesky(*posts), problems=problems))
        == "mastodon: 1 post · bluesky: 2 posts · 1 error · 2 warnings"
    )


def test_terminal_cards() -> None:
    problem = Problem("error", "too-long", "far too long", "bluesky", 2)
    long = planned("y" * 310, index=2)
    console = Console(record=True, width=100, color_system="truecolor")
    console.print(render_terminal(report(bluesky(planned(), long), problems=(problem,))))
    text = console.export_text(clear=False)
    assert "Bluesky · 2 posts · limit 300" in text
    assert "1/2" in text
    assert "2/2" in text
    assert "310/300" in text
    assert "error: far too long [too-long]" in text
    assert "bluesky: 2 posts · 1 error · 0 warnings" in text
    styled = console.export_html(inline_styles=True)
    assert "text-decoration: underline" in styled  # the link is highlighted


def test_html_page(tmp_path: Path) -> None:
    picture = tmp_path / "p.png"
    PILImage.new("RGB", (8, 8), (0, 128, 0)).save(picture)
    images = (
        Image(picture, "A green <square>", 7, "p.png"),
        Image(tmp_path / "gone.png", "", 8, "gone.png"),
    )
    post = planned(images=images)
    problem = Problem("error", "missing-alt", "no alt <here>", "mastodon", 1)
    draft_problem = Problem("error", "schedule-past", "too late", None, None)
    page = render_html(
        report(
            mastodon(post, cw="spoilers & <b>"),
            bluesky(post),
            problems=(problem, draft_problem),
            title="A & B",
        )
    )
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>A &amp; B — threadpost preview</title>" in page
    assert '<html lang="und">' in page
    assert page.count('<article class="post"') == 2
    assert '<a class="link" href="https://ex.com/é" rel="noopener noreferrer nofollow">' in page
    assert '<span class="tag" title="Paris">#Paris</span>' in page
    assert '<span class="mention" title="bob.test">@bob.test</span>' in page
    assert "CW: spoilers &amp; &lt;b&gt;" in page
    assert 'alt="A green &lt;square&gt;"' in page
    assert "data:image/png;base64," in page
    assert "gone.png cannot be shown" in page
    assert "no alt &lt;here&gt;" in page
    assert '<ul class="problems draft-wide">' in page
    assert "too late" in page
    assert "$" not in page.replace("$type", "")  # every template field was filled
