"""End to end through the CLI: a fresh `threadpost publish --yes` process per thread, a saved
session, 50 ms added each way by a TCP proxy in front of a real local PDS and of the Mastodon
API test server. Prints the ratios of issue 14 (measured in one run, medians).

    .venv/bin/python bench/bench_e2e.py [--posts 20] [--delay 0.05] [--repeats 3]

Rows (wall time, seconds):
- start: `python -c pass`, the interpreter's start-up.
- applyWrites: one applyWrites of the thread through the proxy, in a warm process (one round
  trip + the PDS's time).
- Bluesky CLI: `threadpost publish` of a Bluesky-only draft (a new process, saved session).
- SDK createRecord: a new process that imports the atproto SDK's client, loads the same saved
  session and creates the posts one by one, each reply waiting for its parent's CID.
- Mastodon floor: N status POSTs one after the other through the proxy in a warm process
  (N × (round trip + server time)).
- Mastodon CLI: `threadpost publish` of a Mastodon-only draft.
- both CLI: `threadpost publish` of a draft for both networks.

No assertion: the machine is shared, so these are measurements (BENCHMARKS.md), not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402

import pds_harness  # noqa: E402
from latency_proxy import LatencyProxy  # noqa: E402
from mastodon_server.server import MastodonTestServer  # noqa: E402
from threadpost.config import BlueskySettings, Settings  # noqa: E402
from threadpost.draft import parse_draft  # noqa: E402
from threadpost.plan import plan_thread  # noqa: E402
from threadpost.platforms.bluesky.publisher import BlueskyPublisher  # noqa: E402
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS  # noqa: E402
from threadpost.platforms.bluesky.session import (  # noqa: E402
    BlueskySession,
    SavedSession,
    load_session,
    save_session,
)
from threadpost.values import PostRef  # noqa: E402

SDK_ONE_BY_ONE = """
import json, sys, time
from datetime import UTC, datetime
from atproto_client import Client
session_string, service, did, posts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
client = Client(base_url=service)
client.login(session_string=session_string, fetch_bsky_profile=False)
root = parent = None
for n in range(1, posts + 1):
    record = {"$type": "app.bsky.feed.post", "text": f"SDK post {n} of {posts}, {time.time()}",
              "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
    if root:
        record["reply"] = {"root": root, "parent": parent}
    out = client.invoke_procedure(
        "com.atproto.repo.createRecord",
        content=json.dumps({"repo": did, "collection": "app.bsky.feed.post", "record": record}),
        headers={"Content-Type": "application/json"},
    ).content
    parent = {"uri": out["uri"], "cid": out["cid"]}
    root = root or parent
"""


def draft_text(platforms: list[str], posts: int, label: str) -> str:
    body = "\n\n---\n\n".join(
        f"{label}, post {n}: a sentence long enough to look like a real post, about tides "
        f"and deadlines, number {n}."
        for n in range(1, posts + 1)
    )
    return f"+++\nplatforms = {json.dumps(platforms)}\n+++\n{body}\n"


def wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def mastodon_floor(url: str, token: str, posts: int, label: str) -> None:
    """N statuses, each replying to the previous, one after the other (keep-alive)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        parent: str | None = None
        for n in range(1, posts + 1):
            form = {"status": f"{label} floor {n}", "visibility": "unlisted"}
            if parent:
                form["in_reply_to_id"] = parent
            answer = client.post("/api/v1/statuses", data=form)
            answer.raise_for_status()
            parent = str(answer.json()["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added each way")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    posts = args.posts

    work = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    state = work / "state"
    mastodon = MastodonTestServer()
    mastodon.start()
    try:
        with pds_harness.LocalPDS() as pds:
            account = pds.create_account(pds_harness.unique_handle("e2e"), "bench-password-1")
            pds_port = int(pds.url.rsplit(":", 1)[1])
            mastodon_port = int(mastodon.url.rsplit(":", 1)[1])
            with (
                LatencyProxy("127.0.0.1", pds_port, delay=args.delay) as pds_proxy,
                LatencyProxy("127.0.0.1", mastodon_port, delay=args.delay) as mastodon_proxy,
            ):
                bluesky_url = f"http://127.0.0.1:{pds_proxy.port}"
                mastodon_url = f"http://127.0.0.1:{mastodon_proxy.port}"
                settings = Settings(
                    config_path=None,
                    db_path=work / "warm.db",
                    state_dir=state,
                    timezone=ZoneInfo("UTC"),
                    bluesky=BlueskySettings(
                        service=bluesky_url,
                        handle=account["handle"],
                        app_password=account["password"],
                        link_cards=False,
                    ),
                )
                BlueskyPublisher(settings).login()
                # The session's DID document names the PDS itself: point the saved session at
                # the proxy, as if the PDS were that far away.
                saved = load_session(state, bluesky_url, account["handle"])
                assert saved is not None
                session = replace(
                    BlueskySession.decode(saved.session_string), pds_endpoint=bluesky_url
                )
                save_session(
                    state,
                    SavedSession(bluesky_url, saved.handle, saved.did, session.export()),
                    handle=account["handle"],
                )
                config = work / "config.toml"
                config.write_text(
                    f'[mastodon]\ninstance = "{mastodon_url}"\n\n'
                    f'[bluesky]\nservice = "{bluesky_url}"\nhandle = "{account["handle"]}"\n'
                    "link_cards = false\n"
                )
                # As installed: bytecode cached (an environment that forbids writing it would
                # make every process compile threadpost from source).
                env = {
                    k: v
                    for k, v in os.environ.items()
                    if not k.startswith("THREADPOST_") and k != "PYTHONDONTWRITEBYTECODE"
                }
                env |= {
                    "THREADPOST_CONFIG": str(config),
                    "THREADPOST_STATE_DIR": str(state),
                    "THREADPOST_DB": str(work / "ledger.db"),
                    "THREADPOST_TIMEZONE": "UTC",
                    "THREADPOST_MASTODON_TOKEN": mastodon.token,
                    "THREADPOST_BLUESKY_APP_PASSWORD": account["password"],
                }
                cli = [sys.executable, "-m", "threadpost", "publish", "--yes"]
                counter = iter(range(1_000_000))

                def publish(platforms: list[str]) -> float:
                    path = work / f"draft-{next(counter)}.md"
                    path.write_text(draft_text(platforms, posts, path.stem))
                    return wall([*cli, str(path)], env)

                warm = BlueskyPublisher(settings)

                def apply_writes() -> None:
                    text = draft_text(["bluesky"], posts, f"warm {next(counter)}")
                    thread = plan_thread(parse_draft(text.encode(), work / "w.md"), BLUESKY_LIMITS)
                    refs: list[PostRef] = []
                    keys = warm.post_keys("warm", thread)
                    warm.send(thread, keys, start=1, root=None, parent=None, confirm=refs.append)

                sdk = [
                    sys.executable,
                    "-c",
                    SDK_ONE_BY_ONE,
                    session.export(),
                    bluesky_url,
                    account["did"],
                    str(posts),
                ]
                # Warm-up, not timed: connections, the PDS's JIT, the instance limits cache,
                # the Mastodon account remembered, bytecode caches.
                publish(["bluesky", "mastodon"])
                apply_writes()
                mastodon_floor(mastodon_url, mastodon.token, 2, "warm")
                wall([*sdk[:-1], "2"], env)

                rows: dict[str, list[float]] = {}
                for _ in range(args.repeats):
                    measured = {
                        "start": wall([sys.executable, "-c", "pass"], env),
                        "applyWrites": timed(apply_writes),
                        "Bluesky CLI": publish(["bluesky"]),
                        "SDK createRecord": wall(sdk, env),
                        "Mastodon floor": timed(
                            lambda: mastodon_floor(mastodon_url, mastodon.token, posts, "f")
                        ),
                        "Mastodon CLI": publish(["mastodon"]),
                        "both CLI": publish(["bluesky", "mastodon"]),
                    }
                    for name, seconds in measured.items():
                        rows.setdefault(name, []).append(seconds)
    finally:
        mastodon.stop()

    med = {name: statistics.median(values) for name, values in rows.items()}
    print(f"{posts}-post thread, +{args.delay * 1000:.0f} ms each way, median of {args.repeats}")
    print("| what | seconds (median) | min | max |")
    print("|---|---|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {med[name]:.3f} | {min(values):.3f} | {max(values):.3f} |")
    floor = med["start"] + med["applyWrites"]
    print()
    print("| ratio | measured | target |")
    print("|---|---|---|")
    print(f"| Bluesky CLI / (start + applyWrites) | {med['Bluesky CLI'] / floor:.2f}× | ≤ 2× |")
    print(
        f"| SDK createRecord / Bluesky CLI | {med['SDK createRecord'] / med['Bluesky CLI']:.2f}× "
        "| ≥ 5× |"
    )
    print(
        f"| Mastodon CLI / Mastodon floor | {med['Mastodon CLI'] / med['Mastodon floor']:.2f}× "
        "| ≤ 1.15× |"
    )
    slower = max(med["Bluesky CLI"], med["Mastodon CLI"])
    total = med["Bluesky CLI"] + med["Mastodon CLI"]
    print(f"| both CLI / slower network | {med['both CLI'] / slower:.2f}× | ≈ 1× |")
    print(f"| both CLI / sum of the two | {med['both CLI'] / total:.2f}× | (< 1 if concurrent) |")


if __name__ == "__main__":
    main()
