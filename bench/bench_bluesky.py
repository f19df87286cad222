"""Publishing a 20-post thread to a real local PDS 50 ms away (each way): threadpost's single
atomic applyWrites vs one createRecord per post, each waiting for its parent's CID (what
other tools do).

    .venv/bin/python bench/bench_bluesky.py [--posts 20] [--delay 0.05] [--repeats 5]

Starts the reference PDS with tests/pds_harness.py, a latency proxy on 127.0.0.1
(bench/latency_proxy.py), and routes every request of both clients through the proxy.
The session is created once beforehand: neither timing includes a login.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402

import pds_harness  # noqa: E402
from latency_proxy import LatencyProxy  # noqa: E402
from threadpost.config import BlueskySettings, Settings  # noqa: E402
from threadpost.draft import parse_draft  # noqa: E402
from threadpost.plan import Thread, plan_thread  # noqa: E402
from threadpost.platforms.bluesky.publisher import BlueskyPublisher  # noqa: E402
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS  # noqa: E402
from threadpost.platforms.bluesky.session import load_session  # noqa: E402
from threadpost.values import PostRef  # noqa: E402

POST = "app.bsky.feed.post"


class ThroughProxy(httpx.BaseTransport):
    """Send every request to the proxy's port whatever host the client aims at (the SDK
    switches to the PDS endpoint named in the session's DID document)."""

    def __init__(self, port: int) -> None:
        self._inner = httpx.HTTPTransport()
        self._port = port
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        request.url = request.url.copy_with(host="127.0.0.1", port=self._port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def make_thread(posts: int, folder: Path, run: int) -> Thread:
    text = "\n\n---\n\n".join(
        f"Run {run}, post {n}: a sentence long enough to look like a real post, "
        f"with a link https://example.com/{run}/{n} and a #tag."
        for n in range(1, posts + 1)
    )
    return plan_thread(parse_draft(text.encode(), folder / "bench.md"), BLUESKY_LIMITS)


def publish_atomic(publisher: BlueskyPublisher, thread: Thread) -> list[PostRef]:
    refs: list[PostRef] = []
    keys = publisher.post_keys("bench", thread)
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.append)
    return refs


def publish_one_by_one(client: Any, did: str, thread: Thread) -> list[str]:
    """createRecord per post, each reply built from the previous answer's uri + cid."""
    from datetime import UTC, datetime

    from threadpost.platforms.bluesky.records import iso_millis, post_record

    uris: list[str] = []
    root: dict[str, str] | None = None
    parent: dict[str, str] | None = None
    for post in thread.posts:
        record, _ = post_record(
            post,
            created_at=iso_millis(datetime.now(UTC)),
            lang=None,
            mention_dids={},
            reply=(root, parent) if root and parent else None,
        )
        out = client.invoke_procedure(
            "com.atproto.repo.createRecord",
            content=json.dumps({"repo": did, "collection": POST, "record": record}),
            headers={"Content-Type": "application/json"},
        ).content
        ref = {"uri": out["uri"], "cid": out["cid"]}
        root = root or ref
        parent = ref
        uris.append(out["uri"])
    return uris


def sdk_client(settings: Settings, transport: httpx.BaseTransport) -> Any:
    """The atproto SDK's client on the saved session (threadpost itself no longer uses the
    SDK's client: this is the baseline's, what other tools do)."""
    from atproto_client import Client
    from atproto_client.request import Request

    saved = load_session(settings.state_dir, settings.bluesky.service, settings.bluesky.handle)
    assert saved is not None
    client = Client(base_url=settings.bluesky.service, request=Request(transport=transport))
    client.login(session_string=saved.session_string, fetch_bsky_profile=False)
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added each way")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-bluesky-"))
    with pds_harness.LocalPDS() as pds:
        account = pds.create_account(pds_harness.unique_handle("bench"), "bench-password-1")
        port = int(pds.url.rsplit(":", 1)[1])
        settings = Settings(
            config_path=None,
            db_path=work / "db",
            state_dir=work / "state",
            timezone=ZoneInfo("UTC"),
            bluesky=BlueskySettings(
                service=pds.url,
                handle=account["handle"],
                app_password=account["password"],
                link_cards=False,
            ),
        )
        BlueskyPublisher(settings).account_id()  # log in once, save the session
        with LatencyProxy("127.0.0.1", port, delay=args.delay) as proxy:
            transport = ThroughProxy(proxy.port)
            publisher = BlueskyPublisher(settings, transport=transport)
            publisher.account_id()
            client = sdk_client(settings, transport)  # the same session, through the proxy
            did = account["did"]

            atomic: list[float] = []
            single: list[float] = []
            atomic_requests: list[int] = []
            single_requests: list[int] = []
            # Warm-up (connection, JIT in the PDS), not timed.
            publish_atomic(publisher, make_thread(2, work, 0))
            publish_one_by_one(client, did, make_thread(2, work, 0))
            for run in range(1, args.repeats + 1):
                thread = make_thread(args.posts, work, run)
                before = transport.requests
                started = time.perf_counter()
                refs = publish_atomic(publisher, thread)
                atomic.append(time.perf_counter() - started)
                atomic_requests.append(transport.requests - before)
                assert len(refs) == args.posts

                thread = make_thread(args.posts, work, 100 + run)
                before = transport.requests
                started = time.perf_counter()
                uris = publish_one_by_one(client, did, thread)
                single.append(time.perf_counter() - started)
                single_requests.append(transport.requests - before)
                assert len(uris) == args.posts

    a, s = statistics.median(atomic), statistics.median(single)
    print(f"{args.posts}-post thread, +{args.delay * 1000:.0f} ms each way, {args.repeats} runs")
    print(
        f"one applyWrites:        median {a:.3f} s  (min {min(atomic):.3f}, "
        f"max {max(atomic):.3f}; {statistics.median(atomic_requests):.0f} requests)"
    )
    print(
        f"createRecord per post:  median {s:.3f} s  (min {min(single):.3f}, "
        f"max {max(single):.3f}; {statistics.median(single_requests):.0f} requests)"
    )
    print(f"ratio: {s / a:.1f}x")


if __name__ == "__main__":
    main()
