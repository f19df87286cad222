"""The Mastodon test server's polls: accepted and refused like Mastodon's PollValidator and
PostStatusService, in both the form and the JSON shape clients send, stored and returned
as the status's Poll entity."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mastodon_server.fixtures import write_image
from mastodon_server.server import running_server


def _form(server: Any, **extra: Any) -> httpx.Response:
    data = {"status": "Which one?", **extra}
    return httpx.post(
        f"{server.url}/api/v1/statuses",
        data=data,
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )


def _json(server: Any, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/statuses",
        json={"status": "Which one?", **body},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )


def test_a_form_poll_is_stored_and_returned_as_mastodons_poll_entity() -> None:
    with running_server() as server:
        answer = _form(
            server,
            **{
                "poll[options][]": ["Tea", "Coffee"],
                "poll[expires_in]": "3600",
                "poll[multiple]": "true",
            },
        )
        assert answer.status_code == 200, answer.text
        poll = answer.json()["poll"]
        assert [o["title"] for o in poll["options"]] == ["Tea", "Coffee"]
        assert [o["votes_count"] for o in poll["options"]] == [0, 0]
        assert (poll["multiple"], poll["expired"], poll["voters_count"]) == (True, False, 0)
        (stored,) = server.published()
        assert stored.poll is not None
        assert (stored.poll.options, stored.poll.multiple, stored.poll.hide_totals) == (
            ["Tea", "Coffee"],
            True,
            False,
        )
        assert round((stored.poll.expires_at - stored.created_at).total_seconds()) == 3600


def test_a_json_poll_with_hidden_totals_shows_no_counts() -> None:
    with running_server() as server:
        answer = _json(
            server,
            {"poll": {"options": ["A", "B", "C"], "expires_in": 300, "hide_totals": True}},
        )
        assert answer.status_code == 200, answer.text
        poll = answer.json()["poll"]
        assert [o["votes_count"] for o in poll["options"]] == [None, None, None]
        assert poll["multiple"] is False
        assert server.status_json(answer.json()["id"])["poll"]["id"] == poll["id"]


@pytest.mark.parametrize(
    ("poll", "message"),
    [
        ({"options": ["Only"], "expires_in": 3600}, "must have more than one item"),
        ({"options": list("ABCDE"), "expires_in": 3600}, "can't contain more than 4 items"),
        ({"options": ["A", "x" * 51], "expires_in": 3600}, "longer than 50 characters"),
        ({"options": ["A", "A"], "expires_in": 3600}, "duplicate items"),
        ({"options": ["A", "B"], "expires_in": 299}, "is too soon"),
        ({"options": ["A", "B"], "expires_in": 2_629_747}, "too far into the future"),
    ],
)
def test_bad_polls_are_refused_with_422_and_nothing_is_stored(
    poll: dict[str, Any], message: str
) -> None:
    with running_server() as server:
        answer = _json(server, {"poll": poll})
        assert answer.status_code == 422
        assert message in answer.json()["error"]
        assert server.published() == []


def test_the_configured_poll_limits_are_announced_and_enforced() -> None:
    with running_server(poll_max_options=6, poll_max_characters_per_option=5) as server:
        polls = httpx.get(f"{server.url}/api/v2/instance", timeout=10).json()["configuration"][
            "polls"
        ]
        assert (polls["max_options"], polls["max_characters_per_option"]) == (6, 5)
        assert _json(server, {"poll": {"options": list("ABCDEF"), "expires_in": 600}}).is_success
        refused = _json(server, {"poll": {"options": ["A", "Banana"], "expires_in": 600}})
        assert refused.status_code == 422


def test_a_poll_with_media_is_refused(tmp_path: Any) -> None:
    with running_server(media_polls=0) as server:
        image = write_image(tmp_path / "a.png")
        media = httpx.post(
            f"{server.url}/api/v2/media",
            files={"file": ("a.png", image.read_bytes(), "image/png")},
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=10,
        ).json()
        answer = _json(
            server,
            {"media_ids": [media["id"]], "poll": {"options": ["A", "B"], "expires_in": 600}},
        )
        assert answer.status_code == 422
        assert server.published() == []
