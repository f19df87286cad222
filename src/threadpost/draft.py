"""Draft files → `Draft` values. Pure: reads the one file (and stats its images), nothing else.

The format (DESIGN.md): optional TOML front matter between `+++` lines, posts separated by
a line of three or more `-`, `![alt](path)` alone on a line attaches an image.
Every error is a `DraftError` naming the file and the line.
"""

from __future__ import annotations

import functools
import hashlib
import re
import string
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final, NamedTuple

from threadpost.errors import DraftError
from threadpost.platforms.bluesky.labels import SELF_LABELS
from threadpost.platforms.mastodon.visibility import VISIBILITIES, is_wider
from threadpost.values import ACCOUNT_NAME, PLATFORMS, PlatformName

#: Larger drafts are refused before parsing: no thread is that long, and a 10 MB file is
#: far more likely a wrong path (a log, a binary) than a thread.
MAX_DRAFT_BYTES: Final = 8 * 1024 * 1024

DEFAULT_NUMBERING: Final = "{i}/{n}"

_SEPARATOR = re.compile(r"^-{3,}\s*$")
_FRONT_MATTER_FENCE = re.compile(r"^\+\+\+\s*$")
_IMAGE_LINE = re.compile(r"^\s*!\[(?P<alt>[^\]]*)\]\((?P<path>[^)]*)\)\s*$")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class Image:
    """An image attached to a post."""

    path: Path  # absolute, resolved against the draft's folder
    alt: str
    line: int
    written_path: str  # as written in the draft, for messages


@dataclass(frozen=True)
class Caption:
    """A captions (subtitles) file for the video of a post, from its
    `> captions <lang> <path>` line. The file is read by `check` and the publisher, not
    here, so that every problem with it is reported with the others."""

    lang: str  # as written: a BCP 47 language tag, e.g. "en", "pt-BR"
    path: Path  # absolute, resolved against the draft's folder
    line: int
    written_path: str  # as written in the draft, for messages


#: How long a poll stays open when its post gives no `> poll-duration` (Mastodon's web
#: app offers one day first).
DEFAULT_POLL_SECONDS: Final = 24 * 60 * 60


@dataclass(frozen=True)
class Poll:
    """A poll on a post, from its `> poll A | B | C` line and the `> poll-…` lines."""

    options: tuple[str, ...]
    #: Seconds it stays open (Mastodon's `poll[expires_in]`).
    expires_in: int = DEFAULT_POLL_SECONDS
    multiple: bool = False
    hide_totals: bool = False
    line: int = 0  # the `> poll` line

    def to_json(self) -> dict[str, object]:
        return {
            "options": list(self.options),
            "expires_in": self.expires_in,
            "multiple": self.multiple,
            "hide_totals": self.hide_totals,
        }


@dataclass(frozen=True)
class DraftPost:
    """One post as the author wrote it (before any splitting)."""

    index: int  # 1-based
    line: int  # line of its first text (or image) in the file
    text: str
    images: tuple[Image, ...] = ()
    #: File line of each line of `text` (image lines are not in `text`), for messages.
    text_lines: tuple[int, ...] = ()
    #: The post it quotes, as written on its `> quote <address>` line (a post URL or an
    #: at:// URI; each network decides what it can quote), and that line.
    quote: str | None = None
    quote_line: int | None = None
    #: Record tags from its `> tags #one #two` line (without "#"); None: no such line.
    tags: tuple[str, ...] | None = None
    tags_line: int | None = None
    #: Its own content warning, from its `> cw <text>` line (Mastodon's spoiler_text for
    #: the posts made from it, instead of the front matter's `cw`); None: no such line.
    cw: str | None = None
    cw_line: int | None = None
    #: Its poll (`> poll A | B | C`, with `> poll-duration`, `> poll-multiple`,
    #: `> poll-hide-totals`); None: no poll. Each network decides what it can send.
    poll: Poll | None = None
    #: Captions files for its video (`> captions en subs/clip.en.vtt`, one line a
    #: language), on the first post made from it; each network decides what it sends.
    captions: tuple[Caption, ...] = ()

    def line_at(self, offset: int) -> int:
        """The file line holding code-point `offset` of `text`."""
        row = self.text.count("\n", 0, offset)
        if row < len(self.text_lines):
            return self.text_lines[row]
        return self.line + row


