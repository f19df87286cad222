"""Archive import against hostile input (issues 17 and 18): names that climb out of --out,
zip slip, links out of the archive, bombs, front-matter injection, half-written imports.

Every archive is built by the test (tests/archive_builders.py); each case failed before the
fix (written outside the output folder, copied a local file, ran out of memory, injected
TOML keys, or left drafts behind after an error).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tomllib
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_builders import (
    account_js,
    lie_about_size,
    tweet_entry,
    tweets_js,
    two_tweet_thread,
    write_bomb_zip,
    write_zip,
)
from threadpost.draft import read_draft
from threadpost.importer.archive import Archive, ArchiveError
from threadpost.importer.archive_files import ArchiveLimits
from threadpost.importer.model import ImportedImage, ImportedPost, ImportedThread
from threadpost.importer.names import safe_file_name
from threadpost.importer.run import import_archive
from threadpost.importer.threads import thread_lang
from threadpost.importer.toml_text import toml_string
from threadpost.importer.writer import ImportWriteError, render_draft, write_drafts

ARCHIVE = Path(__file__).resolve().parents[1] / "data" / "import" / "archive"
MiB = 1 << 20
SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


def all_files(root: Path) -> set[Path]:
    """Every file and link under `root` (links not followed)."""
    found: set[Path] = set()
    for folder, dirs, files in os.walk(root):
        found |= {
            Path(folder) / name for name in files + dirs if not (Path(folder) / name).is_dir()
        }
    return found


def front_matter(path: Path) -> dict[str, object]:
    """The draft's front matter parsed by tomllib itself (not by threadpost)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "+++"
    end = lines.index("+++", 1)
    return tomllib.loads("\n".join(lines[1:end]))


# --- names: nothing is written outside --out (issue 17) ---------------------------------


def test_a_tweet_id_that_climbs_out_of_out_is_refused(tmp_path: Path) -> None:
    # The case: no ASCII word in the text, so the draft was named after the id.
    target = tmp_path / "elsewhere"
    target.mkdir()
    evil_id = f"/../../../..{target}/x-pwned"
    archive = write_zip(
        tmp_path / "a.zip",
        {"data/tweets.js": tweets_js(tweet_entry(evil_id, "日本語"), tweet_entry("2", "ok"))},
    )
    out = tmp_path / "out"
    with pytest.raises(ArchiveError, match=r"a\.zip: data/tweets\.js: entry 1: id_str .* not"):
        import_archive(archive, out, min_posts=1)
    assert all_files(target) == set()
    assert not out.exists() or all_files(out) == set()


