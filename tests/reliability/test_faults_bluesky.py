"""Fault-injection matrix, Bluesky: a 10-post thread, one fault at each post k (1..10).

Through the real adapter (atproto SDK) against a real local PDS, faults injected by
`fault_transport.FaultTransport` (the PDS has no fault switches). A Bluesky thread is
normally one atomic applyWrites, so a fault can only hit "the whole thread"; to fault at
post k, these cells publish in chunks of one post (`MAX_WRITES_PER_CALL = 1`, the path a
thread of more than 200 posts takes): the k-th applyWrites is post k, and posts 1..k-1
are already committed and confirmed when the fault hits. The SIGKILL cells
(test_sigkill.py) use the default single atomic write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fault_transport import Fault, FaultTransport
from reliability_support import (
    KS,
    Recorder,
    ServerPost,
    assert_cell_ok,
    bluesky_server_posts,
    run_cell,
)

import pds_harness
import threadpost.platforms.bluesky.publisher as bluesky_module
from threadpost.config import BlueskySettings, Settings
from threadpost.platforms.bluesky.publisher import BlueskyPublisher

POST = "app.bsky.feed.post"


class Cell:
    def __init__(self, pds: Any, tmp_path: Path) -> None:
        from zoneinfo import ZoneInfo

        self.pds = pds
        handle = pds_harness.unique_handle("rel")
        self.account = pds.create_account(handle, "cell-password-" + handle.split(".")[0])
        self.settings = Settings(
            config_path=None,
            db_path=tmp_path / "threadpost.db",
            state_dir=tmp_path / "state",
            timezone=ZoneInfo("UTC"),
            bluesky=BlueskySettings(
                service=pds.url,
                handle=handle,
                app_password=self.account["password"],
                link_cards=False,
            ),
        )
        self.transport = FaultTransport()
        self._publisher: BlueskyPublisher | None = None

    def open_publisher(self, platform: Any) -> BlueskyPublisher:
        assert platform == "bluesky"
        if self._publisher is None:
            self._publisher = BlueskyPublisher(self.settings, transport=self.transport, timeout=5)
        return self._publisher

    def read_server(self) -> list[ServerPost]:
        records = self.pds.list_records(self.account["did"], POST, limit=100)
        posts = bluesky_server_posts(records)
        # Each strong ref's CID must be the parent's real CID.
        cids = {r["uri"]: r["cid"] for r in records}
        for r in records:
            reply = r["value"].get("reply")
            if reply:
                assert reply["parent"]["cid"] == cids[reply["parent"]["uri"]]
                assert reply["root"]["cid"] == cids[reply["root"]["uri"]]
        return posts


@pytest.fixture
def per_post_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bluesky_module, "MAX_WRITES_PER_CALL", 1)


def _run(cell: Cell, fault: str, k: int, tmp_path: Path, armed: Fault, **kw: Any) -> Any:
    return run_cell(
        platform="bluesky",
        fault=fault,
        k=k,
        tmp_path=tmp_path,
        settings=cell.settings,
        open_publisher=cell.open_publisher,
        read_server=cell.read_server,
        arm=lambda: cell.transport.arm(armed),
        disarm=cell.transport.heal,
        **kw,
    )


pytestmark = pytest.mark.usefixtures("per_post_writes")


@pytest.mark.parametrize("k", KS)
def test_connection_refused_at_post_k(shared_pds: Any, tmp_path: Path, k: int) -> None:
    cell = Cell(shared_pds, tmp_path)
    outcome = _run(cell, "refused", k, tmp_path, Fault("refused", k))
    assert_cell_ok(outcome)
    assert outcome.exit_codes == (4, 0)


@pytest.mark.parametrize("status", [500, 502, 503])
@pytest.mark.parametrize("k", KS)
def test_server_error_at_post_k(shared_pds: Any, tmp_path: Path, k: int, status: int) -> None:
    cell = Cell(shared_pds, tmp_path)
    outcome = _run(cell, f"http-{status}", k, tmp_path, Fault("error", k, status=status))
    assert_cell_ok(outcome)
    assert outcome.runs == 1


@pytest.mark.parametrize("k", KS)
def test_server_error_after_commit_at_post_k(shared_pds: Any, tmp_path: Path, k: int) -> None:
    cell = Cell(shared_pds, tmp_path)
    outcome = _run(
        cell, "http-500-after-commit", k, tmp_path, Fault("error-after-commit", k, status=500)
    )
    assert_cell_ok(outcome)
    assert outcome.runs == 1


@pytest.mark.parametrize("k", KS)
def test_rate_limited_at_post_k(shared_pds: Any, tmp_path: Path, k: int) -> None:
    """429 with an epoch-seconds RateLimit-Reset 1 s ahead: the policy waits until then
    (test mode: recorded, not slept) and carries on."""
    cell = Cell(shared_pds, tmp_path)
    sleep = Recorder(real=False)
    outcome = _run(cell, "rate-limit", k, tmp_path, Fault("rate_limit", k), sleep=sleep)
    assert_cell_ok(outcome)
    assert outcome.runs == 1
    assert len(sleep.waits) == 1
    # The reset is whole epoch seconds: up to 1 s ahead (+ the 0.1 s margin).
    assert 0.0 <= sleep.waits[0] <= 2.2


@pytest.mark.parametrize("k", KS)
def test_timeout_at_post_k(shared_pds: Any, tmp_path: Path, k: int) -> None:
    cell = Cell(shared_pds, tmp_path)
    outcome = _run(cell, "timeout", k, tmp_path, Fault("timeout", k))
    assert_cell_ok(outcome)
    assert outcome.runs == 1


@pytest.mark.parametrize("k", KS)
def test_response_lost_after_commit_at_post_k(shared_pds: Any, tmp_path: Path, k: int) -> None:
    cell = Cell(shared_pds, tmp_path)
    outcome = _run(cell, "lost-response", k, tmp_path, Fault("lost", k))
    assert_cell_ok(outcome)
    assert outcome.runs == 1
