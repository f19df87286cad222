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

import time
from dataclasses import dataclass, replace
from datetime import timedelta
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
    fast_policy,
    run_cell,
    write_thread_draft,
)

import pds_harness
import threadpost.platforms.bluesky.publisher as bluesky_module
from httpx_wire import HttpxWire
from threadpost.clock import utc_now
from threadpost.config import BlueskySettings, Settings
from threadpost.draft import read_draft
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.publish import freeze_thread
from threadpost.schedule import run_due
from threadpost.store import open_ledger

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
            self._publisher = BlueskyPublisher(
                self.settings, transport=HttpxWire(self.transport), timeout=5
            )
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


def _run(
    cell: Cell,
    fault: str,
    k: int,
    tmp_path: Path,
    armed: Fault,
    arm_also: tuple[Fault, ...] = (),
    **kw: Any,
) -> Any:
    return run_cell(
        platform="bluesky",
        fault=fault,
        k=k,
        tmp_path=tmp_path,
        settings=cell.settings,
        open_publisher=cell.open_publisher,
        read_server=cell.read_server,
        arm=lambda: cell.transport.arm(armed, *arm_also),
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


# -- issue 18: unreadable successes, broken rate-limit resets, a failed login ---------------

APPLY_WRITES = "com.atproto.repo.applyWrites"
GET_RECORD = "com.atproto.repo.getRecord"
CREATE_SESSION = "com.atproto.server.createSession"


@pytest.mark.parametrize(
    "kind",
    [
        "non-json",
        "garbled-json",
        "non-json-after-commit",
        "garbled-json-after-commit",
        "wrong-shape-after-commit",
    ],
)
@pytest.mark.parametrize("k", KS)
def test_an_unreadable_success_at_post_k(
    shared_pds: Any, tmp_path: Path, k: int, kind: str
) -> None:
    """A 200 whose body is not applyWrites' answer (an HTML page, a body that only claims to
    be JSON, a JSON object of another shape), before or after the commit: unclear, so post k
    is looked up (getRecord) and sent only if it is not there."""
    cell = Cell(shared_pds, tmp_path)
    outcome = _run(cell, kind, k, tmp_path, Fault(kind, k))
    assert_cell_ok(outcome)
    assert outcome.runs == 1
    assert cell.transport.fired == 1


@pytest.mark.parametrize("kind", ["non-json", "garbled-json", "wrong-shape"])
@pytest.mark.parametrize("k", KS)
def test_an_unreadable_look_up_after_a_lost_answer_at_post_k(
    shared_pds: Any, tmp_path: Path, k: int, kind: str
) -> None:
    """Post k's answer is lost after the commit, then the look-up (getRecord) of post k
    answers 200 with a body that is not a record: a transient failure of the look-up, not a
    crash; the next attempt looks again and confirms post k without a second write."""
    cell = Cell(shared_pds, tmp_path)
    outcome = _run(
        cell,
        f"lost-then-{kind}-look-up",
        k,
        tmp_path,
        Fault("lost", k),
        arm_also=(Fault(kind, 1, nsid=GET_RECORD),),
    )
    assert_cell_ok(outcome)
    assert outcome.runs == 1
    assert cell.transport.fired == 2


def _ms(seconds_ahead: float) -> str:
    return str(int((time.time() + seconds_ahead) * 1000))


@pytest.mark.parametrize(
    ("fault", "reset", "retry_after", "low", "high"),
    [
        # Milliseconds are read as milliseconds: the same 1 s wait as epoch seconds.
        ("rate-limit-reset-ms", "ms", None, 0.0, 2.2),
        # Absurd (the year 3170 billion), unreadable, long past: not trusted, 5 min instead.
        ("rate-limit-reset-absurd", "99999999999999999999", None, 300.0, 300.2),
        ("rate-limit-reset-unreadable", "soon", None, 300.0, 300.2),
        ("rate-limit-reset-past", "1000000000", None, 300.0, 300.2),
        # A usable Retry-After stands in for a broken reset.
        ("rate-limit-retry-after", "99999999999999999999", "1", 1.0, 1.2),
    ],
)
@pytest.mark.parametrize("k", KS)
def test_a_rate_limit_with_a_broken_reset_at_post_k(
    shared_pds: Any,
    tmp_path: Path,
    k: int,
    fault: str,
    reset: str,
    retry_after: str | None,
    low: float,
    high: float,
) -> None:
    """429 whose RateLimit-Reset is in milliseconds, absurdly far, unreadable or long past:
    a bounded wait (test mode: recorded, not slept), never an OverflowError/ValueError."""
    cell = Cell(shared_pds, tmp_path)
    sleep = Recorder(real=False)
    armed = Fault(
        "rate_limit",
        k,
        reset_value=_ms(1.0) if reset == "ms" else reset,
        retry_after=retry_after,
    )
    outcome = _run(cell, fault, k, tmp_path, armed, sleep=sleep)
    assert_cell_ok(outcome)
    assert outcome.runs == 1
    assert len(sleep.waits) == 1
    assert low <= sleep.waits[0] <= high, sleep.waits


@pytest.mark.parametrize(
    ("fault", "armed"),
    [
        ("create-session-500-once", Fault("error", 1, nsid=CREATE_SESSION, status=500)),
        ("create-session-non-json-once", Fault("non-json", 1, nsid=CREATE_SESSION)),
        ("create-session-garbled-json-once", Fault("garbled-json", 1, nsid=CREATE_SESSION)),
        ("create-session-wrong-shape-once", Fault("wrong-shape", 1, nsid=CREATE_SESSION)),
    ],
)
def test_one_failed_login_is_retried(
    shared_pds: Any, tmp_path: Path, fault: str, armed: Fault
) -> None:
    """The first createSession fails (a 500, or a 200 that is not a session): the next
    attempt logs in again and publishes (before: an AssertionError on a client left
    without a session, or the SDK's ValueError)."""
    cell = Cell(shared_pds, tmp_path)
    outcome = _run(cell, fault, 1, tmp_path, armed)
    assert_cell_ok(outcome)
    assert outcome.runs == 1
    assert cell.transport.fired == 1


# -- end to end: `run` with two due threads, the first one faulted -------------------------


@dataclass(frozen=True)
class DueThread:
    id: str
    #: A word in every one of its posts (what a fault's `match` names).
    tag: str
    plan: Any


def _two_due_threads(cell: Cell, tmp_path: Path, ledger: Any) -> list[DueThread]:
    """Two 10-post Bluesky threads, both due now, in the order `run` takes them."""
    made: dict[str, DueThread] = {}
    for tag in ("alpha", "bravo"):
        draft = read_draft(write_thread_draft(tmp_path / tag, "bluesky", f"thread-{tag}"))
        plan = plan_thread(draft, cell.open_publisher("bluesky").limits())
        frozen = freeze_thread(
            ledger,
            draft,
            {"bluesky": plan},
            schedule_at=utc_now() - timedelta(minutes=1),
            now=utc_now(),
        )
        made[frozen.thread_id] = DueThread(frozen.thread_id, f"thread-{tag}", plan)
    order = ledger.due_thread_ids(utc_now())
    assert sorted(order) == sorted(made)
    return [made[thread_id] for thread_id in order]


#: The `match` of a fault aimed at the thread `run` takes first.
FIRST = "<the first thread>"
PERSISTENT = 1000  # "every matching call" for the whole run


@pytest.mark.parametrize(
    ("fault", "faults", "reason"),
    [
        (
            "rate-limit-reset-ms",
            (Fault("rate_limit", 1, reset_value="ms", times=PERSISTENT, match=FIRST),),
            "HTTP 429 RateLimitExceeded",
        ),
        (
            "rate-limit-reset-absurd",
            (
                Fault(
                    "rate_limit",
                    1,
                    reset_value="99999999999999999999",
                    times=PERSISTENT,
                    match=FIRST,
                ),
            ),
            "is more than a day away; trying again in 300 s",
        ),
        (
            "apply-writes-non-json",
            (Fault("garbled-json", 1, times=PERSISTENT, match=FIRST),),
            "answered HTTP 200 with a body that is not the expected JSON",
        ),
        (
            "get-record-non-json",
            (
                Fault("lost", 1, times=PERSISTENT, match=FIRST),
                Fault("non-json", 1, nsid=GET_RECORD, times=PERSISTENT),
            ),
            "looking up post 1: answered HTTP 200 with a body that is not the expected JSON",
        ),
    ],
)
def test_run_goes_on_to_the_next_thread_when_one_hits_a_fault(
    shared_pds: Any, tmp_path: Path, fault: str, faults: tuple[Fault, ...], reason: str
) -> None:
    """Issue 18: a fault that keeps hitting thread 1 (a 429 reset in milliseconds or
    absurd, a 200 that is not JSON from applyWrites or from the look-up) defers thread 1
    with its reason recorded; `run` goes on and publishes thread 2 in full."""
    cell = Cell(shared_pds, tmp_path)
    sleep = Recorder(real=False)
    with open_ledger(cell.settings.db_path) as ledger:
        first, second = _two_due_threads(cell, tmp_path, ledger)
        cell.transport.arm(
            *(
                replace(
                    f,
                    match=first.tag if f.match == FIRST else f.match,
                    reset_value=_ms(1.0) if f.reset_value == "ms" else f.reset_value,
                )
                for f in faults
            )
        )
        report = run_due(ledger, cell.settings, cell.open_publisher, policy=fast_policy(sleep))
        assert [item.thread_id for item in report.items] == [first.id, second.id]
        assert report.items[0].action == "incomplete", report.items[0]
        assert report.items[1].action == "published", report.items[1]
        assert int(report.exit_status) == 4
        (platform,) = ledger.platforms(first.id)
        assert platform.state == "incomplete"
        assert platform.last_error is not None and reason in platform.last_error, platform
        assert platform.next_retry_at is not None
        assert all(p.state == "confirmed" for p in ledger.posts(second.id, "bluesky"))
    assert cell.transport.fired >= 1
    texts = [post.text for post in cell.read_server()]
    assert len(texts) == len(set(texts)), "no duplicates"
    assert [t for t in texts if second.tag in t] == [p.text for p in second.plan.posts]


def test_run_with_one_failed_login_publishes_both_threads(shared_pds: Any, tmp_path: Path) -> None:
    """Issue 18: one transient createSession failure (a 200 that is not a session) no longer
    leaves a client without a session (the AssertionError): both threads are published."""
    cell = Cell(shared_pds, tmp_path)
    with open_ledger(cell.settings.db_path) as ledger:
        first, second = _two_due_threads(cell, tmp_path, ledger)
        cell.transport.arm(Fault("garbled-json", 1, nsid=CREATE_SESSION))
        report = run_due(
            ledger, cell.settings, cell.open_publisher, policy=fast_policy(Recorder(real=False))
        )
        assert [item.thread_id for item in report.items] == [first.id, second.id]
        assert [item.action for item in report.items] == ["published", "published"]
        assert int(report.exit_status) == 0
    assert cell.transport.fired == 1
    assert len(cell.read_server()) == 20


def test_run_with_logins_that_keep_failing_defers_every_thread_with_its_reason(
    shared_pds: Any, tmp_path: Path
) -> None:
    """Every createSession answers 200 with a page: each thread is deferred on its own with
    the reason recorded, and `run` ends normally (exit 4), not with a traceback."""
    cell = Cell(shared_pds, tmp_path)
    with open_ledger(cell.settings.db_path) as ledger:
        threads = _two_due_threads(cell, tmp_path, ledger)
        cell.transport.arm(Fault("non-json", 1, nsid=CREATE_SESSION, times=PERSISTENT))
        report = run_due(
            ledger, cell.settings, cell.open_publisher, policy=fast_policy(Recorder(real=False))
        )
        assert [item.action for item in report.items] == ["incomplete", "incomplete"]
        assert int(report.exit_status) == 4
        for thread in threads:
            (platform,) = ledger.platforms(thread.id)
            assert platform.last_error is not None
            assert platform.last_error.startswith(
                "Bluesky: logging in: answered HTTP 200 with a body that is not the expected JSON"
            )
    assert cell.read_server() == []
