"""How long a fresh process takes to reach its first Bluesky request (issue 14).

    .venv/bin/python bench/bench_bluesky_start.py [--repeat N] [--tree SRC ...]

Each sample is a new interpreter that opens a `BlueskyPublisher` on a saved session and
asks for one handle (`resolve_handles`), the first request of a publish; the service is a
closed port on 127.0.0.1, so the request is refused at once and the time measured is the
start-up: imports, settings, session, the HTTP client. Beside it, the bare interpreter
and `import typer`. With several `--tree`s (source folders, e.g. main's src and a
worktree's), each tree's threadpost is timed in the same run, the samples interleaved so
the machine's load weighs on every row alike. The child also reports whether it imported
`atproto_client`.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The child: a saved session (access token valid for two hours), one handle look-up.
CHILD = r"""
import base64, json, sys, time
from pathlib import Path
from zoneinfo import ZoneInfo
from threadpost.config import BlueskySettings, Settings
from threadpost.errors import PlatformError
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.platforms.bluesky.session import SavedSession, save_session

state, service = Path(sys.argv[1]), sys.argv[2]
def part(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
token = f"{part({'alg': 'HS256'})}.{part({'exp': int(time.time()) + 7200})}.c2ln"
session = ":::".join(["me.test", "did:plc:me", token, token, service])
save_session(state, SavedSession(service, "me.test", "did:plc:me", session))
settings = Settings(config_path=None, db_path=state / "db", state_dir=state,
                    timezone=ZoneInfo("UTC"),
                    bluesky=BlueskySettings(service=service, handle="me.test",
                                            app_password=None, link_cards=False))
try:
    BlueskyPublisher(settings, timeout=2).resolve_handles(["friend.test"])
except PlatformError:
    pass  # refused: nothing listens there
print(json.dumps({"atproto_client": "atproto_client" in sys.modules}))
"""


def _free_closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument(
        "--tree", action="append", type=Path, help="a source folder holding threadpost"
    )
    args = parser.parse_args()
    trees: list[Path] = args.tree or [ROOT / "src"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADPOST_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as installed
    service = f"http://127.0.0.1:{_free_closed_port()}"
    with tempfile.TemporaryDirectory() as tmp:
        rows: list[tuple[str, list[str], dict[str, str]]] = [
            ("python -c 'pass'", [sys.executable, "-c", "pass"], env),
            ("python -c 'import typer'", [sys.executable, "-c", "import typer"], env),
        ]
        for n, tree in enumerate(trees):
            state = Path(tmp) / f"state-{n}"
            rows.append(
                (
                    f"first Bluesky request, {tree}",
                    [sys.executable, "-c", CHILD, str(state), service],
                    {**env, "PYTHONPATH": str(tree)},
                )
            )
        samples: list[list[float]] = [[] for _ in rows]
        sdk: dict[str, bool] = {}
        for _, cmd, child_env in rows:  # warm-up: bytecode written
            subprocess.run(cmd, env=child_env, check=True, capture_output=True)
        for _ in range(args.repeat):
            for n, (name, cmd, child_env) in enumerate(rows):
                start = time.perf_counter()
                out = subprocess.run(cmd, env=child_env, check=True, capture_output=True)
                samples[n].append(time.perf_counter() - start)
                if out.stdout.strip():
                    sdk[name] = json.loads(out.stdout)["atproto_client"]
    print(f"| process (median of {args.repeat}, interleaved) | seconds | atproto_client |")
    print("|---|---|---|")
    for (name, _, _), times in zip(rows, samples, strict=True):
        imported = "" if name not in sdk else ("imported" if sdk[name] else "not imported")
        print(f"| {name} | {statistics.median(times):.3f} | {imported} |")


if __name__ == "__main__":
    main()
