"""Hashes of what a thread says: the draft's images, and each network's planned posts.

Two uses, both about the draft being the source of truth: the ledger keeps the hash of the
draft's images next to the hash of its bytes (so an edit after `schedule` is noticed), and
a per-network fingerprint of the planned posts (so the same posts are never published twice
on a network, whatever file they came from). Standard library only: the store's migration
uses it on frozen plans too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from threadpost.plan import Thread

#: Bumped if what a fingerprint covers ever changes, so old and new never compare equal.
FINGERPRINT_VERSION: Final = "v1"
_CHUNK: Final = 1 << 20


def file_sha256(path: Path) -> str | None:
    """sha256 of the file's bytes; None when it cannot be read (gone, a folder, no access)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def image_hash(path: Path) -> str:
    """An image's content hash, or a marker naming the path when it cannot be read (two
    unreadable images compare equal only when their paths do)."""
    return file_sha256(path) or f"unreadable:{path}"


def images_hash(paths: Iterable[Path]) -> str:
    """One hash over the contents of every image, in a stable order (each path once)."""
    digest = hashlib.sha256()
    for path in sorted(set(paths)):
        digest.update(f"{path}\x1f{image_hash(path)}\x1e".encode())
    return digest.hexdigest()


def plan_images(plans: Iterable[Thread]) -> list[Path]:
    """Every media file the plans attach: images, videos and videos' captions files (so
    a captions file edited after `schedule` is noticed as an image is)."""
    return [
        path
        for thread in plans
        for post in thread.posts
        for path in [image.path for image in post.images]
        + [caption.path for caption in post.captions]
    ]


def post_extras(quote: str | None, poll_options: Sequence[str] | None) -> str:
    """What a post says beyond its text and images: the post it quotes, its poll's options
    ("" for neither, so a plain post's fingerprint is its text and images alone)."""
    parts = []
    if quote:
        parts.append("quote\x1f" + quote)
    if poll_options:
        parts.append("poll\x1f" + "\x1f".join(poll_options))
    return "\x1e".join(parts)


def posts_fingerprint(posts: Sequence[tuple[str, Sequence[str], str]]) -> str:
    """The fingerprint of a thread's posts on one network: each post's exact text, the
    content hashes of its images and its `post_extras`, in order (alt text, paths and file
    names left out: a copied draft that points at copied images is the same thread to a
    reader)."""
    digest = hashlib.sha256(FINGERPRINT_VERSION.encode())
    for text, image_hashes, extras in posts:
        digest.update(b"\x1d" + text.encode())
        for value in image_hashes:
            digest.update(b"\x1f" + value.encode())
        if extras:
            digest.update(b"\x1c" + extras.encode())
    return digest.hexdigest()


def thread_fingerprint(thread: Thread) -> str:
    """`posts_fingerprint` of a planned thread (its images read from disk)."""
    return posts_fingerprint(
        [
            (
                post.text,
                [image_hash(image.path) for image in post.images],
                post_extras(post.quote, post.poll.options if post.poll else None),
            )
            for post in thread.posts
        ]
    )
