"""Commands specific to bluesky (`threadpost login bluesky`)."""

from __future__ import annotations

from threadpost.cli.accounts import login_app  # noqa: F401
