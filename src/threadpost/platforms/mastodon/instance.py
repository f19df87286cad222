"""A Mastodon instance's own limits: read from the instance, cached for a day.

Kept light (no Mastodon.py): `check` and `preview` call it. The request goes through the
instance's transport (`http.py`), which imports requests only when the instance is asked.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from threadpost.atomic_write import write_atomically
from threadpost.errors import ConfigError, TransientError
from threadpost.platforms.mastodon.http import MastodonHttp
from threadpost.platforms.mastodon.quotes import QUOTES_API_VERSION
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.values import PlatformLimits

if TYPE_CHECKING:
    from threadpost.config import Settings

CACHE_FILE: Final = "mastodon-instances.json"
CACHE_TTL: Final = timedelta(days=1)
FETCH_TIMEOUT: Final = 10.0


def instance_limits(
    settings: Settings, *, offline: bool, now: datetime | None = None
) -> PlatformLimits:
    """The configured instance's limits.

    Online: a cache entry younger than a day (source "cache"), else a fresh read of
    /api/v2/instance, falling back to /api/v1/instance (source "instance"). When the
    instance cannot be reached, the cache however old, else the 500-character defaults
    (source "default"). Offline: the cache however old, else the defaults.
    """
    now = now or datetime.now(UTC)
    instance = settings.mastodon.instance
    cached = _read_cache(settings.state_dir, instance)
    if cached is not None and (offline or now - cached[0] < CACHE_TTL):
        return replace(cached[1], source="cache")
    if offline:
        return MASTODON_DEFAULT_LIMITS
    try:
        limits = fetch_instance_limits(instance)
    except _Unreachable:
        return replace(cached[1], source="cache") if cached else MASTODON_DEFAULT_LIMITS
    _write_cache(settings.state_dir, instance, limits, now)
    return limits


class _Unreachable(Exception):
    """No answer from the instance (network, timeout, 5xx): fall back, don't fail."""


def fetch_instance_limits(instance: str) -> PlatformLimits:
    """Ask the instance (v2, then v1). ConfigError when it answers but is no Mastodon API."""
    http = MastodonHttp(instance, timeout=FETCH_TIMEOUT)
    try:
        response = http.get("/api/v2/instance", action="reading the instance's limits")
        if response.status_code in (404, 410):
            response = http.get("/api/v1/instance", action="reading the instance's limits")
    except TransientError as exc:
        raise _Unreachable(exc.message) from None
    finally:
        http.close()
    if response.status_code >= 500 or response.status_code == 429:
        raise _Unreachable(f"HTTP {response.status_code}")
    try:
        data = response.json() if response.status_code == 200 else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{instance} does not answer like a Mastodon instance "
            f"(GET /api/v2/instance and /api/v1/instance: HTTP {response.status_code})",
            hint="check [mastodon].instance in the config file",
        )
    return limits_from_instance(data)


def limits_from_instance(data: dict[str, Any]) -> PlatformLimits:
    """PlatformLimits from a v2 or v1 instance document (missing numbers keep the defaults)."""
    default = MASTODON_DEFAULT_LIMITS
    configuration = data.get("configuration")
    configuration = configuration if isinstance(configuration, dict) else {}
    statuses = _dict(configuration.get("statuses"))
    media = _dict(configuration.get("media_attachments"))
    polls = _dict(configuration.get("polls"))
    api_version = _positive(_dict(data.get("api_versions")).get("mastodon")) or 0
    max_characters = _positive(statuses.get("max_characters")) or _positive(
        data.get("max_toot_chars")  # Pleroma / glitch-soc v1 documents
    )
    return PlatformLimits(
        platform="mastodon",
        max_graphemes=max_characters or default.max_graphemes,
        max_bytes=None,
        url_weight=_positive(statuses.get("characters_reserved_per_url")) or default.url_weight,
        max_images=_positive(statuses.get("max_media_attachments")) or default.max_images,
        max_image_bytes=_positive(media.get("image_size_limit")) or default.max_image_bytes,
        source="instance",
        max_image_pixels=_positive(media.get("image_matrix_limit")) or default.max_image_pixels,
        max_gif_pixels=default.max_gif_pixels,
        poll_max_options=_positive(polls.get("max_options")) or default.poll_max_options,
        poll_max_characters_per_option=(
            _positive(polls.get("max_characters_per_option"))
            or default.poll_max_characters_per_option
        ),
        poll_min_expiration=(_positive(polls.get("min_expiration")) or default.poll_min_expiration),
        poll_max_expiration=(_positive(polls.get("max_expiration")) or default.poll_max_expiration),
        quote_posts=api_version >= QUOTES_API_VERSION,
        max_video_bytes=_positive(media.get("video_size_limit")) or default.max_video_bytes,
        max_video_pixels=_positive(media.get("video_matrix_limit")) or default.max_video_pixels,
        max_video_frame_rate=(
            _positive(media.get("video_frame_rate_limit")) or default.max_video_frame_rate
        ),
        video_types=_video_types(media.get("supported_mime_types")) or default.video_types,
    )


