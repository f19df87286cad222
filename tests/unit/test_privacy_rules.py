"""The pure rules behind issue 12's privacy items: the visibility order and narrowing,
`bluesky_labels` parsing, which labels a thread gets, the thread-wide problems of each
network's rules, and the self-labels field of a record (its CID included).
The CLI tests against the real servers are tests/cli/test_visibility_cli.py and
tests/cli/test_bluesky_privacy_cli.py."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from threadpost.draft import Draft, parse_draft
from threadpost.errors import DraftError
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.labels import SELF_LABELS_TYPE, self_labels_field
from threadpost.platforms.bluesky.records import draft_records, record_cid
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS, BLUESKY_RULES
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS, MASTODON_RULES
from threadpost.platforms.mastodon.statuses import draft_statuses
from threadpost.platforms.mastodon.visibility import (
    VISIBILITIES,
    is_wider,
    narrower,
    reply_visibility,
)


def _draft(front: str, body: str = "One.\n---\nTwo.\n", tmp: Path | None = None) -> Draft:
    raw = f"+++\n{front}+++\n{body}".encode()
    return parse_draft(raw, (tmp or Path("/drafts")) / "t.md")


# -- the visibility order ------------------------------------------------------------------


def test_the_order_is_public_unlisted_private_direct() -> None:
    assert VISIBILITIES == ("public", "unlisted", "private", "direct")
    for wide, narrow in itertools.combinations(VISIBILITIES, 2):
        assert is_wider(wide, narrow) and not is_wider(narrow, wide)
        assert narrower(wide, narrow) == narrower(narrow, wide) == narrow
    assert not is_wider("private", "private")


@pytest.mark.parametrize(
    ("first", "wanted", "replies"),
    [
        ("public", "unlisted", "unlisted"),
        ("public", "public", "public"),
        ("unlisted", "public", "unlisted"),
        ("private", "unlisted", "private"),
        ("private", "direct", "direct"),
        ("direct", "public", "direct"),
    ],
)
def test_a_reply_gets_the_narrower_visibility(first: str, wanted: str, replies: str) -> None:
    assert reply_visibility(first, wanted) == replies


def test_an_unknown_visibility_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="unknown visibility 'followers'"):
        narrower("followers", "public")


def test_planning_narrows_the_replies_and_the_statuses_carry_it() -> None:
    thread = plan_thread(_draft('visibility = "private"\n'), MASTODON_DEFAULT_LIMITS)
    assert (thread.visibility, thread.reply_visibility) == ("private", "private")
    assert [s["visibility"] for s in draft_statuses(thread)] == ["private", "private"]


def test_statuses_narrow_a_plan_frozen_with_wider_replies() -> None:
    from dataclasses import replace

    thread = plan_thread(_draft(""), MASTODON_DEFAULT_LIMITS)
    old = replace(thread, visibility="direct", reply_visibility="public")
    assert [s["visibility"] for s in draft_statuses(old)] == ["direct", "direct"]


# -- front matter ----------------------------------------------------------------------------


def test_reply_visibility_wider_than_visibility_is_a_draft_error_at_its_line() -> None:
    with pytest.raises(DraftError) as caught:
        _draft('title = "x"\nvisibility = "unlisted"\nreply_visibility = "public"\n')
    assert caught.value.line == 4
    assert "reply_visibility 'public' is wider than visibility 'unlisted'" in str(caught.value)
    assert (
        caught.value.hint == "use one of unlisted, private, direct, or leave reply_visibility out"
    )


@pytest.mark.parametrize(
    ("value", "labels"),
    [
        ('["graphic-media"]', ("graphic-media",)),
        ('"porn"', ("porn",)),
        ('["sexual", "nudity", "sexual"]', ("sexual", "nudity")),
        ("[]", ()),
    ],
)
def test_bluesky_labels_parse(value: str, labels: tuple[str, ...]) -> None:
    assert _draft(f"bluesky_labels = {value}\n").front.bluesky_labels == labels


def test_bluesky_labels_left_out_is_none_not_empty() -> None:
    assert _draft("").front.bluesky_labels is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["gore"]', "unknown Bluesky label 'gore' in bluesky_labels"),
        ('["Nudity"]', "unknown Bluesky label 'Nudity'"),
        ("true", "bluesky_labels must be a list"),
        ("[1]", "bluesky_labels must be a list"),
    ],
)
def test_bad_bluesky_labels_are_draft_errors_at_their_line(value: str, message: str) -> None:
    with pytest.raises(DraftError) as caught:
        _draft(f'lang = "en"\nbluesky_labels = {value}\n')
    assert caught.value.line == 3
    assert message in str(caught.value)


# -- which labels a thread gets ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "with_image", "labels"),
    [
        ("", True, ()),
        ("sensitive = true\n", False, ()),
        ("sensitive = true\n", True, ("graphic-media",)),
        ('cw = "surgery"\n', True, ("graphic-media",)),
        ('cw = "spoilers"\n', False, ()),
        ('sensitive = true\nbluesky_labels = ["porn"]\n', True, ("porn",)),
        ('cw = "x"\nbluesky_labels = []\n', True, ()),
        ('bluesky_labels = ["nudity"]\n', False, ("nudity",)),
    ],
)
def test_bluesky_labels_and_their_defaults(
    tmp_path: Path, front: str, with_image: bool, labels: tuple[str, ...]
) -> None:
    body = "One.\n![a picture](a.png)\n---\nTwo.\n" if with_image else "One.\n---\nTwo.\n"
    (tmp_path / "a.png").write_bytes(b"")  # parsing only needs the file to exist
    draft = _draft(front, body, tmp_path)
    assert plan_thread(draft, BLUESKY_LIMITS).labels == labels
    # Labels are Bluesky's: Mastodon has its content warning and sensitive flag instead.
    assert plan_thread(draft, MASTODON_DEFAULT_LIMITS).labels == ()


def test_labels_go_on_every_record_and_into_the_cid() -> None:
    draft = _draft('bluesky_labels = ["nudity", "graphic-media"]\n')
    records = draft_records(plan_thread(draft, BLUESKY_LIMITS))
    field = {"$type": SELF_LABELS_TYPE, "values": [{"val": "nudity"}, {"val": "graphic-media"}]}
    assert [record["labels"] for record in records] == [field, field]
    assert self_labels_field(["nudity", "graphic-media"]) == field
    unlabelled = {key: value for key, value in records[0].items() if key != "labels"}
    assert record_cid(unlabelled) != record_cid(records[0])
    assert "labels" not in draft_records(plan_thread(_draft(""), BLUESKY_LIMITS))[0]


# -- thread-wide problems -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "kwargs", "line", "start"),
    [
        ('visibility = "private"\n', {}, 2, "visibility is 'private'"),
        ('visibility = "direct"\n', {}, 2, "visibility is 'direct'"),
        ('reply_visibility = "private"\n', {}, 2, "reply_visibility is 'private'"),
        (
            "",
            {"visibility": "private"},
            None,
            "the configuration's [mastodon] visibility is 'private'",
        ),
    ],
)
def test_bluesky_refuses_a_thread_that_is_not_public(
    front: str, kwargs: dict[str, str], line: int | None, start: str
) -> None:
    draft = _draft(front)
    thread = plan_thread(draft, BLUESKY_LIMITS, visibility=kwargs.get("visibility"))
    (problem,) = BLUESKY_RULES.thread_problems(thread, draft.front)
    assert (problem.severity, problem.code, problem.platform, problem.post, problem.line) == (
        "error",
        "visibility-not-on-bluesky",
        "bluesky",
        None,
        line,
    )
    assert problem.message.startswith(start)
    assert problem.message.endswith(
        'to publish to Mastodon only, set platforms = ["mastodon"] in the front matter or '
        "pass --platform mastodon"
    )


@pytest.mark.parametrize("visibility", ["public", "unlisted"])
def test_bluesky_accepts_public_and_unlisted(visibility: str) -> None:
    draft = _draft(f'visibility = "{visibility}"\n')
    thread = plan_thread(draft, BLUESKY_LIMITS)
    assert BLUESKY_RULES.thread_problems(thread, draft.front) == []


def test_a_content_warning_without_chosen_labels_is_a_bluesky_warning_only() -> None:
    draft = _draft('title = "t"\ncw = "spoilers"\n')
    (warning,) = BLUESKY_RULES.thread_problems(plan_thread(draft, BLUESKY_LIMITS), draft.front)
    assert (warning.severity, warning.code, warning.line) == (
        "warning",
        "content-warning-not-on-bluesky",
        3,
    )
    mastodon = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    assert MASTODON_RULES.thread_problems(mastodon, draft.front) == []
    chosen = _draft('cw = "spoilers"\nbluesky_labels = []\n')
    assert BLUESKY_RULES.thread_problems(plan_thread(chosen, BLUESKY_LIMITS), chosen.front) == []


def test_mastodon_refuses_a_written_reply_visibility_wider_than_the_configured_one() -> None:
    draft = _draft('reply_visibility = "unlisted"\n')
    thread = plan_thread(draft, MASTODON_DEFAULT_LIMITS, visibility="private")
    assert thread.reply_visibility == "private"  # what would be sent, were it sent
    (problem,) = MASTODON_RULES.thread_problems(thread, draft.front)
    assert (problem.severity, problem.code, problem.line) == ("error", "reply-visibility-wider", 2)
    assert "the configuration's [mastodon] visibility 'private'" in problem.message
    # A configured default is narrowed without a word.
    default = plan_thread(_draft(""), MASTODON_DEFAULT_LIMITS, visibility="private")
    assert default.reply_visibility == "private"
    assert MASTODON_RULES.thread_problems(default, _draft("").front) == []


# -- the frozen plan -----------------------------------------------------------------------


def test_the_ledger_keeps_a_plans_labels_and_reads_older_plans_as_unlabelled() -> None:
    from threadpost.store import thread_from_json, thread_to_json

    thread = plan_thread(_draft('bluesky_labels = ["porn", "sexual"]\n'), BLUESKY_LIMITS)
    stored = thread_to_json(thread)
    assert stored["labels"] == ["porn", "sexual"]
    assert thread_from_json(stored) == thread
    older = {key: value for key, value in stored.items() if key != "labels"}
    assert thread_from_json(older).labels == ()
