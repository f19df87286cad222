"""The Mastodon test server itself: its counting against Mastodon's own spec cases, its
idempotency and auth rules, its control API and its command-line form."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mastodon_server.faults import FaultPlan
from mastodon_server.length import countable_text, status_length
from mastodon_server.server import running_server

TESTS = Path(__file__).resolve().parents[1]
CORPUS = TESTS / "data" / "corpora" / "mastodon" / "mastodon-length-cases.json"


def test_length_matches_mastodons_server_spec_cases() -> None:
    cases = json.loads(CORPUS.read_text(encoding="utf-8"))["server"]["cases"]
    assert len(cases) >= 10
    for case in cases:
        length = status_length(case["text"], case["spoiler_text"])
        assert length == case["expected_countable_length"], case["id"]
        assert (length <= case["limit"]) == case["expected_valid"], case["id"]


def test_countable_text_rules() -> None:
    assert countable_text("see https://example.com/x.") == "see " + "x" * 23 + "."
    assert countable_text("see example.com") == "see example.com"  # no scheme: as typed
    assert countable_text("hi @bob@mastodon.example!") == "hi @bob!"
    assert countable_text("mail a@b.example") == "mail a@b.example"  # not a mention
    assert countable_text("https://m.example/@bob") == "x" * 23  # the URL wins
    assert status_length("👩‍👩‍👧‍👦", "CW") == 3


def _post(server: Any, token: str, **form: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    key = form.pop("key", None)
    if key:
        headers["Idempotency-Key"] = key
    return httpx.post(f"{server.url}/api/v1/statuses", data=form, headers=headers, timeout=10)


def test_length_limit_is_the_configured_one_and_counts_the_cw() -> None:
    with running_server(max_characters=20) as server:
        assert _post(server, server.token, status="x" * 20).status_code == 200
        too_long = _post(server, server.token, status="x" * 15, spoiler_text="123456")
        assert too_long.status_code == 422
        assert "character limit of 20" in too_long.json()["error"]
        url = "https://example.org/" + "p" * 200  # counts 23
        server.set_config(max_characters=30)
        assert _post(server, server.token, status="ok " + url).status_code == 200


def test_idempotency_is_per_account_and_lasts_an_hour() -> None:
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    with running_server(now=lambda: clock[0]) as server:
        first = _post(server, server.token, status="one", key="k")
        again = _post(server, server.token, status="something else", key="k")
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["content"] == "<p>one</p>"
        bob = server.add_account("bob")
        assert _post(server, bob, status="bob's", key="k").json()["id"] != first.json()["id"]
        clock[0] += timedelta(minutes=61)
        later = _post(server, server.token, status="one", key="k")
        assert later.json()["id"] != first.json()["id"]
        assert len(server.published()) == 3


def test_failed_attempts_do_not_burn_the_key() -> None:
    with running_server(max_characters=10) as server:
        assert _post(server, server.token, status="x" * 11, key="k").status_code == 422
        assert _post(server, server.token, status="fits", key="k").status_code == 200


def test_auth_reply_to_missing_and_rate_headers() -> None:
    with running_server() as server:
        wrong = _post(server, "nope", status="hi")
        assert wrong.status_code == 401
        assert "X-RateLimit-Limit" not in wrong.headers
        missing = _post(server, server.token, status="hi", in_reply_to_id="424242")
        assert missing.status_code == 404
        ok = _post(server, server.token, status="hi")
        assert ok.headers["X-RateLimit-Limit"] == "300"
        assert ok.headers["X-RateLimit-Remaining"] == "298"
        reset = ok.headers["X-RateLimit-Reset"]
        assert reset.endswith("Z") and len(reset.split(".")[1]) == 7  # 6 digits + Z
        for path in ("/api/v2/instance", "/api/v2/instance/", "/api/v1/instance"):
            answer = httpx.get(server.url + path, timeout=10)
            assert answer.status_code == 200, path
        recorded = server.requests[-4]
        assert recorded.headers["authorization"] == "Bearer <redacted>"


def test_control_api_arms_faults_and_reports() -> None:
    with running_server() as server:
        control = f"{server.url}/_control"
        armed = httpx.post(
            f"{control}/faults",
            json={"kind": "error", "on_path": "/api/v1/statuses", "at_count": 2, "status": 502},
            timeout=10,
        )
        assert armed.status_code == 200
        assert _post(server, server.token, status="a").status_code == 200
        assert _post(server, server.token, status="b").status_code == 502
        assert _post(server, server.token, status="c").status_code == 200
        reset = "2030-01-02T03:04:05.678901+00:00"
        httpx.post(f"{control}/faults", json={"kind": "rate_limit", "reset_at": reset}, timeout=10)
        limited = _post(server, server.token, status="d")
        assert limited.status_code == 429
        assert limited.headers["X-RateLimit-Reset"] == "2030-01-02T03:04:05.678901Z"
        httpx.post(f"{control}/config", json={"max_characters": 5}, timeout=10)
        assert _post(server, server.token, status="toolong").status_code == 422
        bad = httpx.post(f"{control}/faults", json={"kind": "explode"}, timeout=10)
        assert bad.status_code == 422
        statuses = httpx.get(f"{control}/statuses", timeout=10).json()
        assert [s["text"] for s in statuses] == ["a", "c"]
        requests = httpx.get(f"{control}/requests", timeout=10).json()
        assert [r["status"] for r in requests if r["path"] == "/api/v1/statuses"] == [
            200,
            502,
            200,
            429,
            422,
        ]


def test_fault_plan_counts_matching_requests_only() -> None:
    plan = FaultPlan()
    fault = plan.add("error", on_path="/api/v1/media/*", at_count=2, times=2, status=503)
    assert fault.method == "*"
    assert plan.take("GET", "/api/v1/statuses/1") is None
    assert plan.take("GET", "/api/v1/media/1") is None
    assert plan.take("GET", "/api/v1/media/1") is fault
    assert plan.take("GET", "/api/v1/media/1") is fault
    assert plan.take("GET", "/api/v1/media/1") is None
    assert plan.pending() == []
    with pytest.raises(ValueError):
        plan.add("explode")  # type: ignore[arg-type]


def test_runs_as_a_module() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mastodon_server",
            "--max-characters",
            "1234",
            "--clock-offset",
            "-3600",
        ],
        cwd=TESTS,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
        assert started["url"].startswith("http://127.0.0.1:")
        instance = httpx.get(started["url"] + "/api/v2/instance", timeout=10).json()
        assert instance["configuration"]["statuses"]["max_characters"] == 1234
        date = httpx.get(started["url"] + "/api/v1/instance", timeout=10).headers["Date"]
        behind = datetime.now(UTC) - parsedate_to_datetime(date)
        assert timedelta(minutes=59) < behind < timedelta(minutes=61)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_skewed_clock_stamps_created_at_date_and_resets_from_the_instances_time() -> None:
    """`clock_offset` is the instance's clock against the real one: everything the instance
    dates follows it, as on a real server whose clock is off."""
    with running_server(clock_offset=timedelta(hours=-1)) as server:
        answer = _post(server, server.token, status="skewed")
        now = datetime.now(UTC)
        created = datetime.fromisoformat(answer.json()["created_at"].replace("Z", "+00:00"))
        assert timedelta(minutes=59) < now - created < timedelta(minutes=61)
        date = parsedate_to_datetime(answer.headers["Date"])
        assert timedelta(minutes=59) < now - date < timedelta(minutes=61)
        reset = datetime.fromisoformat(answer.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
        assert reset < now  # the instance's window ends 5 min after its own "now"
        # The control API moves it (here: 3 minutes ahead of the real clock).
        moved = httpx.post(f"{server.url}/_control/clock", json={"offset_seconds": 180}, timeout=10)
        assert moved.json() == {"offset_seconds": 180.0}
        later = _post(server, server.token, status="ahead").json()["created_at"]
        ahead = datetime.fromisoformat(later.replace("Z", "+00:00")) - datetime.now(UTC)
        assert timedelta(minutes=2) < ahead <= timedelta(minutes=3)
