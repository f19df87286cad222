"""Read an X/Twitter archive (the zip or its extracted folder) into `Tweet` values.

An archive holds `data/tweets.js` (older ones `data/tweet.js`, large ones more parts in
`data/tweets-part1.js`, ...): JavaScript assigning a JSON array, `window.YTD.tweets.part0 =
[{"tweet": {...}}, ...]`; `data/account.js` (the author's id and screen name); and
`data/tweets_media/` with each image named `<tweet id>-<basename of its media_url>`.
Zips often wrap everything in one top folder: files are found wherever `data/` is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Final

from threadpost.closing import Closing
from threadpost.importer.archive_files import ArchiveError, ArchiveFiles, ArchiveLimits

__all__ = [
    "Account",
    "Archive",
    "ArchiveError",
    "ArchiveLimits",
    "Media",
    "Tweet",
    "parse_created_at",
    "parse_tweets_js",
]

_YTD_PREFIX: Final = re.compile(r"^\s*window\.YTD\.[\w.]+\s*=\s*")
_TWEET_FILES: Final = re.compile(r"(?:^|/)data/tweets?(?:-part\d+)?\.js$")
_ACCOUNT_FILE: Final = re.compile(r"(?:^|/)data/account\.js$")
_MEDIA_FOLDER: Final = re.compile(r"(?:^|/)data/tweets?_media/([^/]+)$")
_TWEET_ID: Final = re.compile(r"^[0-9]{1,20}$")
_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


@dataclass(frozen=True)
class Media:
    """One media item of a tweet (extended_entities.media, else entities.media)."""

    kind: str  # photo, video, animated_gif
    media_url: str  # where X served it; its basename names the file in tweets_media/
    tco: str | None  # the t.co link the tweet's text ends with
    expanded_url: str | None  # x.com/<name>/status/<id>/photo/1
    alt: str | None  # ext_alt_text

    def file_name(self, tweet_id: str) -> str:
        """The file's name in the archive's tweets_media/ folder."""
        return f"{tweet_id}-{PurePosixPath(self.media_url).name}"


@dataclass(frozen=True)
class Tweet:
    """The fields of an archived tweet threadpost uses."""

    id: str
    full_text: str  # as archived: t.co links, HTML entities
    created_at: datetime  # aware, UTC
    lang: str | None
    reply_to_status: str | None
    reply_to_user: str | None
    reply_to_screen_name: str | None
    urls: tuple[tuple[str, str], ...]  # (t.co, expanded)
    media: tuple[Media, ...]
    #: Where the visible text starts (after the reply's leading @names), when archived.
    display_start: int | None = None


@dataclass(frozen=True)
class Account:
    """The archive's author."""

    id: str
    screen_name: str | None


class Archive(Closing):
    """An opened archive: its tweets, its author (when account.js says) and its media.

    Every file is read through `ArchiveFiles`: names inside the archive only, no links,
    bounded sizes (see `ArchiveLimits`).
    """

    def __init__(self, path: Path, limits: ArchiveLimits | None = None) -> None:
        self.path = path
        self._files = ArchiveFiles(path, limits)
        with self.closed_on_error():
            self._media = {
                match.group(1): name for name, match in self._files.entries_matching(_MEDIA_FOLDER)
            }
            self.media_names: frozenset[str] = frozenset(self._media)
            self.tweets = self._read_tweets()
            self.account = self._read_account()

    def close(self) -> None:
        """Close the zip (a folder needs nothing)."""
        self._files.close()

    def check_media(self, names: Iterable[str]) -> None:
        """Refuse now, before anything is written, media that reading would refuse."""
        self._files.check(self._media[name] for name in names)

    def read_media(self, name: str) -> bytes:
        """The bytes of `name` in tweets_media/."""
        return self._files.read(self._media[name])

    def _read_text(self, name: str) -> str:
        data = self._files.read(name)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ArchiveError(
                f"{self.path}: {name}: is not valid UTF-8 (byte offset {exc.start})"
            ) from None

    def _read_tweets(self) -> tuple[Tweet, ...]:
        names = sorted(
            (name for name, _ in self._files.entries_matching(_TWEET_FILES)), key=_part_number
        )
        if not names:
            raise ArchiveError(
                f"{self.path}: no data/tweets.js in it: is this an X/Twitter archive?",
                hint="download it from X: Settings → Your account → Download an archive",
            )
        self._files.check(names)
        tweets: list[Tweet] = []
        for name in names:
            tweets += parse_tweets_js(self._read_text(name), f"{self.path}: {name}")
        return tuple(tweets)

    def _read_account(self) -> Account | None:
        names = [name for name, _ in self._files.entries_matching(_ACCOUNT_FILE)]
        if not names:
            return None
        entries = _ytd_json(self._read_text(names[0]), f"{self.path}: {names[0]}")
        for entry in entries:
            account = entry.get("account") if isinstance(entry, dict) else None
            if isinstance(account, dict) and account.get("accountId"):
                return Account(str(account["accountId"]), _str(account.get("username")))
        return None


