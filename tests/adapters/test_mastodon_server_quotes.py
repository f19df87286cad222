"""The Mastodon test server's quote posts (Mastodon 4.5) and search by address."""

from __future__ import annotations

from typing import Any

import httpx

from mastodon_server.server import running_server


def _post(server: Any, **form: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/statuses",
        data=form,
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )


def _search(server: Any, **params: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v2/search",
        params=params,
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )


def test_api_version_7_takes_quoted_status_id_and_shows_the_quote() -> None:
    with running_server(api_version=7) as server:
        instance = httpx.get(f"{server.url}/api/v2/instance", timeout=10).json()
        assert instance["api_versions"] == {"mastodon": 7}
        quoted = _post(server, status="The original.").json()
        quoting = _post(server, status="Look.", quoted_status_id=quoted["id"])
        assert quoting.status_code == 200, quoting.text
        body = quoting.json()
        assert body["quote"]["state"] == "accepted"
        assert body["quote"]["quoted_status"]["id"] == quoted["id"]
        assert server.published()[1].quoted_status_id == quoted["id"]
        assert quoted["quote"] is None  # quotes nothing itself
        # Inside a quoted status a quote is shallow (an id, not a status).
        again = _post(server, status="Deeper.", quoted_status_id=body["id"]).json()
        assert again["quote"]["quoted_status"]["quote"] == {
            "state": "accepted",
            "quoted_status_id": quoted["id"],
        }


def test_quoting_a_missing_or_private_status_is_404_and_nothing_is_stored() -> None:
    with running_server(api_version=7) as server:
        private = _post(server, status="Mine only.", visibility="private").json()
        for target in ("999", private["id"]):
            answer = _post(server, status="Look.", quoted_status_id=target)
            assert answer.status_code == 404
            assert "does not appear to exist" in answer.json()["error"]
        assert len(server.published()) == 1


def test_before_api_version_7_quoted_status_id_is_ignored() -> None:
    with running_server() as server:
        assert httpx.get(f"{server.url}/api/v2/instance", timeout=10).json()["api_versions"] == {
            "mastodon": 2
        }
        quoted = _post(server, status="The original.").json()
        body = _post(server, status="Look.", quoted_status_id=quoted["id"]).json()
        assert "quote" not in body
        assert server.published()[1].quoted_status_id is None


def test_search_finds_a_status_by_url_or_uri_only_when_resolving() -> None:
    with running_server() as server:
        status = _post(server, status="Find me.").json()
        for address in (status["url"], status["uri"]):
            found = _search(server, q=address, resolve="true", type="statuses").json()
            assert [s["id"] for s in found["statuses"]] == [status["id"]]
            assert found["accounts"] == [] and found["hashtags"] == []
        assert _search(server, q=status["url"]).json()["statuses"] == []
        missing = _search(server, q=f"{server.url}/@alice/1", resolve="true").json()
        assert missing["statuses"] == []
        unauthenticated = httpx.get(f"{server.url}/api/v2/search", params={"q": "x"}, timeout=10)
        assert unauthenticated.status_code == 401
