"""One transport per network: every request of a network passes through its choke point
(platforms/mastodon/http.py, platforms/bluesky/xrpc.py), which uses only public SDK API."""

from __future__ import annotations

import ast
import itertools
import socket
import subprocess
import sys
from pathlib import Path

import requests
from mastodon.errors import MastodonNetworkError

from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import make_publisher, settings_for
from mastodon_server.server import MastodonTestServer, running_server
from threadpost.errors import TransientError, UnclearOutcome
from threadpost.platforms.mastodon.http import classify_error
from threadpost.platforms.mastodon.instance import fetch_instance_limits
from threadpost.platforms.mastodon.publisher import MastodonPublisher

PLATFORMS = Path(__file__).resolve().parents[2] / "src" / "threadpost" / "platforms"


def _raised(outer: BaseException, *causes: BaseException) -> BaseException:
    """`outer` as raised while handling each of `causes` in turn (innermost last)."""
    chain = [outer, *causes]
    for higher, lower in itertools.pairwise(chain):
        higher.__context__ = lower
    return outer


def test_a_name_that_does_not_resolve_is_surely_unsent_even_for_a_write() -> None:
    """Judged from the standard library's socket.gaierror at the root of the chain (what
    requests and urllib3 raise theirs from), without reading urllib3's exception args."""
    exc = _raised(
        MastodonNetworkError("Could not complete request"),
        requests.exceptions.ConnectionError("Max retries exceeded"),
        socket.gaierror(-2, "Name or service not known"),
    )
    error = classify_error(exc, action="publishing post 2", instance="https://x.test", write=True)
    assert type(error) is TransientError, "nothing was sent: resending is safe"
    assert "cannot resolve the instance's host name" in error.message


def test_a_connection_lost_after_sending_a_write_is_unclear() -> None:
    exc = _raised(
        MastodonNetworkError("Could not complete request"),
        requests.exceptions.ConnectionError("Connection aborted"),
        ConnectionResetError(104, "Connection reset by peer"),
    )
    error = classify_error(exc, action="publishing post 2", instance="https://x.test", write=True)
    assert isinstance(error, UnclearOutcome)
    assert "the connection was lost before an answer came" in error.message


def test_instance_limits_and_the_publisher_share_the_transport(
    mastodon_server: MastodonTestServer, mastodon_settings: object
) -> None:
    """The limits read (no Mastodon.py) and the publisher's calls go out the same way: the
    transport's session, its user agent."""
    fetch_instance_limits(mastodon_server.url)
    publisher = make_publisher(mastodon_settings)
    publisher.account_id()
    agents = {request.headers.get("user-agent") for request in mastodon_server.requests}
    assert agents == {"threadpost"}


def test_close_releases_the_session_and_a_later_call_opens_a_new_one(tmp_path: Path) -> None:
    with running_server() as server:
        publisher = MastodonPublisher(settings_for(server, tmp_path))
        first = publisher._http.session()
        publisher.account_id()
        publisher.close()
        # A closed requests.Session has no connection pools left to reuse.
        assert all(not adapter.poolmanager.pools for adapter in first.adapters.values())
        publisher.close()
        assert publisher._http.session() is not first


def _sdk_internals(tree: ast.AST) -> list[tuple[int, str]]:
    """Uses of another object's private attribute (`client._session`,
    `client._refresh_and_set_session`), of a requests session's `hooks`, and imports of
    urllib3 (requests' business)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            private = node.attr.startswith("_") and not node.attr.startswith("__")
            if private and owner not in ("self", "cls"):
                found.append((node.lineno, f"private attribute .{node.attr}"))
            if node.attr == "hooks":
                found.append((node.lineno, "requests session hooks"))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names]
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if any(name.split(".")[0] == "urllib3" for name in [*names, module or ""]):
                found.append((node.lineno, "urllib3 import"))
    return found


def test_no_adapter_reaches_into_sdk_internals() -> None:
    offenders = [
        f"{path.relative_to(PLATFORMS)}:{line}: {what}"
        for path in sorted(PLATFORMS.rglob("*.py"))
        for line, what in _sdk_internals(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []


def test_the_internals_check_finds_what_the_adapters_used_to_do() -> None:
    old = (
        "session = client._session\n"
        "call(client._refresh_and_set_session)\n"
        "session.hooks['response'].append(remember)\n"
        "from urllib3.exceptions import NewConnectionError\n"
        "self._lock = None\n"
    )
    assert sorted(line for line, _ in _sdk_internals(ast.parse(old))) == [1, 2, 3, 4]


def test_loading_settings_imports_no_platform_module(tmp_path: Path) -> None:
    """config sits below the platforms: reading the saved Mastodon login (the token's last
    source) must not pull in the adapters (it made the import cycle config → auth →
    publisher → config)."""
    code = (
        "import sys\n"
        "from threadpost.config import load_settings\n"
        f"environ = {{'THREADPOST_STATE_DIR': {str(tmp_path)!r},"
        f" 'THREADPOST_CONFIG': {str(tmp_path / 'config.toml')!r}}}\n"
        "assert load_settings(environ=environ).mastodon.access_token is None\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('threadpost.platforms'))\n"
        "assert loaded == [], loaded\n"
    )
    (tmp_path / "config.toml").write_text("")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