def _part_number(name: str) -> tuple[int, str]:
    match = re.search(r"-part(\d+)\.js$", name)
    return (int(match.group(1)) if match else 0, name)


def _ytd_json(text: str, where: str) -> list[Any]:
    match = _YTD_PREFIX.match(text)
    if not match:
        raise ArchiveError(f"{where}: does not start with window.YTD.…= : not an archive file")
    try:
        value = json.loads(text[match.end() :].rstrip().rstrip(";"))
    except json.JSONDecodeError as exc:
        line = text.count("\n", 0, match.end() + exc.pos) + 1
        raise ArchiveError(f"{where}:{line}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise ArchiveError(f"{where}: JSON nested too deeply to be an archive file") from None
    if not isinstance(value, list):
        raise ArchiveError(f"{where}: expected a JSON array after the window.YTD prefix")
    return value


def parse_tweets_js(text: str, where: str = "tweets.js") -> list[Tweet]:
    """The tweets of one `tweets.js` file's text. `where` names it in errors."""
    tweets: list[Tweet] = []
    for number, entry in enumerate(_ytd_json(text, where), start=1):
        data = entry.get("tweet", entry) if isinstance(entry, dict) else None
        if not isinstance(data, dict) or not data.get("id_str") or "full_text" not in data:
            raise ArchiveError(f"{where}: entry {number} is not a tweet (no id_str or full_text)")
        tweet_id = str(data["id_str"])
        if not _TWEET_ID.match(tweet_id):
            # The id names drafts and images and goes into URLs: digits only, as X writes it.
            raise ArchiveError(
                f"{where}: entry {number}: id_str {tweet_id[:60]!r} is not a tweet id (digits)"
            )
        try:
            tweets.append(_tweet(data, f"{where}: tweet {tweet_id}"))
        except (AttributeError, TypeError, ValueError) as exc:
            raise ArchiveError(
                f"{where}: tweet {tweet_id}: not shaped like an archived tweet ({exc})"
            ) from None
    return tweets


def _tweet(data: dict[str, Any], where: str) -> Tweet:
    entities = data.get("entities") or {}
    media_list = (data.get("extended_entities") or {}).get("media") or entities.get("media") or []
    display = data.get("display_text_range")
    display_start = None
    if isinstance(display, list) and display and str(display[0]).isdecimal():
        display_start = int(display[0])
    return Tweet(
        id=str(data["id_str"]),
        full_text=str(data["full_text"]),
        created_at=parse_created_at(str(data.get("created_at", "")), where),
        lang=_str(data.get("lang")),
        reply_to_status=_str(data.get("in_reply_to_status_id_str")),
        reply_to_user=_str(data.get("in_reply_to_user_id_str")),
        reply_to_screen_name=_str(data.get("in_reply_to_screen_name")),
        urls=tuple(
            (str(url["url"]), str(url["expanded_url"]))
            for url in entities.get("urls") or []
            if isinstance(url, dict) and url.get("url") and url.get("expanded_url")
        ),
        media=tuple(
            Media(
                kind=str(item.get("type") or "photo"),
                media_url=str(item.get("media_url_https") or item.get("media_url")),
                tco=_str(item.get("url")),
                expanded_url=_str(item.get("expanded_url")),
                alt=_str(item.get("ext_alt_text")),
            )
            for item in media_list
            if isinstance(item, dict) and (item.get("media_url") or item.get("media_url_https"))
        ),
        display_start=display_start,
    )


def parse_created_at(value: str, where: str = "tweet") -> datetime:
    """ "Wed Oct 10 20:19:24 +0000 2018" → an aware datetime (in any locale)."""
    parts = value.split()
    try:
        _, month, day, clock, offset, year = parts
        hour, minute, second = (int(piece) for piece in clock.split(":"))
        moment = datetime(int(year), _MONTHS[month], int(day), hour, minute, second, tzinfo=UTC)
        sign = -1 if offset.startswith("-") else 1
        shift = sign * (int(offset[1:3]) * 3600 + int(offset[3:5]) * 60)
    except (ValueError, KeyError, OverflowError):
        raise ArchiveError(
            f'{where}: created_at {value!r} is not like "Wed Oct 10 20:19:24 +0000 2018"'
        ) from None
    try:
        return datetime.fromtimestamp(moment.timestamp() - shift, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ArchiveError(f"{where}: created_at {value!r} is out of range") from None


def _str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
