"""The Mastodon test server's edits, as Mastodon's StatusesController#update,
UpdateStatusService and MediaController#update behave: own statuses only, validated like a
new status, attachments kept only when listed, alt text changed through media_attributes,
edited_at and the history set, an attached media's PUT refused, the scope enforced."""

from __future__ import annotations

from typing import Any

import httpx

from mastodon_server.fixtures import write_image
from mastodon_server.server import MastodonTestServer, running_server


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _media(server: MastodonTestServer, tmp_path: Any, alt: str = "A teal square") -> str:
    image = write_image(tmp_path / "teal.png")
    answer = httpx.post(
        f"{server.url}/api/v2/media",
        files={"file": ("teal.png", image.read_bytes(), "image/png")},
        data={"description": alt},
        headers=_auth(server.token),
        timeout=10,
    )
    assert answer.status_code in (200, 202), answer.text
    media_id = str(answer.json()["id"])
    server.media[media_id].polls_left = 0
    return media_id


def _post(server: MastodonTestServer, **body: Any) -> dict[str, Any]:
    answer = httpx.post(
        f"{server.url}/api/v1/statuses", json=body, headers=_auth(server.token), timeout=10
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _put(server: MastodonTestServer, status_id: str, token: str, **body: Any) -> httpx.Response:
    return httpx.put(
        f"{server.url}/api/v1/statuses/{status_id}", json=body, headers=_auth(token), timeout=10
    )


def test_an_edit_keeps_listed_media_redescribes_it_and_records_history(tmp_path: Any) -> None:
    with running_server() as server:
        media_id = _media(server, tmp_path)
        status = _post(server, status="Before.", media_ids=[media_id])
        assert status["edited_at"] is None
        answer = _put(
            server,
            status["id"],
            server.token,
            status="After.",
            spoiler_text="cw",
            language="fr",
            media_ids=[media_id],
            media_attributes=[{"id": media_id, "description": "A teal square, 64 px"}],
        )
        assert answer.status_code == 200, answer.text
        edited = answer.json()
        assert edited["id"] == status["id"] and edited["edited_at"] is not None
        assert edited["spoiler_text"] == "cw" and edited["sensitive"] is True
        assert edited["language"] == "fr"
        assert [m["description"] for m in edited["media_attachments"]] == ["A teal square, 64 px"]
        source = httpx.get(
            f"{server.url}/api/v1/statuses/{status['id']}/source",
            headers=_auth(server.token),
            timeout=10,
        ).json()
        assert source["text"] == "After."
        history = httpx.get(
            f"{server.url}/api/v1/statuses/{status['id']}/history",
            headers=_auth(server.token),
            timeout=10,
        ).json()
        assert ["Before." in h["content"] for h in history] == [True, False]
        assert "After." in history[1]["content"]

        # Attached now: PUT /api/v1/media/:id no longer finds it (Mastodon: status_id nil).
        attached = httpx.put(
            f"{server.url}/api/v1/media/{media_id}",
            data={"description": "x"},
            headers=_auth(server.token),
            timeout=10,
        )
        assert attached.status_code == 404

        # An edit that does not list the media drops it, as on Mastodon.
        dropped = _put(server, status["id"], server.token, status="No image.")
        assert dropped.status_code == 200 and dropped.json()["media_attachments"] == []
        assert server.media[media_id].status_id is None


def test_unattached_media_is_redescribed_by_put_media(tmp_path: Any) -> None:
    with running_server() as server:
        media_id = _media(server, tmp_path)
        answer = httpx.put(
            f"{server.url}/api/v1/media/{media_id}",
            data={"description": "Better alt"},
            headers=_auth(server.token),
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json()["description"] == "Better alt"
        too_long = httpx.put(
            f"{server.url}/api/v1/media/{media_id}",
            data={"description": "x" * 1501},
            headers=_auth(server.token),
            timeout=10,
        )
        assert too_long.status_code == 422


def test_only_the_author_edits_and_the_length_is_validated() -> None:
    with running_server(max_characters=20) as server:
        status = _post(server, status="Mine.")
        other = server.add_account("bob")
        assert _put(server, status["id"], other, status="Hijacked.").status_code == 404
        assert _put(server, "999", server.token, status="Nothing.").status_code == 404
        long = _put(server, status["id"], server.token, status="x" * 21)
        assert long.status_code == 422 and "character limit" in long.text
        assert server.statuses[status["id"]].text == "Mine."
        assert server.statuses[status["id"]].edited_at is None


def test_an_edit_needs_write_statuses() -> None:
    with running_server() as server:
        status = _post(server, status="Mine.")
        reader = server.add_account("alice", token="read-only", scopes="read")
        refused = _put(server, status["id"], reader, status="Changed.")
        assert refused.status_code == 403
        assert server.statuses[status["id"]].text == "Mine."
