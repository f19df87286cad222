"""The draft parser: the format, and every error naming the file and the line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from threadpost.draft import DEFAULT_NUMBERING, MAX_DRAFT_BYTES, parse_draft, read_draft
from threadpost.errors import DraftError, ExitStatus

REPO = Path(__file__).resolve().parents[2]


def parse(text: str, path: Path | str = "d.md") -> object:
    return parse_draft(text.encode(), path)


def error(raw: bytes | str, path: Path | str = "d.md") -> DraftError:
    data = raw.encode() if isinstance(raw, str) else raw
    with pytest.raises(DraftError) as caught:
        parse_draft(data, path)
    return caught.value


def test_posts_separated_by_dashes_keep_blank_lines_inside() -> None:
    draft = parse_draft(b"One.\n\nStill one.\n---\nTwo.\n-----\nThree.\n", "d.md")
    assert [p.text for p in draft.posts] == ["One.\n\nStill one.", "Two.", "Three."]
    assert [p.index for p in draft.posts] == [1, 2, 3]
    assert [p.line for p in draft.posts] == [1, 5, 7]
    assert draft.posts[0].text_lines == (1, 2, 3)


def test_front_matter_defaults_and_values() -> None:
    draft = parse_draft(
        b'+++\ntitle = "T"\nplatforms = ["bluesky"]\nlang = "fr"\nnumbering = "({i}/{n})"\n'
        b'cw = "spoilers"\nvisibility = "unlisted"\nsensitive = true\n'
        b"schedule = 2026-12-01T09:00:00+01:00\n+++\nHello\n",
        "d.md",
    )
    front = draft.front
    assert front.title == "T"
    assert front.platforms == ("bluesky",)
    assert front.lang == "fr"
    assert front.numbering == "({i}/{n})"
    assert front.cw == "spoilers"
    assert front.visibility == "unlisted"
    assert front.sensitive is True
    assert front.schedule == datetime(2026, 12, 1, 9, tzinfo=timezone(timedelta(hours=1)))
    assert draft.posts[0].line == 11
    plain = parse_draft(b"Hello\n", "d.md").front
    assert plain.numbering == DEFAULT_NUMBERING
    assert plain.platforms == ("mastodon", "bluesky")


def test_numbering_false_turns_it_off_and_true_is_the_default() -> None:
    assert parse_draft(b"+++\nnumbering = false\n+++\nx\n", "d").front.numbering is None
    assert parse_draft(b"+++\nnumbering = true\n+++\nx\n", "d").front.numbering == "{i}/{n}"
    padded = parse_draft(b'+++\nnumbering = "{i:02d}/{n}"\n+++\nx\n', "d").front.numbering
    assert padded == "{i:02d}/{n}"


def test_crlf_and_bom_are_accepted() -> None:
    draft = parse_draft(b"\xef\xbb\xbf+++\r\nlang = 'en'\r\n+++\r\nOne\r\n---\r\nTwo\r\n", "d")
    assert draft.front.lang == "en"
    assert [p.text for p in draft.posts] == ["One", "Two"]


def test_images_attach_to_their_post(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"png")
    path = tmp_path / "d.md"
    path.write_text("Text\n![An alt](a.png)\nMore text\n")
    post = read_draft(path).posts[0]
    assert post.text == "Text\nMore text"
    assert [(i.alt, i.line, i.written_path) for i in post.images] == [("An alt", 2, "a.png")]
    assert post.images[0].path == (tmp_path / "a.png").resolve()
    # A line of the text is found in the file even with an image line in between.
    assert post.line_at(post.text.index("More")) == 3


def test_image_only_post(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"png")
    path = tmp_path / "d.md"
    path.write_text("Text\n---\n![alt](a.png)\n")
    posts = read_draft(path).posts
    assert posts[1].text == ""
    assert posts[1].line == 3


def test_content_hash_changes_with_the_bytes() -> None:
    assert parse_draft(b"a\n", "d").content_hash != parse_draft(b"b\n", "d").content_hash


# Every error names the file and the line.
ERROR_CASES = [
    ('+++\ntitle = "x\n+++\nHi\n', 2, "invalid TOML"),
    ("+++\ntitle = 'x'\ncolour = 'red'\n+++\nHi\n", 3, "unknown front-matter key 'colour'"),
    ('+++\nplatforms = ["mastodon", "twitter"]\n+++\nHi\n', 2, "unknown platform 'twitter'"),
    ('+++\nlang = "fr"\nschedule = "next tuesday"\n+++\nHi\n', 3, "schedule"),
    ("+++\nschedule = 2026-12-01\n+++\nHi\n", 2, "no time of day"),
    # Converted to UTC, this overflowed (an unexpected OverflowError in `schedule`).
    ('+++\nschedule = "9999-12-31 23:59"\n+++\nHi\n', 2, "out of range"),
    ('+++\nnumbering = "{i}/{total}"\n+++\nHi\n', 2, "{total}"),
    ('+++\nnumbering = "{n} posts"\n+++\nHi\n', 2, "must contain {i}"),
    ('+++\nnumbering = "{i"\n+++\nHi\n', 2, "not a valid format"),
    # Bad specs and conversions used to pass the check and crash planning (ValueError).
    ('+++\nnumbering = "{i:s}/{n}"\n+++\nHi\n', 2, "not a valid format"),
    ('+++\nnumbering = "{i!z}/{n}"\n+++\nHi\n', 2, "not a valid format"),
    ('+++\nnumbering = "{i:{x}}/{n}"\n+++\nHi\n', 2, "not a valid format"),
    ('+++\nnumbering = "{i:>999999999}"\n+++\nHi\n', 2, "pads wider than 9"),
    ("+++\nnumbering = 3\n+++\nHi\n", 2, "numbering must be"),
    ('+++\nvisibility = "everyone"\n+++\nHi\n', 2, "visibility must be"),
    ("+++\ntitle = 'x'\nHi\n", 1, "never closed"),
    ("+++\ntitle = 'x'\n+++\n\n---\n\n", 4, "no posts"),
    ("One\n---\n\n---\nThree\n", 2, "post 2 is empty"),
    ("---\nOne\n", 1, "post 1 is empty"),
    ("One\n---\n", 2, "post 2 is empty"),
    ("Hi\n![alt](missing.png)\n", 2, "image file not found: missing.png"),
    ("Hi\n![alt]()\n", 2, "image has no path"),
    ("Hi\n![alt](https://example.com/a.png)\n", 2, "web address"),
]


@pytest.mark.parametrize(("text", "line", "fragment"), ERROR_CASES)
def test_errors_name_file_and_line(text: str, line: int, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "draft.md"
    err = error(text, path)
    assert err.line == line
    assert str(err).startswith(f"{path}:{line}: ")
    assert fragment in str(err)
    assert err.exit_status == ExitStatus.VALIDATION_FAILED


@pytest.mark.parametrize("text", ["", "   \n\n  \n"])
def test_empty_draft(text: str) -> None:
    err = error(text, "empty.md")
    assert "empty" in str(err)
    assert str(err).startswith("empty.md")


def test_non_utf8_names_the_byte_offset_and_line() -> None:
    err = error(b"Hello\nCaf\xe9 au lait\n", "latin1.md")
    assert "byte offset 9" in str(err)
    assert "0xe9" in str(err)
    assert err.line == 2
    assert str(err).startswith("latin1.md:2: ")


def test_non_utf8_offset_counts_the_bom() -> None:
    err = error(b"\xef\xbb\xbfHi\n\xff\n", "bom.md")
    assert "byte offset 6" in str(err)
    assert err.line == 2


def test_nul_byte_is_a_binary_file() -> None:
    err = error(b"Hello\x00world", "bin.md")
    assert "NUL byte at byte offset 5" in str(err)
    assert err.line == 1


def test_image_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "dir.png").mkdir()
    err = error("Hi\n![alt](dir.png)\n", tmp_path / "d.md")
    assert "not a file" in str(err)
    assert err.line == 2


def test_read_draft_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DraftError, match="no such file"):
        read_draft(tmp_path / "nope.md")
    with pytest.raises(DraftError, match="is a folder"):
        read_draft(tmp_path)
    big = tmp_path / "big.md"
    with big.open("wb") as file:
        file.truncate(MAX_DRAFT_BYTES + 1)
    with pytest.raises(DraftError, match="at most 8 MiB") as caught:
        read_draft(big)
    assert str(caught.value).startswith(str(big))


@pytest.mark.parametrize("name", ["cameras-fr.md", "essay.md", "launch-notes.md"])
def test_example_drafts_parse(name: str) -> None:
    path = REPO / "drafts" / name
    if not path.exists():
        pytest.fail(f"example draft {name} is missing")
    draft = read_draft(path)
    assert draft.posts
    assert all(post.text or post.images for post in draft.posts)


def test_only_newlines_end_lines() -> None:
    # U+2028 and form feeds stay in the text; line numbers match what an editor shows.
    draft = parse_draft("A\u2028B\x0cC\n---\nD\n".encode(), "d.md")
    assert draft.posts[0].text == "A\u2028B\x0cC"
    assert draft.posts[1].line == 3
    err = error("A\u2028B\n---\n\n---\nD\n", "d.md")
    assert err.line == 2
