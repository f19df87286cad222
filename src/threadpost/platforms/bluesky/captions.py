"""Captions on a Bluesky video: the `captions` of `app.bsky.embed.video`.

From the lexicon (`app.bsky.embed.video`, as the reference PDS ships it): `captions` is
an array of at most 20 `#caption` objects, each `{lang, file}` where `lang` has
`format: "language"` (BCP 47) and `file` is a blob with `accept: ["text/vtt"]` and
`maxSize: 20000` (bytes). Each file is uploaded as its own blob with
com.atproto.repo.uploadBlob, as the app does; the video service is not involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from threadpost.captions import CAPTIONS_MIME, CaptionLimits

BLUESKY_CAPTION_LIMITS: Final = CaptionLimits(max_files=20, max_bytes=20_000, mime=CAPTIONS_MIME)


def caption_entry(lang: str, blob: Mapping[str, Any]) -> dict[str, Any]:
    """One `app.bsky.embed.video#caption`: the language and its uploaded file's blob."""
    return {"lang": lang, "file": dict(blob)}
