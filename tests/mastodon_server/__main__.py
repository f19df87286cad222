"""Run the Mastodon test server in the foreground: `cd tests && python -m mastodon_server`.

Prints one JSON line {"url": ..., "token": ...} on stdout once it listens, then serves until
interrupted. Faults and settings can then be changed through the /_control API.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from datetime import timedelta

from mastodon_server.server import MastodonTestServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mastodon_server", description=__doc__)
    parser.add_argument("--max-characters", type=int, default=500)
    parser.add_argument("--media-polls", type=int, default=1)
    parser.add_argument("--rate-limit", type=int, default=300)
    parser.add_argument("--username", default="alice")
    parser.add_argument("--token", default="test-token")
    parser.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        help="seconds the instance's clock runs ahead of the real one (negative: behind)",
    )
    args = parser.parse_args(argv)
    server = MastodonTestServer(
        username=args.username,
        token=args.token,
        max_characters=args.max_characters,
        media_polls=args.media_polls,
        rate_limit=args.rate_limit,
        clock_offset=timedelta(seconds=args.clock_offset),
    ).start()
    print(json.dumps({"url": server.url, "token": server.token}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
