"""Archive import: reading tweets.js, rebuilding self-threads, tweet text, and the drafts
written from the synthetic archive in tests/data/import/archive (no real person's data)."""

from __future__ import annotations

import shutil
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from threadpost.draft import read_draft
from threadpost.errors import ThreadpostError
from threadpost.importer.archive import (
    Archive,
    ArchiveError,
    Media,
    Tweet,
    parse_created_at,
    parse_tweets_js,
)
from threadpost.importer.model import ImportedImage, ImportedPost, ImportedThread, strip_numbering
from threadpost.importer.run import import_archive
from threadpost.importer.threads import (
    author_id,
    select_chains,
    self_threads,
    thread_lang,
    tweet_post,
)
from threadpost.importer.writer import TODO_ALT, render_draft, slug

ARCHIVE = Path(__file__).resolve().parents[1] / "data" / "import" / "archive"
THREAD_A = "2018-10-10-why-night-trains-came-back-a"
THREAD_B = "2019-03-01-pourquoi-les-villes-achetent-des-cameras"


def tweet(
    id: str,
    text: str = "text",
    *,
    minute: int = 0,
    reply_to: str | None = None,
    user: str | None = None,
    **fields: object,
) -> Tweet:
    values: dict[str, object] = {
        "id": id,
        "full_text": text,
        "created_at": datetime(2020, 1, 1, 12, minute, tzinfo=UTC),
        "lang": "en",
        "reply_to_status": reply_to,
        "reply_to_user": user,
        "reply_to_screen_name": None,
        "urls": (),
        "media": (),
    }
    values.update(fields)
    return Tweet(**values)  # type: ignore[arg-type]


def zipped(tmp_path: Path, top: str = "twitter-2024-01-01-abc") -> Path:
    """The synthetic archive as a zip, wrapped in one top folder as X's zips are."""
    root = tmp_path / "src" / top
    shutil.copytree(ARCHIVE, root)
    return Path(shutil.make_archive(str(tmp_path / "archive"), "zip", tmp_path / "src"))


# --- reading ------------------------------------------------------------------------


def test_created_at_in_any_locale() -> None:
    assert parse_created_at("Wed Oct 10 20:19:24 +0000 2018") == datetime(
        2018, 10, 10, 20, 19, 24, tzinfo=UTC
    )
    assert parse_created_at("Wed Oct 10 22:19:24 +0200 2018").hour == 20
    with pytest.raises(ArchiveError, match="created_at 'yesterday'"):
        parse_created_at("yesterday")


def test_tweets_js_prefix_and_errors() -> None:
    text = 'window.YTD.tweets.part0 = [{"tweet": {"id_str": "1", "full_text": "hi", '
    text += '"created_at": "Wed Oct 10 20:19:24 +0000 2018"}}]'
    [only] = parse_tweets_js(text)
    assert (only.id, only.full_text, only.lang, only.media) == ("1", "hi", None, ())
    with pytest.raises(ArchiveError, match=r"does not start with window\.YTD"):
        parse_tweets_js("[]")
    with pytest.raises(ArchiveError, match=r"tweets.js:2: invalid JSON"):
        parse_tweets_js("window.YTD.tweets.part0 = [\n{oops}]")
    with pytest.raises(ArchiveError, match="entry 1 is not a tweet"):
        parse_tweets_js('window.YTD.tweets.part0 = [{"tweet": {}}]')


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_archive_reads_tweets_account_and_media(tmp_path: Path, form: str) -> None:
    path = ARCHIVE if form == "folder" else zipped(tmp_path)
    with Archive(path) as archive:
        assert len(archive.tweets) == 10
        assert archive.account is not None
        assert (archive.account.id, archive.account.screen_name) == ("42", "synthetic_author")
        assert archive.media_names == {"1002-SleeperA.png", "1002-MapB.jpg"}
        assert archive.read_media("1002-SleeperA.png").startswith(b"\x89PNG")
        second = next(t for t in archive.tweets if t.id == "1002")
        assert second.reply_to_status == "1001"
        assert [m.alt for m in second.media] == [
            "A sleeper compartment with two [folded] bunks",
            None,
        ]
        assert second.media[0].file_name("1002") == "1002-SleeperA.png"


def test_not_an_archive(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"no data/tweets\.js in it"):
        Archive(tmp_path)
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(ArchiveError, match="not a zip file or a folder"):
        Archive(tmp_path / "x.zip")
    with pytest.raises(ArchiveError, match="no such file or folder"):
        Archive(tmp_path / "missing")


# --- threads ------------------------------------------------------------------------


