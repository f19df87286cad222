"""End to end through the CLI: a fresh `threadpost publish --yes` process (saved session,
remembered Mastodon account) publishing a 20-post thread, with every byte to and from the
servers delayed 50 ms each way by a TCP proxy on 127.0.0.1 (bench/latency_proxy.py) in
front of a real local PDS (tests/pds_harness.py) and the Mastodon API test server
(tests/mastodon_server/).

    .venv/bin/python bench/bench_e2e.py [--posts 20] [--delay 0.05] [--repeats 3] [--write]
                                        [--against OTHER_CHECKOUT]

It prints, per repeat and as medians, the ratios of issue 14:

- Bluesky CLI / physical floor, the floor being interpreter start (`python -c pass`) + one
  applyWrites round trip (2 × delay) + the PDS's own time for that applyWrites (its log);
- one createRecord per post with the SDK (in-process, logged in beforehand, each reply
  waiting for its parent's answer) / Bluesky CLI;
- Mastodon CLI / (N × (round trip + the server's own time per status, from its log));
- both networks in one publish / the slower network alone.

The PDS names the proxy's port in its DID documents (THREADPOST_PDS_PUBLIC_PORT), so the
SDK, which moves to the endpoint of the account's DID document, goes through the proxy too.
Nothing leaves the machine: the drafts hold no links or mentions.

`--against DIR` also runs another checkout's threadpost (DIR/src: an older commit, say), its
publishes taking turns with this one's against the same servers in every repeat, and prints
both sets of ratios side by side: on a shared machine whose speed drifts from one run to the
next, only runs made in turn compare.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pds_harness  # noqa: E402
from latency_proxy import LatencyProxy  # noqa: E402
from mastodon_server.server import MastodonTestServer, running_server  # noqa: E402

APPLY_WRITES = "com.atproto.repo.applyWrites"
CREATE_RECORD = "com.atproto.repo.createRecord"
POST = "app.bsky.feed.post"
#: Set BENCH_E2E_PROFILE=PREFIX to run each CLI process under cProfile, the Nth one's
#: profile written to PREFIX.N.
PROFILE_PREFIX = os.environ.get("BENCH_E2E_PROFILE")


#: Set BENCH_E2E_IMPORTTIME=PREFIX to run each CLI process with `-X importtime`, the Nth
#: one's report (its stderr) written to PREFIX.N.
IMPORTTIME_PREFIX = os.environ.get("BENCH_E2E_IMPORTTIME")


#: The `threadpost` command pip installed beside the interpreter: what a person or cron runs
#: (its `from threadpost.cli import console` finds an --against checkout's code first, as
#: that checkout's src/ leads PYTHONPATH).
CONSOLE_SCRIPT = Path(sys.executable).with_name("threadpost")


def _command(count: int) -> list[str]:
    """How the Nth CLI process is started after the interpreter: the `threadpost` console
    script, or under a profiler `bench/cli_main.py` (the console's own exit would skip the
    profile's report)."""
    flags = ["-X", "importtime"] if IMPORTTIME_PREFIX else []
    if PROFILE_PREFIX:
        main = str(Path(__file__).resolve().parent / "cli_main.py")
        return [*flags, "-m", "cProfile", "-o", f"{PROFILE_PREFIX}.{count}", main]
    return [*flags, str(CONSOLE_SCRIPT)]


MARK_START, MARK_END = "<!-- bench_e2e:start -->", "<!-- bench_e2e:end -->"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def draft_text(posts: int, run: str, platforms: list[str]) -> str:
    body = "\n\n---\n\n".join(
        f"Run {run}, post {n}: a sentence long enough to look like a real post about "
        f"cameras in cities, and a #tag."
        for n in range(1, posts + 1)
    )
    return f"+++\nplatforms = {json.dumps(platforms)}\n+++\n{body}\n"


@dataclass
class Run:
    """One timed CLI publish."""

    seconds: float
    #: CPU seconds of the process (user + system).
    cpu: float
    #: Seconds from the process's start to the first request a server received.
    to_first_request: float
    #: Seconds from the first request a server received to the last answer it wrote.
    network_span: float
    #: The servers' own time: PDS applyWrites, Mastodon statuses (sum).
    pds_seconds: float
    mastodon_seconds: float
    requests: dict[str, int]
    #: Whether the PDS's applyWrites and Mastodon's statuses were in flight at the same time
    #: (their intervals, from the servers' logs, intersect); None unless both were sent.
    overlapped: bool | None = None


class Bench:
    def __init__(
        self,
        work: Path,
        pds: pds_harness.LocalPDS,
        account: dict[str, Any],
        mastodon: MastodonTestServer,
        pds_proxy: int,
        mastodon_proxy: int,
        src: Path = ROOT / "src",
    ) -> None:
        self.work = work
        self.pds = pds
        self.mastodon = mastodon
        self.env = {
            # As installed (pip writes the bytecode): an environment that forbids writing
            # it would make every run compile threadpost from source, ~0.2 s before the
            # first request that no user's process spends. Output buffered, as a user's.
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith("THREADPOST_")
                and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")
            },
            "PYTHONPATH": str(src),
            "THREADPOST_CONFIG": str(work / "config.toml"),
            "THREADPOST_DB": str(work / "threadpost.db"),
            "THREADPOST_STATE_DIR": str(work / "state"),
            "THREADPOST_TIMEZONE": "UTC",
            "THREADPOST_MASTODON_INSTANCE": f"http://127.0.0.1:{mastodon_proxy}",
            "THREADPOST_MASTODON_TOKEN": mastodon.token,
            "THREADPOST_BLUESKY_SERVICE": f"http://localhost:{pds_proxy}",
            "THREADPOST_BLUESKY_HANDLE": account["handle"],
            "THREADPOST_BLUESKY_APP_PASSWORD": account["password"],
        }
        (work / "config.toml").write_text("")
        self.count = 0

    def publish(self, platforms: list[str], posts: int) -> Run:
        self.count += 1
        draft = self.work / f"d{self.count}.md"
        draft.write_text(draft_text(posts, str(self.count), platforms))
        mark = len(self.mastodon.requests)
        started = time.time()
        cpu_before = _children_cpu()
        t0 = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                *_command(self.count),
                "publish",
                "--yes",
                "--json",
                str(draft),
            ],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        seconds = time.perf_counter() - t0
        cpu = _children_cpu() - cpu_before
        if IMPORTTIME_PREFIX:
            Path(f"{IMPORTTIME_PREFIX}.{self.count}").write_text(done.stderr)
        if done.returncode != 0:
            raise SystemExit(f"publish failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        result = json.loads(done.stdout)
        for platform in platforms:
            assert result["platforms"][platform]["published"] == posts, result
        # The harness keeps the last 1000 requests, each stamped in epoch milliseconds.
        pds_new = [r for r in self.pds.requests() if r["received_ms"] >= started * 1000 - 1]
        masto_new = [r for r in self.mastodon.requests[mark:] if not r.path.startswith("/_")]
        requests: dict[str, int] = {}
        for r in pds_new:
            requests[r["nsid"] or r["path"]] = requests.get(r["nsid"] or r["path"], 0) + 1
        for m in masto_new:
            key = f"{m.method} {m.path}"
            requests[key] = requests.get(key, 0) + 1
        firsts = [r["received_ms"] / 1000 for r in pds_new] + [m.received_at for m in masto_new]
        lasts = [r["answered_ms"] / 1000 for r in pds_new if r["answered_ms"]] + [
            m.answered_at for m in masto_new if m.answered_at
        ]
        writes = [r for r in pds_new if r["nsid"] == APPLY_WRITES and r["answered_ms"]]
        statuses = [
            m
            for m in masto_new
            if (m.method, m.path) == ("POST", "/api/v1/statuses") and m.answered_at
        ]
        overlapped = None
        if writes and statuses:
            overlapped = (
                min(r["received_ms"] for r in writes) / 1000
                < max(m.answered_at or 0.0 for m in statuses)
                and min(m.received_at for m in statuses)
                < max(r["answered_ms"] for r in writes) / 1000
            )
        return Run(
            overlapped=overlapped,
            seconds=seconds,
            cpu=cpu,
            to_first_request=min(firsts) - started,
            network_span=max(lasts) - min(firsts),
            pds_seconds=sum(r["ms"] / 1000 for r in pds_new if r["nsid"] == APPLY_WRITES),
            mastodon_seconds=sum(
                (m.answered_at or m.received_at) - m.received_at
                for m in masto_new
                if (m.method, m.path) == ("POST", "/api/v1/statuses")
            ),
            requests=requests,
        )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def interpreter_start(repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sdk_one_by_one(client: Any, did: str, posts: int, run: int) -> float:
    """createRecord per post through the SDK, each reply built from its parent's answer."""
    started = time.perf_counter()
    root: dict[str, str] | None = None
    parent: dict[str, str] | None = None
    for n in range(1, posts + 1):
        record: dict[str, Any] = {
            "$type": POST,
            "text": f"SDK run {run}, post {n}: a sentence long enough to look like a post.",
            "createdAt": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        if root and parent:
            record["reply"] = {"root": root, "parent": parent}
        out = client.invoke_procedure(
            CREATE_RECORD,
            content=json.dumps({"repo": did, "collection": POST, "record": record}),
            headers={"Content-Type": "application/json"},
        ).content
        parent = {"uri": out["uri"], "cid": out["cid"]}
        root = root or parent
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added each way")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument(
        "--against", type=Path, help="another checkout, run in turn with this one (its src/)"
    )
    args = parser.parse_args()
    posts, rtt = args.posts, 2 * args.delay
    if not CONSOLE_SCRIPT.exists():
        raise SystemExit(f"no {CONSOLE_SCRIPT}: install threadpost into this interpreter first")

    work = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    pds_port = free_port()
    with (
        LatencyProxy("127.0.0.1", pds_port, delay=args.delay) as pds_proxy,
        pds_harness.LocalPDS(
            pds_port=pds_port, extra_env={"THREADPOST_PDS_PUBLIC_PORT": str(pds_proxy.port)}
        ) as pds,
        running_server() as mastodon,
        LatencyProxy("127.0.0.1", int(mastodon.url.rsplit(":", 1)[1]), delay=args.delay) as mp,
    ):
        account = pds.create_account(pds_harness.unique_handle("bench"), "bench-password-1")
        # Mastodon's 300 requests per 5 minutes would stop a long run (two checkouts publish
        # 80 statuses a repeat) for minutes; the limit is not what is measured.
        mastodon.set_config(rate_limit=1_000_000)
        benches = {"this checkout": Bench(work, pds, account, mastodon, pds_proxy.port, mp.port)}
        if args.against is not None:
            other = work / "against"
            other.mkdir()
            benches[str(args.against)] = Bench(
                other, pds, account, mastodon, pds_proxy.port, mp.port, args.against / "src"
            )
        # Warm-up: logs in (the session is saved), remembers the Mastodon account, caches
        # the instance's limits; not timed.
        for bench in benches.values():
            bench.publish(["mastodon", "bluesky"], 2)

        from atproto import Client  # the SDK baseline, logged in beforehand

        client = Client(base_url=f"http://localhost:{pds_proxy.port}")
        client.login(account["handle"], account["password"], fetch_bsky_profile=False)
        sdk_one_by_one(client, account["did"], 2, 0)

        rows_of: dict[str, list[dict[str, float]]] = {name: [] for name in benches}
        overlaps: list[bool] = []
        for run in range(1, args.repeats + 1):
            start = interpreter_start(3)
            sdk = sdk_one_by_one(client, account["did"], posts, run)
            # The checkouts take turns going first: the first after the SDK's createRecords
            # may meet a PDS still busy with them.
            turns = list(benches.items())
            for name, bench in turns if run % 2 else reversed(turns):
                row, both = measure(bench, posts, rtt, start, sdk)
                rows_of[name].append(row)
                print(f"run {run}, {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()))
                if name == "this checkout":
                    print(f"  both: applyWrites within Mastodon's statuses: {both.overlapped}")
                    overlaps.append(bool(both.overlapped))

    rows = rows_of["this checkout"]
    median = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    args.load = os.getloadavg()[1]  # the 5-minute load average, for the reader
    args.overlaps = f"{sum(overlaps)} of {len(overlaps)}"
    lines = render(median, rows, args)
    print("\n".join(lines))
    if len(rows_of) > 1:
        print("\n".join(["", *comparison(rows_of)]))
    if args.write:
        write_section(lines)


def measure(
    bench: Bench, posts: int, rtt: float, start: float, sdk: float
) -> tuple[dict[str, float], Run]:
    """One repeat of `bench`: Bluesky alone, Mastodon alone, both; the row of figures."""
    bsky = bench.publish(["bluesky"], posts)
    masto = bench.publish(["mastodon"], posts)
    both = bench.publish(["mastodon", "bluesky"], posts)
    bsky_floor = start + rtt + bsky.pds_seconds
    masto_floor = posts * rtt + masto.mastodon_seconds
    row = {
        "python -c pass": start,
        "bluesky CLI": bsky.seconds,
        "bluesky floor": bsky_floor,
        "bluesky to first request": bsky.to_first_request,
        "bluesky PDS time": bsky.pds_seconds,
        "SDK createRecord per post": sdk,
        "mastodon CLI": masto.seconds,
        "mastodon floor": masto_floor,
        "mastodon to first request": masto.to_first_request,
        "both CLI": both.seconds,
        "bluesky CPU": bsky.cpu,
        "mastodon CPU": masto.cpu,
        "both CPU": both.cpu,
        "bluesky network span": bsky.network_span,
        "mastodon network span": masto.network_span,
        "both network span": both.network_span,
        "both to first request": both.to_first_request,
        "bluesky / floor": bsky.seconds / bsky_floor,
        "SDK / bluesky CLI": sdk / bsky.seconds,
        "mastodon / floor": masto.seconds / masto_floor,
        "both / slower alone": both.seconds / max(bsky.seconds, masto.seconds),
        "both / slower alone, network span": both.network_span
        / max(bsky.network_span, masto.network_span),
    }
    return row, both


COMPARED = (
    "bluesky CLI",
    "bluesky / floor",
    "SDK / bluesky CLI",
    "mastodon CLI",
    "mastodon / floor",
    "both / slower alone",
)


def comparison(rows_of: dict[str, list[dict[str, float]]]) -> list[str]:
    """The medians of the runs made in turn, one column per checkout."""
    names = list(rows_of)
    lines = [
        "| median of the runs made in turn | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for key in COMPARED:
        cells = [f"{statistics.median(r[key] for r in rows_of[name]):.3f}" for name in names]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return lines


def render(median: dict[str, float], rows: list[dict[str, float]], args: Any) -> list[str]:
    def spread(key: str) -> str:
        values = [r[key] for r in rows]
        return f"{min(values):.2f}–{max(values):.2f}"

    return [
        MARK_START,
        "## End to end through the CLI (`bench/bench_e2e.py`)",
        "",
        f"A fresh `threadpost publish --yes` process, {args.posts} posts, saved Bluesky session "
        "and remembered Mastodon account, every byte to and from the servers delayed "
        f"{args.delay * 1000:.0f} ms each way by `bench/latency_proxy.py` (127.0.0.1) in front of "
        "the reference PDS (`tests/pds_harness.py`) and the Mastodon API test server. "
        f"Median of {len(rows)} runs (range in brackets), 2 shared cores with other jobs running "
        f"(5-minute load average {args.load:.1f} at the end).",
        "",
        "| | seconds |",
        "|---|---|",
        f"| `python -c pass` | {median['python -c pass']:.3f} |",
        f"| Bluesky, threadpost CLI | {median['bluesky CLI']:.3f} ({spread('bluesky CLI')}) |",
        f"| … of which before its first request | {median['bluesky to first request']:.3f} |",
        f"| Bluesky floor: interpreter + 1 round trip + PDS time | {median['bluesky floor']:.3f} |",
        f"| Bluesky, one createRecord per post with the SDK (in-process) | "
        f"{median['SDK createRecord per post']:.3f} |",
        f"| Mastodon, threadpost CLI | {median['mastodon CLI']:.3f} ({spread('mastodon CLI')}) |",
        f"| … of which before its first request | {median['mastodon to first request']:.3f} |",
        f"| Mastodon floor: N × (round trip + server time) | {median['mastodon floor']:.3f} |",
        f"| both networks in one publish | {median['both CLI']:.3f} ({spread('both CLI')}) |",
        f"| … of which before its first request | {median['both to first request']:.3f} |",
        "",
        "| CPU seconds (user + system) / network span (first request to last answer) | "
        "Bluesky | Mastodon | both |",
        "|---|---|---|---|",
        f"| CPU | {median['bluesky CPU']:.2f} | {median['mastodon CPU']:.2f} | "
        f"{median['both CPU']:.2f} |",
        f"| network span | {median['bluesky network span']:.2f} | "
        f"{median['mastodon network span']:.2f} | {median['both network span']:.2f} |",
        "",
        "| ratio | measured | target |",
        "|---|---|---|",
        f"| Bluesky CLI / floor | {median['bluesky / floor']:.2f}× "
        f"({spread('bluesky / floor')}) | ≤ 2× |",
        f"| SDK createRecord per post / Bluesky CLI | {median['SDK / bluesky CLI']:.2f}× "
        f"({spread('SDK / bluesky CLI')}) | ≥ 5× |",
        f"| Mastodon CLI / floor | {median['mastodon / floor']:.2f}× "
        f"({spread('mastodon / floor')}) | ≤ 1.15× |",
        f"| both networks / slower alone | {median['both / slower alone']:.2f}× "
        f"({spread('both / slower alone')}) | ≈ 1× |",
        f"| … their network spans only | {median['both / slower alone, network span']:.2f}× "
        f"({spread('both / slower alone, network span')}) | ≈ 1× |",
        "",
        "In the both-networks runs, Bluesky's applyWrites was in flight while Mastodon's "
        f"statuses were (the servers' logs): {args.overlaps} runs.",
        "",
        "Regenerate with `.venv/bin/python bench/bench_e2e.py --write`.",
        MARK_END,
    ]


def write_section(lines: list[str]) -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8")
    section = "\n".join(lines)
    if MARK_START in text:
        text = re.sub(
            re.escape(MARK_START) + ".*?" + re.escape(MARK_END),
            lambda _: section,
            text,
            flags=re.S,
        )
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
