"""Instance limits: /api/v2/instance (v1 fallback), a day's cache, offline fallbacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mastodon_server.fixtures import settings_for
from mastodon_server.server import running_server
from threadpost.errors import ConfigError
from threadpost.platforms.mastodon.instance import (
    CACHE_FILE,
    instance_limits,
    limits_from_instance,
)
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_reads_v2_and_caches_for_a_day(tmp_path: Path) -> None:
    with running_server(
        max_characters=5000, characters_reserved_per_url=30, image_size_limit=8_000_000
    ) as server:
        settings = settings_for(server, tmp_path)
        limits = instance_limits(settings, offline=False, now=NOW)
        assert (limits.max_graphemes, limits.url_weight, limits.max_image_bytes) == (
            5000,
            30,
            8_000_000,
        )
        assert (limits.max_images, limits.source, limits.platform) == (4, "instance", "mastodon")
        assert [r.path for r in server.requests] == ["/api/v2/instance"]

        server.set_config(max_characters=1000)
        cached = instance_limits(settings, offline=False, now=NOW + timedelta(hours=23))
        assert (cached.max_graphemes, cached.source) == (5000, "cache")
        assert len(server.requests) == 1  # no request: the cache is fresh

        stale = instance_limits(settings, offline=False, now=NOW + timedelta(hours=25))
        assert (stale.max_graphemes, stale.source) == (1000, "instance")
        assert len(server.requests) == 2
    entry = json.loads((tmp_path / "state" / CACHE_FILE).read_text())[server.url]
    assert entry["limits"]["max_graphemes"] == 1000


def test_falls_back_to_v1_when_v2_is_missing(tmp_path: Path) -> None:
    with running_server(max_characters=777, serve_v2=False) as server:
        limits = instance_limits(settings_for(server, tmp_path), offline=False, now=NOW)
        assert (limits.max_graphemes, limits.source) == (777, "instance")
        assert [r.path for r in server.requests] == ["/api/v2/instance", "/api/v1/instance"]


def test_offline_uses_the_cache_however_old_else_the_default(tmp_path: Path) -> None:
    with running_server(max_characters=2000) as server:
        settings = settings_for(server, tmp_path)
        assert instance_limits(settings, offline=True, now=NOW) == MASTODON_DEFAULT_LIMITS
        assert MASTODON_DEFAULT_LIMITS.source == "default"
        assert server.requests == []  # offline means offline
        instance_limits(settings, offline=False, now=NOW)
        old = instance_limits(settings, offline=True, now=NOW + timedelta(days=30))
        assert (old.max_graphemes, old.source) == (2000, "cache")
        assert len(server.requests) == 1


def test_unreachable_instance_falls_back_to_cache_or_default(tmp_path: Path) -> None:
    with running_server(max_characters=3000) as server:
        settings = settings_for(server, tmp_path)
        instance_limits(settings, offline=False, now=NOW)
        server.refuse_connections()
        later = instance_limits(settings, offline=False, now=NOW + timedelta(days=2))
        assert (later.max_graphemes, later.source) == (3000, "cache")
        fresh = settings_for(server, tmp_path / "other")
        assert instance_limits(fresh, offline=False, now=NOW) == MASTODON_DEFAULT_LIMITS


def test_a_server_that_is_not_mastodon_is_a_config_error(tmp_path: Path) -> None:
    with running_server(serve_v2=False) as server:
        server.faults.add("error", on_path="/api/v1/instance", status=404)
        with pytest.raises(ConfigError) as raised:
            instance_limits(settings_for(server, tmp_path), offline=False, now=NOW)
        assert server.url in raised.value.message
        assert "HTTP 404" in raised.value.message


def test_a_server_error_falls_back_instead_of_failing(tmp_path: Path) -> None:
    with running_server() as server:
        server.faults.add("error", on_path="/api/v2/instance", status=503)
        limits = instance_limits(settings_for(server, tmp_path), offline=False, now=NOW)
        assert limits == MASTODON_DEFAULT_LIMITS


def test_limits_from_instance_documents() -> None:
    v2 = {
        "configuration": {
            "statuses": {
                "max_characters": 11000,
                "characters_reserved_per_url": 23,
                "max_media_attachments": 6,
            },
            "media_attachments": {"image_size_limit": 10_485_760},
        }
    }
    limits = limits_from_instance(v2)
    assert (limits.max_graphemes, limits.max_images, limits.max_image_bytes) == (
        11000,
        6,
        10_485_760,
    )
    pleroma_v1 = {"max_toot_chars": 5000}
    assert limits_from_instance(pleroma_v1).max_graphemes == 5000
    # Nonsense keeps the defaults.
    odd = limits_from_instance({"configuration": {"statuses": {"max_characters": "lots"}}})
    assert odd.max_graphemes == 500 and odd.url_weight == 23


def test_the_image_pixel_limit_is_read_cached_and_defaulted(tmp_path: Path) -> None:
    """image_matrix_limit (width × height an upload may have) is the instance's; a cache
    entry written before it was read gets Mastodon's default, not "no limit"."""
    with running_server(image_matrix_limit=2_000_000) as server:
        settings = settings_for(server, tmp_path)
        assert instance_limits(settings, offline=False, now=NOW).max_image_pixels == 2_000_000
        cached = instance_limits(settings, offline=True, now=NOW)
        assert (cached.max_image_pixels, cached.source) == (2_000_000, "cache")
        path = tmp_path / "state" / CACHE_FILE
        entries = json.loads(path.read_text())
        del entries[server.url]["limits"]["max_image_pixels"]
        path.write_text(json.dumps(entries))
        older = instance_limits(settings, offline=True, now=NOW)
        assert older.source == "cache"
        assert older.max_image_pixels == MASTODON_DEFAULT_LIMITS.max_image_pixels == 33_177_600
    assert limits_from_instance({}).max_image_pixels == 33_177_600


def test_poll_limits_are_read_cached_and_default_for_older_cache_entries(tmp_path: Path) -> None:
    with running_server(poll_max_options=6, poll_max_expiration=86_400) as server:
        settings = settings_for(server, tmp_path)
        limits = instance_limits(settings, offline=False, now=NOW)
        assert (limits.poll_max_options, limits.poll_max_expiration) == (6, 86_400)
        cached = instance_limits(settings, offline=True, now=NOW)
        assert (cached.poll_max_options, cached.poll_max_expiration, cached.source) == (
            6,
            86_400,
            "cache",
        )
        # An entry written before polls were read: Mastodon's documented defaults.
        path = tmp_path / "state" / CACHE_FILE
        entries = json.loads(path.read_text())
        for name in list(entries[server.url]["limits"]):
            if name.startswith("poll_"):
                del entries[server.url]["limits"][name]
        path.write_text(json.dumps(entries))
        old = instance_limits(settings, offline=True, now=NOW)
        assert (old.poll_max_options, old.poll_max_characters_per_option) == (4, 50)
        assert (old.poll_min_expiration, old.poll_max_expiration) == (300, 2_629_746)


def test_quote_support_is_read_from_api_versions_and_cached(tmp_path: Path) -> None:
    with running_server(api_version=7) as server:
        settings = settings_for(server, tmp_path)
        assert instance_limits(settings, offline=False, now=NOW).quote_posts is True
        assert instance_limits(settings, offline=True, now=NOW).quote_posts is True
    with running_server() as older:
        assert (
            instance_limits(settings_for(older, tmp_path / "b"), offline=False).quote_posts is False
        )
