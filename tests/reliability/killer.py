"""Run `threadpost ARGS` in this process, SIGKILLing it between the server's commit of post
K and the ledger's record of it. Used as: python killer.py K ARGS...

No test hook exists in threadpost itself: this script wraps `Ledger.confirm_posts` (the
one ledger write that records confirmed posts) before handing over to the real CLI entry
point.
When post K is confirmed by the network, the process dies before the ledger row is written,
exactly like a power cut or an OOM kill at the worst moment.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def main() -> None:
    from threadpost.store import Ledger

    kill_at = int(sys.argv[1])
    original = Ledger.confirm_posts

    def confirm_posts(self: Ledger, thread_id: str, refs: Any, now: Any) -> None:
        if any(ref.index == kill_at for ref in refs):
            os.kill(os.getpid(), signal.SIGKILL)
        original(self, thread_id, refs, now)

    Ledger.confirm_posts = confirm_posts  # type: ignore[method-assign]
    from threadpost.cli import main as cli_main

    cli_main(sys.argv[2:])


if __name__ == "__main__":
    main()
