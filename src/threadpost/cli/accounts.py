"""Commands: accounts."""

from __future__ import annotations

from threadpost.cli.app import app  # noqa: F401
