"""Commands specific to mastodon (`threadpost login mastodon`)."""

from __future__ import annotations

from threadpost.cli.accounts import login_app  # noqa: F401
