"""Hostile X/Twitter archives built on the fly for the import tests (issues 17 and 18).

Nothing here is checked in as a binary: each test builds the zip or folder it attacks
with, so what the archive holds is readable in the test itself.
"""

from __future__ import annotations

import json
import stat
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CREATED = "Wed Oct 10 20:19:24 +0000 2018"


def tweet_entry(
    id: str,
    text: str,
    *,
    reply_to: str | None = None,
    user: str = "42",
    media: tuple[str, ...] = (),
    created: str = CREATED,
) -> dict[str, Any]:
    """One `{"tweet": {...}}` entry of tweets.js; `media` are basenames of photo URLs."""
    tweet: dict[str, Any] = {"id_str": id, "full_text": text, "created_at": created, "lang": "en"}
    if reply_to is not None:
        tweet["in_reply_to_status_id_str"] = reply_to
        tweet["in_reply_to_user_id_str"] = user
    if media:
        tweet["entities"] = {
            "media": [
                {"media_url_https": f"https://pbs.example/media/{name}", "type": "photo"}
                for name in media
            ]
        }
    return {"tweet": tweet}


def tweets_js(*entries: Mapping[str, Any]) -> bytes:
    """The text of a data/tweets.js holding `entries`."""
    return ("window.YTD.tweets.part0 = " + json.dumps(list(entries))).encode()


def account_js(username: str, account_id: str = "42") -> bytes:
    """The text of a data/account.js naming the author."""
    entry = {"account": {"accountId": account_id, "username": username}}
    return ("window.YTD.account.part0 = " + json.dumps([entry])).encode()


def two_tweet_thread(
    *, first_text: str = "Night trains are back", media: tuple[str, ...] = ()
) -> bytes:
    """tweets.js of one self-thread of two tweets (1001, then 1002 with `media`)."""
    return tweets_js(
        tweet_entry("1001", first_text),
        tweet_entry("1002", "Second part", reply_to="1001", media=media),
    )


def write_zip(
    path: Path,
    files: Mapping[str, bytes],
    *,
    symlinks: Mapping[str, str] | None = None,
    stored: bool = False,
) -> Path:
    """A zip holding `files` (name → bytes) and symbolic-link entries (name → target)."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data, compress_type=method)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3  # Unix: the mode bits below are meant
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def write_bomb_zip(path: Path, name: str, size: int, *, prefix: bytes = b"") -> Path:
    """A zip whose member `name` is `prefix` then `size` spaces: a few MB deflate to ~KB.

    Written in chunks so that building the bomb does not itself take `size` of memory.
    """
    chunk = b" " * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w", force_zip64=True) as member,
    ):
        member.write(prefix)
        left = size
        while left > 0:
            member.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    return path


def lie_about_size(path: Path, name: str, declared: int) -> Path:
    """Rewrite the zip so that `name` claims `declared` bytes (both of its headers)."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(encoded)] != encoded:
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, declared)
    local = int.from_bytes(data[central + 42 : central + 46], "little")
    struct.pack_into("<I", data, local + 22, declared)
    path.write_bytes(bytes(data))
    return path