@dataclass(frozen=True)
class FrontMatter:
    """The draft's settings. Absent keys take these defaults."""

    title: str | None = None
    platforms: tuple[PlatformName, ...] = PLATFORMS
    lang: str | None = None
    #: Naive when the draft gave a local time: resolved in the configured timezone later.
    schedule: datetime | None = None
    #: Format with {i} and {n}; None turns numbering off.
    numbering: str | None = DEFAULT_NUMBERING
    cw: str | None = None
    visibility: str | None = None
    reply_visibility: str | None = None
    sensitive: bool = False
    #: Bluesky self-labels for every post (`platforms.bluesky.labels.SELF_LABELS`); None:
    #: not given, so Bluesky's rules choose from `sensitive`, `cw` and the images; ():
    #: explicitly none.
    bluesky_labels: tuple[str, ...] | None = None
    link_cards: bool | None = None
    #: Bluesky: show long links shortened as the official app does (the facet keeps the
    #: full URI). None: the configuration decides.
    shorten_links: bool | None = None
    #: Bluesky reply controls (a threadgate): None lets everyone reply (no threadgate);
    #: () nobody; else the allowed groups (`platforms.bluesky.interactions.REPLY_RULES`).
    bluesky_replies: tuple[str, ...] | None = None
    #: Bluesky quote controls: False puts a postgate forbidding quotes on every post.
    bluesky_quotes: bool = True
    #: Who may quote the thread's Mastodon statuses (`quote_approval_policy`: public,
    #: followers, nobody); None: the account's own default setting.
    mastodon_quotes: str | None = None
    #: Bluesky record tags (hashtags not in the text) of the first post, without "#".
    bluesky_tags: tuple[str, ...] = ()
    #: The named account of the config to publish with (`accounts.py`); None: not given.
    account: str | None = None
    #: The post the thread replies to: one address (`reply_to = "…"`), which applies to
    #: the network it belongs to (each network's rules decide), or one per network
    #: (`reply_to = { mastodon = "…", bluesky = "…" }`, in `reply_to_networks`).
    reply_to: str | None = None
    reply_to_networks: tuple[tuple[PlatformName, str], ...] = ()
    #: Line of each key in the file, for messages about values that pass parsing.
    lines: dict[str, int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Draft:
    """A parsed draft."""

    path: Path
    front: FrontMatter
    posts: tuple[DraftPost, ...]
    #: sha256 of the file's bytes: the ledger notices an edited draft by it.
    content_hash: str


def read_draft(path: Path | str) -> Draft:
    """Read and parse the draft at `path`."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_DRAFT_BYTES:
            raise DraftError(
                path,
                f"the file is {size / 1_000_000:.1f} MB; a draft may be at most "
                f"{MAX_DRAFT_BYTES // (1024 * 1024)} MiB",
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DraftError(path, "no such file") from None
    except IsADirectoryError:
        raise DraftError(path, "is a folder, not a draft file") from None
    except PermissionError:
        raise DraftError(path, "permission denied") from None
    except OSError as exc:
        raise DraftError(path, f"cannot read: {exc.strerror or exc}") from None
    return parse_draft(raw, path)


def parse_draft(raw: bytes, path: Path | str) -> Draft:
    """Parse a draft's bytes; `path` names it in errors and anchors relative image paths."""
    path = Path(path)
    text = _decode(raw, path)
    # Only CR LF, CR and LF end a line: str.splitlines() would also split at U+2028, form
    # feeds and other separators, shifting every line number after them.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    front, body_start = _split_front_matter(lines, path)
    posts = _parse_posts(lines, body_start, path)
    return Draft(
        path=path,
        front=front,
        posts=posts,
        content_hash=hashlib.sha256(raw).hexdigest(),
    )


def _decode(raw: bytes, path: Path) -> str:
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        raise DraftError(
            path,
            f"contains a NUL byte at byte offset {offset}: this is a binary file, not a draft",
            line=raw.count(b"\n", 0, offset) + 1,
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bom = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
        offset = exc.start + bom
        raise DraftError(
            path,
            f"is not valid UTF-8: byte 0x{raw[offset]:02x} at byte offset {offset}",
            line=raw.count(b"\n", 0, offset) + 1,
            hint="save the draft as UTF-8",
        ) from None
    if not text.strip():
        raise DraftError(path, "the draft is empty")
    return text


def _split_front_matter(lines: list[str], path: Path) -> tuple[FrontMatter, int]:
    """Return the front matter and the index of the first body line."""
    if not lines or not _FRONT_MATTER_FENCE.match(lines[0]):
        return FrontMatter(), 0
    for end in range(1, len(lines)):
        if _FRONT_MATTER_FENCE.match(lines[end]):
            break
    else:
        raise DraftError(path, "front matter opened with +++ is never closed", line=1)
    source = "\n".join(lines[1:end])
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        # tomllib counts lines from the first line after the opening +++.
        line = int(position.group(1)) + 1 if position else end
        reason = _TOML_POSITION.sub("", message).strip()
        raise DraftError(path, f"invalid TOML front matter: {reason}", line=line) from None
    key_lines = _key_lines(lines[1:end], first_line=2)
    return _front_matter(data, key_lines, path), end + 1


def _key_lines(lines: list[str], first_line: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for offset, line in enumerate(lines):
        match = re.match(r"\s*([A-Za-z0-9_\-\"']+)\s*=", line)
        if match:
            found.setdefault(match.group(1).strip("\"'"), first_line + offset)
    return found


#: Mastodon's own words for `quote_approval_policy` (POST /api/v1/statuses, 4.5).
MASTODON_QUOTE_POLICIES: Final = ("public", "followers", "nobody")

_KNOWN_KEYS: Final = frozenset(
    {
        "title",
        "platforms",
        "lang",
        "schedule",
        "numbering",
        "cw",
        "visibility",
        "reply_visibility",
        "sensitive",
        "bluesky_labels",
        "link_cards",
        "shorten_links",
        "bluesky_replies",
        "bluesky_quotes",
        "mastodon_quotes",
        "bluesky_tags",
        "account",
        "reply_to",
    }
)


def _front_matter(data: dict[str, Any], key_lines: dict[str, int], path: Path) -> FrontMatter:
    def fail(key: str, message: str, hint: str | None = None) -> DraftError:
        return DraftError(path, message, line=key_lines.get(key, 1), hint=hint)

    for key in data:
        if key not in _KNOWN_KEYS:
            known = ", ".join(sorted(_KNOWN_KEYS))
            raise fail(key, f"unknown front-matter key {key!r} (known keys: {known})")

    def optional_str(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise fail(key, f"{key} must be a string, not {_toml_type(value)}")
        return value

    def optional_bool(key: str) -> bool | None:
        value = data.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise fail(key, f"{key} must be true or false, not {_toml_type(value)}")

    visibility = optional_str("visibility")
    reply_visibility = optional_str("reply_visibility")
    for key, value in (("visibility", visibility), ("reply_visibility", reply_visibility)):
        if value is not None and value not in VISIBILITIES:
            raise fail(key, f"{key} must be one of {', '.join(VISIBILITIES)}, not {value!r}")
    if visibility and reply_visibility and is_wider(reply_visibility, visibility):
        # Replies are read by whoever reads the thread: they may hide more, never less.
        narrower = ", ".join(v for v in VISIBILITIES if not is_wider(v, visibility))
        raise fail(
            "reply_visibility",
            f"reply_visibility {reply_visibility!r} is wider than visibility {visibility!r}: "
            "the replies would reach people the first post does not",
            hint=f"use one of {narrower}, or leave reply_visibility out",
        )

    mastodon_quotes = optional_str("mastodon_quotes")
    if mastodon_quotes is not None and mastodon_quotes not in MASTODON_QUOTE_POLICIES:
        raise fail(
            "mastodon_quotes",
            f"mastodon_quotes must be one of {', '.join(MASTODON_QUOTE_POLICIES)}, "
            f"not {mastodon_quotes!r}",
            # bluesky_replies says "everyone"; this key keeps Mastodon's own words.
            hint='"public" lets everyone quote' if mastodon_quotes == "everyone" else None,
        )

    cw = optional_str("cw")
    reply_to, reply_to_networks = _reply_to(data, fail)
    return FrontMatter(
        title=optional_str("title"),
        platforms=_platforms(data, fail),
        lang=optional_str("lang"),
        schedule=_schedule(data.get("schedule"), fail),
        numbering=_numbering(data.get("numbering", DEFAULT_NUMBERING), fail),
        cw=cw if cw else None,
        visibility=visibility,
        reply_visibility=reply_visibility,
        sensitive=bool(optional_bool("sensitive")),
        bluesky_labels=_bluesky_labels(data, fail),
        link_cards=optional_bool("link_cards"),
        shorten_links=optional_bool("shorten_links"),
        bluesky_replies=_bluesky_replies(data, fail),
        bluesky_quotes=optional_bool("bluesky_quotes") is not False,
        mastodon_quotes=mastodon_quotes,
        bluesky_tags=_bluesky_tags(data, fail),
        account=_account(optional_str("account"), fail),
        reply_to=reply_to,
        reply_to_networks=reply_to_networks,
        lines=key_lines,
    )


def _account(value: str | None, fail: Any) -> str | None:
    """The account's name as written; whether the config has it is checked where the
    config is known (`accounts.account_settings`)."""
    if value is not None and not ACCOUNT_NAME.fullmatch(value):
        raise fail(
            "account",
            f"account {value!r} is not an account name: lowercase letters, digits, - and _, "
            'e.g. account = "work"',
        )
    return value


def _toml_type(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list"}
    names |= {dict: "a table", str: "a string", datetime: "a date-time", date: "a date"}
    return names.get(type(value), type(value).__name__)


def _platforms(data: dict[str, Any], fail: Any) -> tuple[PlatformName, ...]:
    value = data.get("platforms", list(PLATFORMS))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise fail(
            "platforms", 'platforms must be a non-empty list such as ["mastodon", "bluesky"]'
        )
    chosen: list[PlatformName] = []
    for item in value:
        if item not in PLATFORMS:
            raise fail(
                "platforms",
                f"unknown platform {item!r} (threadpost publishes to: {', '.join(PLATFORMS)})",
            )
        if item not in chosen:
            chosen.append(item)
    return tuple(chosen)


def _bluesky_labels(data: dict[str, Any], fail: Any) -> tuple[str, ...] | None:
    if "bluesky_labels" not in data:
        return None
    value = data["bluesky_labels"]
    if isinstance(value, str):
        value = [value]
    known = ", ".join(SELF_LABELS)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(
            "bluesky_labels",
            f'bluesky_labels must be a list such as ["graphic-media"] (labels: {known}), '
            "or [] for none",
        )
    for item in value:
        if item not in SELF_LABELS:
            raise fail(
                "bluesky_labels",
                f"unknown Bluesky label {item!r} in bluesky_labels (labels: {known})",
            )
    return tuple(dict.fromkeys(value))


def _bluesky_replies(data: dict[str, Any], fail: Any) -> tuple[str, ...] | None:
    if "bluesky_replies" not in data:
        return None
    from threadpost.platforms.bluesky.interactions import REPLY_RULES, parse_reply_setting

    value = data["bluesky_replies"]
    known = ", ".join(("everyone", "nobody", *REPLY_RULES))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(
            "bluesky_replies",
            f'bluesky_replies must be a string or a list such as ["mentioned", "following"] '
            f"(of: {known})",
        )
    try:
        return parse_reply_setting(value)
    except ValueError as exc:
        raise fail("bluesky_replies", f"bluesky_replies: {exc}") from None


def _bluesky_tags(data: dict[str, Any], fail: Any) -> tuple[str, ...]:
    value = data.get("bluesky_tags", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(
            "bluesky_tags", 'bluesky_tags must be a list of tags such as ["cities", "privacy"]'
        )
    tags = [_tag_value(item) for item in value]
    if not all(tags):
        raise fail("bluesky_tags", "bluesky_tags has an empty tag")
    if any(re.search(r"\s", tag) for tag in tags):
        raise fail("bluesky_tags", "a tag in bluesky_tags contains a space")
    return tuple(dict.fromkeys(tags))


def _reply_to(
    data: dict[str, Any], fail: Any
) -> tuple[str | None, tuple[tuple[PlatformName, str], ...]]:
    """`reply_to` as written: one address, or a table of one address per network. Whether
    an address names a post of its network is each network's `check` rule."""
    if "reply_to" not in data:
        return None, ()
    value = data["reply_to"]
    example = (
        "reply_to must be a post's address, or one per network such as "
        '{ mastodon = "https://…/@you/123", bluesky = "https://bsky.app/profile/…/post/…" }'
    )
    if isinstance(value, str):
        if not value.strip():
            raise fail("reply_to", "reply_to is empty: " + example)
        return value.strip(), ()
    if not isinstance(value, dict) or not value:
        raise fail("reply_to", f"{example}, not {_toml_type(value)}")
    chosen: list[tuple[PlatformName, str]] = []
    for network, address in value.items():
        if network not in PLATFORMS:
            raise fail(
                "reply_to",
                f"reply_to names an unknown network {network!r} "
                f"(threadpost publishes to: {', '.join(PLATFORMS)})",
            )
        if not isinstance(address, str) or not address.strip():
            raise fail("reply_to", f"reply_to.{network} must be a post's address")
        chosen.append((network, address.strip()))
    return None, tuple(chosen)


def _tag_value(written: str) -> str:
    """A tag as written, without one leading "#" (the record's tags have none)."""
    tag = written.strip()
    return tag[1:] if tag[:1] in ("#", "＃") else tag


def _schedule(value: object, fail: Any) -> datetime | None:
    moment = _schedule_value(value, fail)
    # Within a day of the calendar's ends, converting between zones overflows.
    if moment is not None and not 1 < moment.year < 9999:
        raise fail("schedule", f"schedule {moment.isoformat()} is out of range")
    return moment


def _schedule_value(value: object, fail: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        raise fail("schedule", f"schedule {value} has no time of day; write e.g. {value}T09:00")
    if isinstance(value, time):
        raise fail("schedule", "schedule needs a date as well as a time")
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
        except ValueError:
            raise fail(
                "schedule",
                f"schedule {value!r} is not a date and time; write e.g. "
                '"2026-12-01T09:00:00+01:00" or "2026-12-01 09:00"',
            ) from None
    raise fail("schedule", f"schedule must be a date and time, not {_toml_type(value)}")


def _numbering(value: object, fail: Any) -> str | None:
    if value is False:
        return None
    if value is True:
        return DEFAULT_NUMBERING
    if not isinstance(value, str) or not value.strip():
        raise fail("numbering", 'numbering must be a format such as "{i}/{n}", or false')
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise fail("numbering", f"numbering {value!r} is not a valid format: {exc}") from None
    fields = [name for _, name, _, _ in parsed if name is not None]
    unknown = [name for name in fields if name not in ("i", "n")]
    if unknown:
        raise fail(
            "numbering",
            f"numbering {value!r} uses {{{unknown[0]}}}; only {{i}} and {{n}} are allowed",
        )
    if "i" not in fields:
        raise fail("numbering", f"numbering {value!r} must contain {{i}}")
    # A width such as {i:>999999999} would build a gigabyte string on every post.
    if any(int(width) > 9 for _, _, spec, _ in parsed for width in re.findall(r"\d+", spec or "")):
        raise fail("numbering", f"numbering {value!r} pads wider than 9 characters")
    try:
        # The names are checked; a bad spec or conversion ({i:s}, {i!z}, {i:{x}}) only
        # shows when formatting, which planning does for every post.
        value.format(i=1, n=1)
    except (ValueError, KeyError, IndexError) as exc:
        raise fail("numbering", f"numbering {value!r} is not a valid format: {exc}") from None
    return value


def _parse_posts(lines: list[str], start: int, path: Path) -> tuple[DraftPost, ...]:
    chunks: list[tuple[int, list[tuple[int, str]]]] = []  # (separator line, body lines)
    current: list[tuple[int, str]] = []
    opened_at = start + 1
    for number in range(start, len(lines)):
        line = lines[number]
        if _SEPARATOR.match(line):
            chunks.append((opened_at, current))
            current = []
            opened_at = number + 1
        else:
            current.append((number + 1, line))
    chunks.append((opened_at, current))

    if all(not line.strip() for _, body in chunks for _, line in body):
        raise DraftError(
            path, "the draft has no posts, only separators or front matter", line=start + 1
        )

    posts: list[DraftPost] = []
    for separator_line, body in chunks:
        post = _parse_post(body, len(posts) + 1, path)
        if post is None:
            where = (
                "before the first separator"
                if separator_line == start + 1
                else "after the separator"
            )
            raise DraftError(
                path,
                f"post {len(posts) + 1} is empty ({where})",
                line=separator_line,
                hint="remove the extra --- line",
            )
        posts.append(post)
    return tuple(posts)


def _parse_post(body: list[tuple[int, str]], index: int, path: Path) -> DraftPost | None:
    text_lines: list[tuple[int, str]] = []
    images: list[Image] = []
    directives = _PostDirectives()
    for number, line in body:
        match = _IMAGE_LINE.match(line)
        if match:
            images.append(_image(match, number, path))
        elif not directives.take(line, number, path):
            text_lines.append((number, line.rstrip()))
    while text_lines and not text_lines[0][1]:
        text_lines.pop(0)
    while text_lines and not text_lines[-1][1]:
        text_lines.pop()
    if not text_lines and not images:
        return None
    first_line = min(
        [n for n, _ in text_lines[:1]]
        + [image.line for image in images[:1]]
        + ([directives.quote_line] if directives.quote_line is not None else [])
    )
    return DraftPost(
        index=index,
        line=first_line,
        text="\n".join(line for _, line in text_lines),
        images=tuple(images),
        text_lines=tuple(number for number, _ in text_lines),
        quote=directives.quote,
        quote_line=directives.quote_line,
        tags=directives.tags,
        tags_line=directives.tags_line,
        cw=directives.cw,
        cw_line=directives.cw_line,
        poll=directives.finished_poll(path),
        captions=tuple(directives.captions),
    )


# Per-post lines (network-neutral): `> quote <address>`, `> tags #one #two` and
# `> cw <text>`, each alone on its line. Recognised by their shape only (an address with
# "://", words that are all hashtags, the word "cw" then a colon or a space), so that a
# quoted line of prose starting with "> quote" stays text.
class _Directives(NamedTuple):
    """The per-post line patterns, each starting with `^\\s*>`."""

    quote: re.Pattern[str]
    tags: re.Pattern[str]
    cw: re.Pattern[str]
    poll: re.Pattern[str]
    poll_setting: re.Pattern[str]
    captions: re.Pattern[str]


@functools.cache
def _directives() -> _Directives:
    """Compiled by the first line that starts with ">" (~3 ms most drafts never spend)."""
    return _Directives(
        quote=re.compile(r"^\s*>\s*quote:?\s+(?P<target>\S+://\S+)\s*$"),
        tags=re.compile(r"^\s*>\s*tags:?(?P<tags>(?:[\s,]+[#＃][^\s,#＃]+)+)[\s,]*$"),
        cw=re.compile(r"^\s*>\s*cw(?::\s*|\s+)(?P<text>\S.*?)\s*$", re.IGNORECASE),
        # A poll: `> poll A | B | C` (two options at least, so one "|" at least), then
        # optional `> poll-duration 3d`, `> poll-multiple`, `> poll-hide-totals` lines in
        # the same post.
        poll=re.compile(r"^\s*>\s*poll:?\s+(?P<options>[^|]*(?:\|[^|]*)+)$", re.IGNORECASE),
        poll_setting=re.compile(
            r"^\s*>\s*poll[-_](?P<name>duration|multiple|hide[-_]totals):?"
            r"(?:\s+(?P<value>.*?))?\s*$",
            re.IGNORECASE,
        ),
        # Captions for the post's video: `> captions <language> <file>` (also `> caption`),
        # one line a language. Recognised by shape: a word that can be a language tag, then
        # a path ending in a file extension, so that prose such as "> captions matter" stays
        # text.
        captions=re.compile(
            r"^\s*>\s*captions?:?\s+(?P<lang>[A-Za-z][A-Za-z0-9-]*)\s+"
            r"(?P<path><[^>]+\.[A-Za-z0-9]{1,8}>|\S.*?\.[A-Za-z0-9]{1,8})\s*$",
            re.IGNORECASE,
        ),
    )


@functools.cache
def _duration_part() -> re.Pattern[str]:
    """An amount and its unit in a poll's duration (compiled by the first poll)."""
    return re.compile(r"(\d+)\s*([a-z]+)", re.IGNORECASE)


_DURATION_UNITS: Final = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hour", "hours"), 60 * 60),
    **dict.fromkeys(("d", "day", "days"), 24 * 60 * 60),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 24 * 60 * 60),
}


def duration_text(seconds: int) -> str:
    """ "3 days", "1 day 12 hours", "5 minutes" (what a poll duration reads as)."""
    parts = []
    for name, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 seconds"


def poll_duration(written: str) -> int | None:
    """Seconds of a written duration ("3d", "1d 12h", "90 minutes"); None when it is none."""
    text = written.strip().replace(",", " ")
    parts = _duration_part().findall(text)
    if not parts or _duration_part().sub("", text).strip():
        return None
    total = 0
    for amount, unit in parts:
        seconds = _DURATION_UNITS.get(unit.lower())
        if seconds is None:
            return None
        total += int(amount) * seconds
    return total


@dataclass
class _PostDirectives:
    """The per-post lines of one draft post, as they are read."""

    quote: str | None = None
    quote_line: int | None = None
    tags: tuple[str, ...] | None = None
    tags_line: int | None = None
    cw: str | None = None
    cw_line: int | None = None
    poll: Poll | None = None
    #: The `> poll-…` lines seen, by setting name, with their line (a poll may follow them).
    poll_settings: dict[str, tuple[str, int]] = field(default_factory=dict)
    captions: list[Caption] = field(default_factory=list)

    def finished_poll(self, path: Path) -> Poll | None:
        """The post's poll with its settings; a setting without a `> poll` line is an error."""
        if self.poll is None:
            if self.poll_settings:
                name, (_, line) = next(iter(self.poll_settings.items()))
                raise DraftError(
                    path,
                    f"'> poll-{name}' without a poll in this post",
                    line=line,
                    hint="add a line such as: > poll Yes | No",
                )
            return None
        poll = self.poll
        if "duration" in self.poll_settings:
            written, line = self.poll_settings["duration"]
            seconds = poll_duration(written)
            if seconds is None:
                raise DraftError(
                    path,
                    f"poll duration {written!r} is not a duration; write e.g. 30m, 6h, 3d, "
                    "1w or 1d 12h",
                    line=line,
                )
            poll = replace(poll, expires_in=seconds)
        return replace(
            poll,
            multiple="multiple" in self.poll_settings,
            hide_totals="hide-totals" in self.poll_settings,
        )

    def take(self, line: str, number: int, path: Path) -> bool:
        """Record `line` when it is a per-post line (True), else leave it as text."""
        if not line.lstrip().startswith(">"):
            return False  # (str.lstrip and the patterns' \s strip the same whitespace)
        patterns = _directives()
        if match := patterns.quote.match(line):
            if self.quote is not None:
                raise DraftError(
                    path,
                    f"a post can quote one post; this one already quotes {self.quote} "
                    f"(line {self.quote_line})",
                    line=number,
                )
            self.quote, self.quote_line = match.group("target"), number
            return True
        if match := patterns.tags.match(line):
            if self.tags is not None:
                raise DraftError(
                    path,
                    f"a post has one '> tags' line; this one has one at line {self.tags_line}",
                    line=number,
                )
            words = re.split(r"[\s,]+", match.group("tags").strip(" \t,"))
            self.tags = tuple(dict.fromkeys(_tag_value(word) for word in words))
            self.tags_line = number
            return True
        if match := patterns.cw.match(line):
            if self.cw is not None:
                raise DraftError(
                    path,
                    f"a post has one '> cw' line; this one has one at line {self.cw_line}",
                    line=number,
                )
            self.cw, self.cw_line = match.group("text"), number
            return True
        if match := patterns.captions.match(line):
            written = match.group("path").strip().strip("<>")
            if re.match(r"^[a-z][a-z0-9+.-]*://", written, re.IGNORECASE):
                raise DraftError(
                    path,
                    f"captions file {written!r} is a web address; attach a local file instead",
                    line=number,
                )
            self.captions.append(
                Caption(
                    lang=match.group("lang"),
                    path=(path.parent / written).resolve(),
                    line=number,
                    written_path=written,
                )
            )
            return True
        if match := patterns.poll.match(line):
            if self.poll is not None:
                raise DraftError(
                    path,
                    f"a post has one poll; this one has one at line {self.poll.line}",
                    line=number,
                )
            options = tuple(option.strip() for option in match.group("options").split("|"))
            if not all(options):
                raise DraftError(
                    path,
                    "a poll option is empty: write the options between | such as "
                    "> poll Tea | Coffee",
                    line=number,
                )
            self.poll = Poll(options=options, line=number)
            return True
        if match := patterns.poll_setting.match(line):
            name = match.group("name").lower().replace("_", "-")
            value = match.group("value") or ""
            if name in self.poll_settings:
                raise DraftError(
                    path,
                    f"'> poll-{name}' is given twice in this post (first at line "
                    f"{self.poll_settings[name][1]})",
                    line=number,
                )
            if name == "duration" and not value:
                raise DraftError(path, "'> poll-duration' needs a duration, e.g. 3d", line=number)
            if name != "duration" and value:
                raise DraftError(
                    path, f"'> poll-{name}' takes no value (it is on when present)", line=number
                )
            self.poll_settings[name] = (value, number)
            return True
        return False


def _image(match: re.Match[str], line: int, path: Path) -> Image:
    written = match.group("path").strip().strip("<>")
    alt = match.group("alt").strip()
    if not written:
        raise DraftError(path, "image has no path: write ![alt text](images/file.png)", line=line)
    if re.match(r"^[a-z][a-z0-9+.-]*://", written, re.IGNORECASE):
        raise DraftError(
            path,
            f"image {written!r} is a web address; attach a local file instead",
            line=line,
        )
    image_path = (path.parent / written).resolve()
    # The same line attaches a video (videos.py decides by content later; the name is
    # enough to word the message). Imported here: a draft without attachments needs none.
    from threadpost.videos import VIDEO_EXTENSIONS

    kind = "video" if image_path.suffix.lower() in VIDEO_EXTENSIONS else "image"
    if not image_path.exists():
        raise DraftError(
            path, f"{kind} file not found: {written} (looked at {image_path})", line=line
        )
    if not image_path.is_file():
        raise DraftError(path, f"{kind} {written} is not a file", line=line)
    return Image(path=image_path, alt=alt, line=line, written_path=written)