_POLL_FIELDS: Final = (
    "poll_max_options",
    "poll_max_characters_per_option",
    "poll_min_expiration",
    "poll_max_expiration",
)


def _video_types(value: object) -> tuple[str, ...] | None:
    """The video MIME types of an instance's supported_mime_types; None if it lists none."""
    if not isinstance(value, list):
        return None
    types = tuple(t for t in value if isinstance(t, str) and t.startswith("video/"))
    return types or None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _positive(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _cached_poll_limits(fields: dict[str, Any]) -> dict[str, Any]:  # PlatformLimits keywords
    return {
        name: int(fields.get(name, getattr(MASTODON_DEFAULT_LIMITS, name))) for name in _POLL_FIELDS
    }


def _cached_video_limits(fields: dict[str, Any]) -> dict[str, Any]:  # PlatformLimits keywords
    default = MASTODON_DEFAULT_LIMITS
    types = fields.get("video_types")
    return {
        "max_video_bytes": _positive(fields.get("max_video_bytes")) or default.max_video_bytes,
        "max_video_pixels": _positive(fields.get("max_video_pixels")) or default.max_video_pixels,
        "max_video_frame_rate": (
            _positive(fields.get("max_video_frame_rate")) or default.max_video_frame_rate
        ),
        "video_types": tuple(types) if isinstance(types, list) and types else default.video_types,
    }


def _cache_path(state_dir: Path) -> Path:
    return state_dir / CACHE_FILE


def _read_cache(state_dir: Path, instance: str) -> tuple[datetime, PlatformLimits] | None:
    """The cached entry for `instance`; None when absent or unreadable (it is only a cache)."""
    try:
        entries = json.loads(_cache_path(state_dir).read_text(encoding="utf-8"))
        entry = entries[instance]
        fetched_at = datetime.fromisoformat(entry["fetched_at"])
        fields = entry["limits"]
        limits = PlatformLimits(
            platform="mastodon",
            max_graphemes=int(fields["max_graphemes"]),
            max_bytes=None,
            url_weight=int(fields["url_weight"]),
            max_images=int(fields["max_images"]),
            max_image_bytes=int(fields["max_image_bytes"]),
            source="cache",
            # A cache written before the pixel limit was read: the default stands in.
            max_image_pixels=_positive(fields.get("max_image_pixels"))
            or MASTODON_DEFAULT_LIMITS.max_image_pixels,
            max_gif_pixels=MASTODON_DEFAULT_LIMITS.max_gif_pixels,
            # Entries cached before polls were read hold none: the defaults stand in.
            **_cached_poll_limits(fields),
            quote_posts=fields.get("quote_posts") is True,
            # Entries cached before videos were read hold none: the defaults stand in.
            **_cached_video_limits(fields),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return fetched_at, limits


def _write_cache(state_dir: Path, instance: str, limits: PlatformLimits, now: datetime) -> None:
    path = _cache_path(state_dir)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, dict):
            entries = {}
    except (OSError, ValueError):
        entries = {}
    entries[instance] = {"fetched_at": now.isoformat(), "limits": asdict(limits)}
    # A failed write only costs a fetch next time; never fail a command over the cache.
    with contextlib.suppress(OSError):
        write_atomically(path, json.dumps(entries, indent=1, sort_keys=True), private=True)
