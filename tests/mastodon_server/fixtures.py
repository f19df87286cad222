"""Pytest fixtures and helpers around the Mastodon test server.

Use them from any test module with `from mastodon_server.fixtures import *  # noqa: F403`
(tests/ is on sys.path: tests/conftest.py lives there and the folder is no package).

- `mastodon_server`: a fresh running server (500 characters, media ready after one poll).
- `mastodon_settings`: Settings pointing at it with its token, state in tmp_path.
- `make_publisher(settings, **kw)`: a MastodonPublisher that never really sleeps.
- `write_image(path, ...)`: a small real PNG or JPEG (Pillow).
- `write_draft(folder, text)`: a draft file → parsed Draft.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mastodon_server.server import MastodonTestServer, running_server


@pytest.fixture
def mastodon_server() -> Iterator[MastodonTestServer]:
    with running_server() as server:
        yield server


@pytest.fixture
def mastodon_settings(mastodon_server: MastodonTestServer, tmp_path: Path) -> Any:
    return settings_for(mastodon_server, tmp_path)


def settings_for(server: MastodonTestServer, tmp_path: Path, token: str | None = None) -> Any:
    """Settings for `server` (its default token unless `token`), state under tmp_path."""
    from threadpost.config import MastodonSettings, Settings

    return Settings(
        config_path=None,
        db_path=tmp_path / "threadpost.db",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
        mastodon=MastodonSettings(
            instance=server.url, access_token=server.token if token is None else token
        ),
    )


def make_publisher(settings: Any, **options: Any) -> Any:
    """A publisher whose media polling sleeps are recorded instead of slept."""
    from threadpost.platforms.mastodon.publisher import MastodonPublisher

    sleeps: list[float] = []
    options.setdefault("request_timeout", 10.0)
    options.setdefault("sleep", sleeps.append)
    publisher = MastodonPublisher(settings, **options)
    publisher.recorded_sleeps = sleeps  # type: ignore[attr-defined]
    return publisher


def write_image(
    path: Path, size: tuple[int, int] = (64, 48), color: str = "teal", kind: str = "PNG"
) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, kind)
    return path


def write_draft(folder: Path, text: str, name: str = "thread.md") -> Any:
    from threadpost.draft import read_draft

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return read_draft(path)


__all__ = [
    "make_publisher",
    "mastodon_server",
    "mastodon_settings",
    "settings_for",
    "write_draft",
    "write_image",
]