def test_the_writer_keeps_every_name_inside_out(tmp_path: Path) -> None:
    # Whatever an importer hands it, the writer names files itself: one safe component each.
    out = tmp_path / "deep" / "out"
    thread = ImportedThread(
        posts=(
            ImportedPost("日本語"),
            ImportedPost(
                "",
                (
                    ImportedImage("../../../../evil.png", "a"),
                    ImportedImage("/etc/passwd", "b"),
                    ImportedImage("..", "c"),
                    ImportedImage("a\\..\\b c?.png", "d"),
                ),
            ),
        ),
        comments=("Imported from a test",),
        source_id="../../../../x-pwned" + "9" * 300,
    )
    written, _ = write_drafts([thread], out, lambda name: b"\x89PNG " + name.encode())
    assert all_files(tmp_path) == all_files(out)  # nothing outside
    [draft] = written
    assert draft.path.parent == out
    assert len(draft.path.name) <= 100
    names = {path.relative_to(out).as_posix() for path in all_files(out)}
    for name in names:
        for part in name.split("/"):
            assert part not in (".", "..")
            assert len(part) <= 100
    images = read_draft(draft.path).posts[1].images
    assert len(images) == 4
    assert len({image.path for image in images}) == 4  # sanitised names made unique
    for image in images:
        assert image.path.parent == draft.path.with_suffix("")
        assert image.path.is_file()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("1002-SleeperA.png", "1002-SleeperA.png"),
        ("../../etc/passwd", "etc-passwd"),
        ("..", "file"),
        (".hidden.png", "hidden.png"),
        ("a b?c.JPG", "a-b-c.JPG"),
        ("café.png", "cafe.png"),
        ("x" * 300 + ".jpeg", "x" * 95 + ".jpeg"),
        ("CON.png", "file-CON.png"),
        ("a..b", "a.b"),
    ],
)
def test_safe_file_name(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected
    assert len(safe_file_name(name)) <= 100


@given(st.text())
def test_safe_file_name_is_always_one_plain_component(name: str) -> None:
    safe = safe_file_name(name)
    assert safe and len(safe) <= 100
    assert "/" not in safe and "\\" not in safe and ".." not in safe
    assert not safe.startswith((".", "-"))
    assert safe.isascii() and safe.isprintable() and " " not in safe


def test_links_already_in_out_are_never_written_through(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    stem = "2018-10-10-night-trains-are-back-second-part"
    # A dangling link where the draft would go, and a link to a folder where its images would.
    (out / f"{stem}.md").symlink_to(outside / "planted.md")
    (out / f"{stem}-2").symlink_to(outside)
    archive = write_zip(
        tmp_path / "a.zip",
        {
            "data/tweets.js": two_tweet_thread(media=("P.png",)),
            "data/tweets_media/1002-P.png": b"\x89PNG fake",
        },
    )
    report = import_archive(archive, out)
    [draft] = report.written
    assert draft.path == out / f"{stem}-3.md"
    assert all_files(outside) == set()
    assert (out / f"{stem}-3" / "1002-P.png").read_bytes() == b"\x89PNG fake"


# --- the archive itself: zip slip, links, special files (issues 17, 18) ----------------


@pytest.mark.parametrize(
    "evil",
    [
        "../../evil.txt",
        "twitter/../../evil.txt",
        "/tmp/evil.txt",
        "C:/evil.txt",
        "data\\..\\..\\evil.txt",
    ],
)
def test_zip_slip_entries_refuse_the_archive(tmp_path: Path, evil: str) -> None:
    archive = write_zip(
        tmp_path / "slip.zip",
        {"data/tweets.js": two_tweet_thread(), evil: b"pwned"},
    )
    out = tmp_path / "out"
    with pytest.raises(ArchiveError, match=r"slip\.zip: .*evil\.txt.*outside the archive"):
        import_archive(archive, out)
    assert not out.exists()


def test_a_symlink_entry_in_a_zip_is_refused(tmp_path: Path) -> None:
    archive = write_zip(
        tmp_path / "link.zip",
        {"data/tweets.js": two_tweet_thread(media=("P.png",))},
        symlinks={"data/tweets_media/1002-P.png": "/etc/passwd"},
    )
    out = tmp_path / "out"
    with pytest.raises(
        ArchiveError, match=r"link\.zip: data/tweets_media/1002-P\.png: is a symbolic link"
    ):
        import_archive(archive, out)
    assert not out.exists()


def test_a_duplicate_zip_entry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.zip"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("data/tweets.js", two_tweet_thread())
        archive.writestr("data/tweets.js", two_tweet_thread(first_text="Other"))
    with pytest.raises(ArchiveError, match=r"twice\.zip: data/tweets\.js: appears twice"):
        Archive(path)


@pytest.mark.parametrize("link", ["media-file", "media-folder", "tweets-js", "fifo"])
def test_a_folder_archive_never_follows_links_out(tmp_path: Path, link: str) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "1002-MapB.jpg").write_bytes(b"SECRET local file")
    (secret / "tweets.js").write_bytes((ARCHIVE / "data" / "tweets.js").read_bytes())
    root = tmp_path / "archive"
    shutil.copytree(ARCHIVE, root)
    media = root / "data" / "tweets_media"
    if link == "media-file":
        (media / "1002-MapB.jpg").unlink()
        (media / "1002-MapB.jpg").symlink_to(secret / "1002-MapB.jpg")
        entry = "data/tweets_media/1002-MapB.jpg"
    elif link == "media-folder":
        shutil.rmtree(media)
        media.symlink_to(secret)
        entry = "data/tweets_media"
    elif link == "tweets-js":
        (root / "data" / "tweets.js").unlink()
        (root / "data" / "tweets.js").symlink_to(secret / "tweets.js")
        entry = "data/tweets.js"
    else:
        (media / "1002-MapB.jpg").unlink()
        os.mkfifo(media / "1002-MapB.jpg")
        entry = "data/tweets_media/1002-MapB.jpg"
    out = tmp_path / "out"
    kind = "is not a regular file" if link == "fifo" else "is a symbolic link"
    with pytest.raises(ArchiveError, match=rf"archive: {entry}: {kind}"):
        import_archive(root, out)
    assert not out.exists()


def test_a_file_swapped_for_a_link_after_listing_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    shutil.copytree(ARCHIVE, root)
    (tmp_path / "secret.jpg").write_bytes(b"SECRET")
    with Archive(root) as archive:
        photo = root / "data" / "tweets_media" / "1002-MapB.jpg"
        photo.unlink()
        photo.symlink_to(tmp_path / "secret.jpg")
        with pytest.raises(ArchiveError, match=r"1002-MapB\.jpg: .*symbolic link"):
            archive.read_media("1002-MapB.jpg")


def test_a_folder_file_that_grows_after_listing_is_cut_at_the_limit(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    shutil.copytree(ARCHIVE, root)
    with Archive(root, limits=ArchiveLimits(max_entry_bytes=2 * MiB)) as archive:
        photo = root / "data" / "tweets_media" / "1002-MapB.jpg"
        listed = photo.stat().st_size
        with photo.open("ab") as file:
            file.write(b"\0" * 16)
        with pytest.raises(ArchiveError, match=r"1002-MapB\.jpg: longer than its listed size"):
            archive.read_media("1002-MapB.jpg")
        photo.write_bytes(b"\0" * listed)  # same size again: read as listed
        assert archive.read_media("1002-MapB.jpg") == b"\0" * listed


# --- bounded reads (issue 18: a 1.5 MB zip reached 3.1 GB) ---------------------------------


def test_a_deflate_bomb_is_refused_with_little_memory(tmp_path: Path) -> None:
    prefix = b"window.YTD.tweets.part0 = ["
    bomb = write_bomb_zip(tmp_path / "bomb.zip", "data/tweets.js", 64 * MiB, prefix=prefix)
    assert bomb.stat().st_size < 200_000  # 64 MiB of spaces deflate to about 64 KiB
    out = tmp_path / "out"
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveError) as raised:
            import_archive(bomb, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(raised.value)
    assert "bomb.zip: data/tweets.js:" in message
    assert "100:1" in message  # the limit it broke
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert not out.exists()


def test_a_zip_that_understates_a_size_is_cut_there(tmp_path: Path) -> None:
    # A header claiming 1,000 bytes for 8 MiB of data: only 1,000 bytes are ever inflated,
    # and the CRC check then refuses the member.
    path = write_zip(
        tmp_path / "liar.zip",
        {"data/tweets.js": b"window.YTD.tweets.part0 = [" + b" " * (8 * MiB) + b"]"},
    )
    lie_about_size(path, "data/tweets.js", 1000)
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveError, match=r"liar\.zip: data/tweets\.js: cannot read: Bad CRC"):
            Archive(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_per_entry_total_and_count_limits(tmp_path: Path) -> None:
    big = tweets_js(tweet_entry("1", "x" * (2 * MiB)))
    stored = write_zip(tmp_path / "big.zip", {"data/tweets.js": big}, stored=True)
    with pytest.raises(ArchiveError, match=r"big\.zip: data/tweets\.js: .*1 MiB \(the limit"):
        Archive(stored, limits=ArchiveLimits(max_entry_bytes=1 * MiB))
    # Within the per-entry limit, but not within the total.
    parts = write_zip(
        tmp_path / "parts.zip",
        {f"data/tweets-part{n}.js": tweets_js(tweet_entry(str(n), "y" * MiB)) for n in range(3)},
        stored=True,
    )
    limits = ArchiveLimits(max_entry_bytes=2 * MiB, max_total_bytes=2 * MiB)
    with pytest.raises(ArchiveError, match=r"parts\.zip: data/tweets-part\d\.js: .*2 MiB in all"):
        Archive(parts, limits=limits)
    many = write_zip(
        tmp_path / "many.zip",
        {"data/tweets.js": two_tweet_thread()} | {f"junk/{n}": b"" for n in range(50)},
    )
    with pytest.raises(ArchiveError, match=r"many\.zip: more than 40 entries"):
        Archive(many, limits=ArchiveLimits(max_entries=40))
    folder = tmp_path / "folder"
    shutil.copytree(ARCHIVE, folder)
    with pytest.raises(ArchiveError, match=r"folder: more than 3 entries"):
        Archive(folder, limits=ArchiveLimits(max_entries=3))


def test_a_photo_bomb_refuses_the_archive_before_anything_is_written(tmp_path: Path) -> None:
    archive = write_zip(
        tmp_path / "photo.zip",
        {
            "data/tweets.js": tweets_js(
                tweet_entry("1", "First thread"),
                tweet_entry("2", "its end", reply_to="1"),
                tweet_entry("3", "Second thread"),
                tweet_entry("4", "with a photo", reply_to="3", media=("P.png",)),
            ),
            "data/tweets_media/4-P.png": b"\0" * (32 * MiB),
        },
    )
    out = tmp_path / "out"
    with pytest.raises(ArchiveError, match=r"photo\.zip: data/tweets_media/4-P\.png: .*100:1"):
        import_archive(archive, out)
    assert not out.exists() or all_files(out) == set()


def test_a_failure_midway_leaves_nothing_half_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.md").write_text("kept\n")
    threads = [
        ImportedThread((ImportedPost("First", (ImportedImage("a.png"),)),), ("one",)),
        ImportedThread((ImportedPost("Second", (ImportedImage("b.png"),)),), ("two",)),
    ]

    def read_image(name: str) -> bytes:
        if name == "b.png":
            raise ArchiveError("photo.zip: b.png: damaged")
        return b"\x89PNG"

    with pytest.raises(ArchiveError, match="damaged"):
        write_drafts(threads, out, read_image)
    assert sorted(p.name for p in out.iterdir()) == ["mine.md"]  # no draft, folder or temp file


def test_damaged_shapes_are_errors_not_tracebacks(tmp_path: Path) -> None:
    cases = {
        "latin1": b"window.YTD.tweets.part0 = [\xff]",
        "nested": b"window.YTD.tweets.part0 = " + b"[" * 100_000 + b"]" * 100_000,
        "shape": tweets_js({"tweet": {"id_str": "1", "full_text": "x", "entities": "nope"}}),
    }
    for name, data in cases.items():
        archive = write_zip(tmp_path / f"{name}.zip", {"data/tweets.js": data})
        with pytest.raises(ArchiveError, match=rf"{name}\.zip: data/tweets\.js"):
            Archive(archive)


# --- TOML: every value escaped (issue 18: a newline in the username injected keys) -------


def test_a_username_cannot_inject_front_matter_keys(tmp_path: Path) -> None:
    # Before the fix this made three keys of the draft (the trailing # ate the rest).
    username = 'evil"\nplatforms = ["mastodon"]\nschedule = 2030-01-01T00:00:00Z\ncw = "x" #'
    archive = write_zip(
        tmp_path / "a.zip",
        {"data/tweets.js": two_tweet_thread(), "data/account.js": account_js(username)},
    )
    out = tmp_path / "out"
    [draft] = import_archive(archive, out).written
    assert set(front_matter(draft.path)) == {"title", "lang"}
    parsed = read_draft(draft.path)
    assert parsed.front.schedule is None
    assert "https://x.com/i/status/1001" in draft.path.read_text()


def test_front_matter_values_round_trip_through_tomllib() -> None:
    nasty = 'Tom "the" \\ cat\x00\x01\x07\x08\t\x0b\x0c\x1b\x1f\x7f\x85\u2028\u2029 🧵 é'
    thread = ImportedThread(
        posts=(ImportedPost(nasty),), comments=("line one\nplatforms = []",), lang="en"
    )
    front = tomllib.loads(render_draft(thread).split("+++\n")[1])
    # title() folds whitespace (U+2028 and the other separators too); nothing else changes.
    assert front == {"title": re.sub(r"\s+", " ", nasty).strip(), "lang": "en"}


@given(st.text())
def test_toml_string_round_trips_any_text(value: str) -> None:
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_lone_surrogates_and_bad_lang_do_not_break_the_draft(tmp_path: Path) -> None:
    thread = ImportedThread(
        posts=(ImportedPost("Broken \ud83d emoji and a NUL \x00 here"), ImportedPost("Two")),
        comments=("c",),
        lang='en"\nplatforms = ["x"]',
    )
    written, _ = write_drafts([thread], tmp_path / "out")
    draft = read_draft(written[0].path)
    assert draft.front.lang == 'en"\nplatforms = ["x"]'  # one value, exactly, not a key
    assert draft.front.platforms == ("mastodon", "bluesky")
    assert thread_lang(['en"\nplatforms = ["x"]', "fr"]) == "fr"  # the archive's: not a tag
    assert draft.posts[0].text == "Broken \ufffd emoji and a NUL \ufffd here"


# --- no file outside the archive gets into a draft or its images ---------------------------


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_a_carriage_return_cannot_smuggle_an_image_line(tmp_path: Path, newline: str) -> None:
    archive = write_zip(
        tmp_path / "a.zip",
        {
            "data/tweets.js": tweets_js(
                tweet_entry("1001", f"Look{newline}![x](/etc/passwd){newline}---{newline}after"),
                tweet_entry("1002", "Second", reply_to="1001"),
            )
        },
    )
    [written] = import_archive(archive, tmp_path / "out").written
    draft = read_draft(written.path)
    assert [post.images for post in draft.posts] == [(), ()]
    assert len(draft.posts) == 2
    assert "/etc/passwd" in draft.posts[0].text


def test_out_itself_may_be_a_link_to_a_folder(tmp_path: Path) -> None:
    # The user's own choice (e.g. drafts -> ~/Sync/drafts): followed once, then contained.
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "drafts").symlink_to(real)
    report = import_archive(ARCHIVE, tmp_path / "drafts")
    assert len(report.written) == 2
    assert len(list(real.glob("*.md"))) == 2


def test_regular_archive_files_stay_regular(tmp_path: Path) -> None:
    [draft, _] = import_archive(ARCHIVE, tmp_path / "out").written
    for path in all_files(tmp_path / "out"):
        assert stat.S_ISREG(path.lstat().st_mode)
    assert not list((tmp_path / "out").glob(".*"))  # no temp file left behind
    with pytest.raises(ImportWriteError, match="not a folder"):
        write_drafts([], draft.path)


def test_reimport_finds_drafts_by_their_front_matter_not_by_links(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = import_archive(ARCHIVE, out)
    # A draft renamed by the user is still the same import; a link is never read.
    renamed = out / "my-night-trains.md"
    first.written[0].path.rename(renamed)
    (tmp_path / "elsewhere.md").write_bytes(first.written[1].path.read_bytes())
    first.written[1].path.unlink()
    (out / "planted.md").symlink_to(tmp_path / "elsewhere.md")
    again = import_archive(ARCHIVE, out)
    skipped = [note.message for note in again.notes if note.kind == "already-imported"]
    assert skipped == [f"thread 1001 is already in {renamed}: not written again"]
    assert [draft.source_id for draft in again.written] == ["2001"]