def test_author_inferred_without_account_js() -> None:
    with Archive(ARCHIVE) as archive:
        assert author_id(archive.tweets, None) == "42"
    assert author_id([tweet("1"), tweet("2", reply_to="99", user="7")], None) is None


def test_self_threads_of_the_synthetic_archive() -> None:
    with Archive(ARCHIVE) as archive:
        chains = self_threads(archive.tweets, "42")
    shape = [([t.id for t in c.tweets], c.replies_to_other) for c in chains]
    assert shape == [
        (["1001", "1002", "1003"], False),
        (["2001", "2002", "2003"], False),
        (["3001", "3002"], True),  # starts as a reply to someone else
        (["3101"], True),  # a reply to someone else: not a thread
        (["4001"], False),
    ]


def test_a_branch_starts_its_own_thread() -> None:
    tweets = [
        tweet("1"),
        tweet("3", minute=3, reply_to="1", user="42"),
        tweet("2", minute=2, reply_to="1", user="42"),
        tweet("4", minute=4, reply_to="2", user="42"),
    ]
    chains = self_threads(tweets, "42")
    assert [[t.id for t in c.tweets] for c in chains] == [["1", "2", "4"], ["3"]]
    assert chains[1].branch_of == "1"


def test_filters() -> None:
    with Archive(ARCHIVE) as archive:
        chains = self_threads(archive.tweets, "42")
    ids = lambda selection: [c.root.id for c in selection.chains]  # noqa: E731
    default = select_chains(chains)
    assert ids(default) == ["1001", "2001"]
    assert {note.kind for note in default.notes} == {"reply-to-other", "too-short"}
    assert ids(select_chains(chains, since=date(2019, 1, 1))) == ["2001"]
    assert ids(select_chains(chains, until=date(2018, 12, 31))) == ["1001"]
    assert ids(select_chains(chains, min_posts=3)) == ["1001", "2001"]
    assert ids(select_chains(chains, min_posts=1)) == ["1001", "2001", "4001"]
    # By id (any tweet of it), even a thread that starts as a reply.
    assert ids(select_chains(chains, thread_id="3002")) == ["3001"]


def test_tweet_text_links_entities_media_and_numbering() -> None:
    photo = Media("photo", "http://pbs.example/media/P.png", "https://t.co/m", "https://x/p", None)
    video = Media("video", "http://pbs.example/thumb/V.jpg", "https://t.co/v", "https://x/v", None)
    source = tweet(
        "7",
        "@friend Tom &amp; Jerry &lt;3 https://t.co/l 2/5 https://t.co/m",
        urls=(("https://t.co/l", "https://example.com/a?b=1&c=2"),),
        media=(photo,),
        display_start=8,
    )
    post, notes = tweet_post(source, 2, {"7-P.png"})
    assert post == ImportedPost(
        "Tom & Jerry <3 https://example.com/a?b=1&c=2", (ImportedImage("7-P.png"),)
    )
    assert notes == []
    # Numbering at the end is stripped once the media link is gone.
    post, _ = tweet_post(tweet("8", "Done 3/ https://t.co/m", media=(photo,)), 3, {"8-P.png"})
    assert post.text == "Done"
    # No file for the photo, and a video: linked to the original instead, and noted.
    post, notes = tweet_post(tweet("9", "Look https://t.co/v", media=(video,)), 1, set())
    assert post.text == "Look https://x/v"
    assert [note.kind for note in notes] == ["video"]
    post, notes = tweet_post(tweet("9", "Look https://t.co/m", media=(photo,)), 1, set())
    assert (post.text, post.images, [n.kind for n in notes]) == ("Look https://x/p", (), ["photo"])


@pytest.mark.parametrize(
    ("text", "index", "expected"),
    [
        ("Hello 1/", 1, "Hello"),
        ("Hello 2/7", 2, "Hello"),
        ("Hello (3/7)", 3, "Hello"),
        ("1/ Hello", 1, "Hello"),
        ("It was 1/2", 5, "It was 1/2"),  # a fraction, not this post's number
        ("Only 9/7", 9, "Only 9/7"),  # more than the total: not numbering
        ("see https://example.com/1/", 1, "see https://example.com/1/"),
    ],
)
def test_strip_numbering(text: str, index: int, expected: str) -> None:
    assert strip_numbering(text, index) == expected


def test_thread_lang_ignores_undetermined() -> None:
    assert thread_lang(["und", "fr", "fr", "en", None, "qme"]) == "fr"
    assert thread_lang(["und", "zxx"]) is None
    assert thread_lang(["in"]) == "id"


