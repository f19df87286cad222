"""Bluesky videos: `app.bsky.embed.video`, with the video uploaded as a blob to the PDS.

The official app sends videos through Bluesky's video service (which transcodes them and
uploads the result to the PDS); the lexicon itself only asks for an mp4 `video` blob, an
optional `alt`, `aspectRatio` and `captions` (text/vtt blobs, captions.py), so a
blob uploaded with com.atproto.repo.uploadBlob and embedded directly is a valid record.
The local PDS in the tests stores it and serves it back through com.atproto.sync.getBlob.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import libipld

from threadpost.captions import CAPTIONS_MIME
from threadpost.images import ImageError, inspect_image
from threadpost.platforms.bluesky.captions import caption_entry
from threadpost.platforms.bluesky.gif_video import GIF_PRESENTATION
from threadpost.videos import VideoError, inspect_video

if TYPE_CHECKING:
    from threadpost.draft import Caption

VIDEO_EMBED: Final = "app.bsky.embed.video"


def video_embed(
    blob: Mapping[str, Any],
    alt: str,
    width: int,
    height: int,
    *,
    captions: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """`app.bsky.embed.video` for an uploaded blob, with alt text, aspect ratio and its
    captions (`#caption` entries, captions.py)."""
    embed: dict[str, Any] = {"$type": VIDEO_EMBED, "video": dict(blob)}
    if captions:
        embed["captions"] = [dict(caption) for caption in captions]
    if alt:
        embed["alt"] = alt
    if width >= 1 and height >= 1:
        embed["aspectRatio"] = {"width": width, "height": height}
    return embed


def placeholder_gif_video_embed(path: Path, alt: str) -> dict[str, Any]:
    """The embed a dry run shows for an animated GIF sent as a video (gif_video.py). The
    MP4 is not made (a large GIF takes seconds to encode): its size shows as 0 and its
    picture size is the GIF's, padded to even numbers as the conversion does."""
    width = height = 0
    try:
        info = inspect_image(path)
        width, height = info.width + info.width % 2, info.height + info.height % 2
    except ImageError:
        pass  # `check` reports the image
    embed = video_embed(_placeholder_blob("video/mp4", 0), alt, width, height)
    embed["presentation"] = GIF_PRESENTATION
    return embed


def _placeholder_blob(mime: str, size: int) -> dict[str, Any]:
    # A raw-codec CID of the empty string: a valid CID that says "not uploaded yet".
    cid = libipld.encode_cid(b"\x01\x55\x12\x20" + hashlib.sha256(b"").digest())
    return {"$type": "blob", "ref": {"$link": str(cid)}, "mimeType": mime, "size": size}


def placeholder_video_embed(
    path: Path, alt: str, captions: Sequence[Caption] = ()
) -> dict[str, Any]:
    """The embed a dry run shows: the blob not uploaded yet (a raw CID of nothing), with
    the file's type, size and picture size as far as they can be read, and one caption
    entry a captions file (its blob a placeholder too, with the file's size)."""
    mime, size, width, height = "video/mp4", 0, 0, 0
    try:
        info = inspect_video(path)
        mime, size, width, height = info.mime, info.size_bytes, info.width, info.height
    except VideoError:
        pass  # a dry run shows what it can; `check` reports the video
    entries = [
        caption_entry(caption.lang, _placeholder_blob(CAPTIONS_MIME, _file_size(caption.path)))
        for caption in captions
    ]
    return video_embed(_placeholder_blob(mime, size), alt, width, height, captions=entries)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # a dry run shows what it can; `check` reports the file
