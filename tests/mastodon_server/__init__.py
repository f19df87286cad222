"""A local Mastodon API test server (see server.py) and its pytest fixtures (fixtures.py)."""

from __future__ import annotations

from mastodon_server.faults import FAULT_KINDS, Fault, FaultPlan
from mastodon_server.length import countable_text, status_length
from mastodon_server.server import MastodonTestServer, RecordedRequest, running_server

__all__ = [
    "FAULT_KINDS",
    "Fault",
    "FaultPlan",
    "MastodonTestServer",
    "RecordedRequest",
    "countable_text",
    "running_server",
    "status_length",
]