def test_slug_and_rendering() -> None:
    assert slug("Pourquoi les villes achètent des caméras ? Un fil.") == (
        "pourquoi-les-villes-achetent-des-cameras"
    )
    assert slug("日本語だけ") == ""
    assert slug("See https://example.com @bob #tag now") == "see-now"
    thread = ImportedThread(
        posts=(
            ImportedPost("A line\n---\n![not](an image)"),
            ImportedPost("", (ImportedImage("1-a.png", "with ] bracket\nand line"),)),
        ),
        comments=("Imported from somewhere",),
        lang="fr",
    )
    text = render_draft(thread, [[], ["d/1-a.png"]])
    assert text == (
        '+++\n# Imported from somewhere\ntitle = "A line"\nlang = "fr"\n+++\n'
        "A line\n- - -\n! [not](an image)\n\n---\n\n![with ) bracket and line](d/1-a.png)\n"
    )


# --- the whole import ------------------------------------------------------------------


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_drafts_from_the_synthetic_archive(tmp_path: Path, form: str) -> None:
    path = ARCHIVE if form == "folder" else zipped(tmp_path)
    out = tmp_path / "drafts"
    report = import_archive(path, out)
    assert report.tweets == 10
    assert [d.path.name for d in report.written] == [f"{THREAD_A}.md", f"{THREAD_B}.md"]
    assert [(d.posts, d.images, d.todo_alts) for d in report.written] == [(3, 2, 1), (3, 0, 0)]
    assert sorted(note.kind for note in report.notes) == ["reply-to-other", "too-short", "video"]

    first = read_draft(out / f"{THREAD_A}.md")
    raw = (out / f"{THREAD_A}.md").read_text()
    assert "# Imported from X/Twitter: https://x.com/synthetic_author/status/1001\n" in raw
    assert "# Posted 2018-10-10 20:19 UTC\n" in raw
    assert first.front.lang == "en"
    assert first.front.title == "Why night trains came back: a short thread 🧵"
    assert [post.text for post in first.posts] == [
        "Why night trains came back (https://example.com/night-trains): a short thread 🧵",
        "Sleeper cars cost more per seat & earn less per night, yet they fill up.",
        "Thanks to @SomeName for the figures <3 — and read the report: "
        "https://example.org/reports/rail?year=2018&lang=en",
    ]
    images = first.posts[1].images
    assert [(image.alt, image.written_path) for image in images] == [
        ("A sleeper compartment with two (folded) bunks", f"{THREAD_A}/1002-SleeperA.png"),
        (TODO_ALT, f"{THREAD_A}/1002-MapB.jpg"),
    ]
    assert (
        images[0].path.read_bytes()
        == (ARCHIVE / "data/tweets_media/1002-SleeperA.png").read_bytes()
    )

    second = read_draft(out / f"{THREAD_B}.md")
    assert second.front.lang == "fr"  # the "und" tweet does not count
    assert [post.text for post in second.posts] == [
        "Pourquoi les villes achètent des caméras ? Un fil. #surveillance",
        "Les chiffres : https://example.org/rapport-2019 (rapport 2019)",
        "👀 https://x.com/synthetic_author/status/2003/video/1",
    ]


def test_reimport_skips_and_thread_option(tmp_path: Path) -> None:
    out = tmp_path / "drafts"
    import_archive(ARCHIVE, out)
    again = import_archive(ARCHIVE, out)
    assert again.written == ()
    assert [n.kind for n in again.notes].count("already-imported") == 2
    assert sorted(p.name for p in out.glob("*.md")) == [f"{THREAD_A}.md", f"{THREAD_B}.md"]

    reply = import_archive(ARCHIVE, out, thread_id="3001")
    [written] = reply.written
    draft = read_draft(written.path)
    assert [post.text for post in draft.posts] == [
        "Agreed, and here is why.",
        "Trains run on time when the timetable leaves slack.",
    ]
    assert "# Was a reply to @other_person" in written.path.read_text()
    with pytest.raises(ThreadpostError, match="no tweet 12345 in the archive"):
        import_archive(ARCHIVE, out, thread_id="12345")


def test_zip_without_media_folder_links_the_photos(tmp_path: Path) -> None:
    path = tmp_path / "bare.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(ARCHIVE / "data" / "tweets.js", "data/tweets.js")
    report = import_archive(path, tmp_path / "out")
    assert [d.images for d in report.written] == [0, 0]
    photos = [n for n in report.notes if n.kind == "photo"]
    assert len(photos) == 2
    # Without account.js the author is inferred and the URL has no screen name.
    assert "https://x.com/i/status/1001" in report.written[0].path.read_text()
