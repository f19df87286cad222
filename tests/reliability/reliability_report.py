"""Collects one row per fault-injection cell and writes docs/reliability.md from them.

The suite calls `record(...)` for every cell it runs; `tests/reliability/conftest.py` writes
the document at the end of the session when THREADPOST_WRITE_RELIABILITY_DOC=1. The table is
generated, never hand-edited: rerun the suite with that variable to refresh it.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DOC_ENV: Final = "THREADPOST_WRITE_RELIABILITY_DOC"
DOC_PATH: Final = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


@dataclass(frozen=True)
class CellOutcome:
    """What one fault at one post index ended as."""

    platform: str
    fault: str
    k: int
    planned: int
    on_server: int
    duplicates: int
    in_order: bool
    chain_intact: bool
    #: Network attempts the ledger logged (every publish/resume attempt, retries included).
    attempts: int
    #: Runs needed: 1 = the retries of the first run sufficed; 2 = a later `run` resumed.
    runs: int
    exit_codes: tuple[int, ...]
    #: Seconds the retry policy asked to wait (rate limits: until the reset).
    waits: tuple[float, ...] = ()

    @property
    def ok(self) -> bool:
        return (
            self.on_server == self.planned
            and self.duplicates == 0
            and self.in_order
            and self.chain_intact
            and self.exit_codes[-1] == 0
        )


@dataclass(frozen=True)
class LedgerCase:
    """One damaged-ledger case (issues 17, 18): what was done to the ledger, how the run
    ended, how the thread was finished once the file was healthy, and the test."""

    damage: str
    outcome: str
    afterwards: str
    test: str


_lock = threading.Lock()
_rows: list[CellOutcome] = []
_ledger_cases: list[LedgerCase] = []


def record_ledger_case(case: LedgerCase) -> None:
    """Add one damaged-ledger case to the report."""
    with _lock:
        _ledger_cases.append(case)


def ledger_cases() -> list[LedgerCase]:
    """The damaged-ledger cases recorded so far, in the order of `LEDGER_ORDER`'s tests."""
    with _lock:
        return sorted(_ledger_cases, key=lambda c: (LEDGER_ORDER.get(c.test, 99), c.damage))


#: The damaged-ledger table's row order (by test name).
LEDGER_ORDER: Final = {
    name: i
    for i, name in enumerate(
        (
            "test_an_index_bit_flip_is_refused_instead_of_hiding_a_platform",
            "test_a_ledger_deleted_mid_run_stops_the_run_and_a_restored_backup_resumes_it",
            "test_a_ledger_replaced_mid_run_stops_the_run_and_the_replacement_resumes",
            "test_a_full_disk_mid_thread_stops_the_send_and_run_resumes_once_space_is_freed",
            "test_a_final_state_lost_to_a_full_disk_is_settled_by_the_next_run",
            "test_a_ledger_made_read_only_refuses_run_and_resumes_once_writable",
        )
    )
}

#: Order and wording of the faults in the table.
FAULTS: Final = {
    "refused": "connection refused",
    "http-500": "HTTP 500",
    "http-502": "HTTP 502",
    "http-503": "HTTP 503",
    "http-500-after-commit": "HTTP 500 after the server stored the post",
    "rate-limit": "HTTP 429 with a reset 1 s ahead",
    "timeout": "timeout (no answer in time; the server stores the post late)",
    "lost-response": "response lost after the server committed (duplicate trap)",
    "lost-response-resumed-later": "response lost after commit, no retry; `run` 1 day later,"
    " Idempotency-Keys forgotten",
    "unclear-unsent-resumed-later": "connection closed before the server stored the post, no"
    " retry; `run` 1 day later, Idempotency-Keys forgotten",
    "non-json-after-commit": "HTTP 200 with a body that is not JSON after the server stored"
    " the post",
    "non-json-after-commit-resumed-later": "HTTP 200 not JSON after the server stored the"
    " post, no retry; `run` 1 day later, Idempotency-Keys forgotten",
    "skew-lost-client-1h-ahead": "client clock 1 h ahead of the instance, response lost after"
    " commit",
    "skew-lost-client-3min-ahead": "client clock 3 min ahead, response lost after commit",
    "skew-lost-client-3min-behind": "client clock 3 min behind, response lost after commit",
    "skew-lost-client-1h-behind": "client clock 1 h behind, response lost after commit",
    "skew-resumed-client-1h-ahead": "client clock 1 h ahead, response lost, no retry; `run` 1"
    " day later, Idempotency-Keys forgotten",
    "skew-resumed-client-3min-ahead": "client clock 3 min ahead, response lost, no retry;"
    " `run` 1 day later, Idempotency-Keys forgotten",
    "skew-resumed-client-3min-behind": "client clock 3 min behind, response lost, no retry;"
    " `run` 1 day later, Idempotency-Keys forgotten",
    "skew-resumed-client-1h-behind": "client clock 1 h behind, response lost, no retry; `run`"
    " 1 day later, Idempotency-Keys forgotten",
    "sigkill": "process SIGKILLed between the server's commit and the ledger write; `run`"
    " at once (dead holder's lease taken over)",
    "sigkill-keys-forgotten": "SIGKILL as above, then the server forgets every"
    " Idempotency-Key (the hour passed) before `run`",
    # Issue 18, Bluesky: unreadable successes, broken rate-limit resets, a failed login.
    "non-json": "HTTP 200 with an HTML page instead of the answer (nothing stored)",
    "garbled-json": "HTTP 200 whose body claims to be JSON and is not (nothing stored)",
    # ("non-json-after-commit", shared with the Mastodon cells, is listed above.)
    "garbled-json-after-commit": "HTTP 200 whose body claims to be JSON and is not, after the"
    " server stored the post",
    "wrong-shape-after-commit": "HTTP 200 with a JSON object that is not the answer (no"
    " `results`), after the server stored the post",
    "lost-then-non-json-look-up": "response lost after commit, then the look-up (getRecord)"
    " answers 200 with an HTML page",
    "lost-then-garbled-json-look-up": "response lost after commit, then the look-up answers"
    " 200 with a body that claims to be JSON and is not",
    "lost-then-wrong-shape-look-up": "response lost after commit, then the look-up answers"
    " 200 with a JSON object that is not a record",
    "rate-limit-reset-ms": "HTTP 429, RateLimit-Reset in epoch milliseconds, 1 s ahead (waits"
    " ≤ 1 s)",
    "rate-limit-reset-absurd": "HTTP 429, RateLimit-Reset `99999999999999999999` (year out"
    " of range): waits 5 min instead",
    "rate-limit-reset-unreadable": "HTTP 429, RateLimit-Reset `soon`: waits 5 min",
    "rate-limit-reset-past": "HTTP 429, RateLimit-Reset in 2001: waits 5 min",
    "rate-limit-retry-after": "HTTP 429, RateLimit-Reset absurd, `Retry-After: 1`: waits 1 s",
    "create-session-500-once": "the first createSession answers 500 (k: the login)",
    "create-session-non-json-once": "the first createSession answers 200 with an HTML page",
    "create-session-garbled-json-once": "the first createSession answers 200, claims JSON, is not",
    "create-session-wrong-shape-once": "the first createSession answers 200 with a JSON"
    " object that is not a session",
}


def record(outcome: CellOutcome) -> None:
    """Add one cell's outcome to the report."""
    with _lock:
        _rows.append(outcome)


def rows() -> list[CellOutcome]:
    """The outcomes recorded so far."""
    with _lock:
        return list(_rows)


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


def render(outcomes: list[CellOutcome], *, notes: str, runtime: float | None) -> str:
    """The markdown document: a summary table fault × platform, then the notes."""
    cells: dict[tuple[str, str], list[CellOutcome]] = defaultdict(list)
    for outcome in outcomes:
        cells[(outcome.fault, outcome.platform)].append(outcome)
    lines = [
        "# Reliability: faults × outcome",
        "",
        "Generated by the fault-injection suite (`tests/reliability/`): run",
        "`THREADPOST_WRITE_RELIABILITY_DOC=1 .venv/bin/pytest tests/reliability` to refresh it.",
        "Do not edit the table by hand.",
        "",
        "Every cell publishes a 10-post thread and injects the fault at post k, for each k",
        "in 1..10 (one pytest test per cell). A cell passes when, after the retries of the",
        "first run or after a later `threadpost run` resumed it, the server holds exactly",
        "the 10 planned posts, once each, in order, as an intact reply chain.",
        "",
        "| fault | platform | cells (k) | posts on server | duplicates | order + chain |"
        " network attempts | runs | exit codes (per run) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for fault, label in FAULTS.items():
        for platform in ("mastodon", "bluesky"):
            group = sorted(cells.get((fault, platform), []), key=lambda o: o.k)
            if not group:
                continue
            ks = [o.k for o in group]
            ok_chain = all(o.in_order and o.chain_intact for o in group)
            codes = sorted({" → ".join(str(c) for c in o.exit_codes) for o in group})
            server = sorted({f"{o.on_server}/{o.planned}" for o in group})
            lines.append(
                f"| {label} | {platform} | {len(group)} ({_span(ks)}) | {', '.join(server)} | "
                f"{sum(o.duplicates for o in group)} | "
                f"{'intact' if ok_chain else 'BROKEN'} | "
                f"{_span([o.attempts for o in group])} | {_span([o.runs for o in group])} | "
                f"{'; '.join(codes)} |"
            )
    failed = [o for o in outcomes if not o.ok]
    lines += [
        "",
        f"Cells run: {len(outcomes)}; failing: {len(failed)}."
        + (f" Suite runtime: {runtime:.0f} s." if runtime is not None else ""),
        "",
    ]
    if failed:
        lines.append("Failing cells:")
        lines += [f"- {o}" for o in failed]
        lines.append("")
    lines.append(notes.strip())
    lines.append("")
    lines += hardening_table()
    lines += damaged_ledger_table(ledger_cases())
    lines += ["", HOSTILE_ARCHIVES.strip(), ""]
    return "\n".join(lines)


#: Hand-written rows, not fault cells: `threadpost import archive` against hostile archives
#: (issues 17, 18); each row names the test that builds the archive.
HOSTILE_ARCHIVES: Final = (Path(__file__).parent / "hostile_archives.md").read_text(
    encoding="utf-8"
)


def hardening_table() -> list[str]:
    """The holes closed outside the fault matrix, one row each with the test that guards it."""
    lines = [
        "## Holes closed outside the fault matrix",
        "",
        "Each row names the test that reproduces the hole; it fails on the code before the fix.",
        "",
        "| found | now | test |",
        "|---|---|---|",
    ]
    lines += [f"| {found} | {now} | {test} |" for found, now, test in HARDENING]
    lines.append("")
    return lines


def damaged_ledger_table(cases: list[LedgerCase]) -> list[str]:
    """The damaged-ledger cases (`tests/reliability/test_damaged_ledger.py`,
    `test_full_disk.py`), one row each, as recorded by the run that wrote the document."""
    if not cases:
        return []
    lines = [
        "## A damaged ledger (issues 17, 18)",
        "",
        LEDGER_NOTES.strip(),
        "",
        "| damage | this run | once the file is healthy | test |",
        "|---|---|---|---|",
    ]
    lines += [f"| {c.damage} | {c.outcome} | {c.afterwards} | `{c.test}` |" for c in cases]
    lines.append("")
    return lines


LEDGER_NOTES: Final = """
Every case ends in `Error: <ledger path>: …` with what to do, exit 1, no traceback, and
nothing sent that the ledger does not record (each post is marked `sending` before it goes
out, and a failing ledger write stops the send before the next post); `run` then finishes
the thread with every post online once. How: before every write the ledger checks that its
path still names the file it opened (`(st_dev, st_ino)` at open; a missing path is a
deletion); every command that takes a thread's lease (`publish`, `run` with something due,
`cancel`, `delete`) first runs `PRAGMA integrity_check` once per connection (65 ms median on
a 10 MB ledger of 1,000 threads × 20 posts, where `quick_check` takes 36 ms but misses an
index entry that no longer matches its row: the bit flip below); `run` with nothing due runs
no check. A thread whose networks are all settled but whose own state could not be written
is due at once. The deleted/replaced/bit-flip cells damage the ledger between two posts of
the fake network of `tests/fakes.py` (in process); the full-disk mid-thread and read-only
cells run `threadpost` as a subprocess in a user and mount namespace of its own, with the
ledger on a real 2 MiB tmpfs filled up between two posts, or bind-mounted read-only (tests
run as root, whom file modes do not stop); the final-state cell makes that one write raise
SQLite's `database or disk is full`. Every case but the read-only one failed on the code
before the fix (the read-only one already held: it guards it).
"""


#: (what was found, what happens now, the test) for every hole closed outside the matrix.
HARDENING: Final[tuple[tuple[str, str, str], ...]] = (
    (
        "with `--traceback`, the chained Mastodon.py exception showed the raw token when the"
        " server quoted the `Authorization` header in a 401/403/400",
        "all output passes through `threadpost.redact`: the secrets this run loaded (token,"
        " app password, session JWTs, OAuth client secret and code) are replaced raw, JSON-"
        " and Python-escaped, URL-encoded and base64; Bearer/Basic values, JWTs and"
        " `password`/`access_token` fields are blanked in diagnostics",
        "`test_secrets.py::test_a_token_the_server_echoes_in_a_refusal_is_not_printed_even_"
        "with_traceback` (401, 403, 400: the test server's `echo_authorization` fault)",
    ),
    (
        'a Bluesky app password containing `"` or `\\` was printed JSON-escaped when the'
        " createSession error body quoted the request",
        "the same funnel: `Error:`, hints, warnings, tracebacks and all of stderr (library"
        " warnings, logging) go through `redact`; stdout through the registered secrets only",
        "`test_secrets.py::test_a_password_the_server_echoes_json_escaped_is_not_printed_even_"
        "with_traceback` (401, 400: a createSession stand-in that echoes its request);"
        " in a cron `run` the message reached the ledger too: every ThreadpostError's message"
        " is redacted when made (`test_a_password_echoed_to_a_scheduled_run_stays_out_of_the_"
        "ledger`)",
    ),
    (
        "`http://127.evil.example` was accepted as a loopback instance",
        "`http://` only for `localhost` and loopback addresses (127.0.0.0/8, `::1`,"
        " IPv4-mapped 127.x)",
        "`tests/unit/test_config.py::test_http_is_refused_unless_the_host_is_really_loopback`",
    ),
    (
        "the state folder was created 0755 (0777 under umask 000), its missing parents too,"
        " and the link-check cache 0644",
        "every folder threadpost creates (the state folder, its parents, the ledger's folder)"
        " is 0700 and every file it writes there (link-check and instance caches, sessions,"
        " saved login) 0600, whatever the umask",
        "`tests/cli/test_private_state.py` (umask 000, 022),"
        " `tests/unit/test_private_files.py` (000, 022, 277)",
    ),
    (
        "one Bluesky fault aborted every `run`: a `ratelimit-reset` in milliseconds or absurd"
        " (`year … is out of range` from the SDK's `reset_at`), a 200 whose body is not JSON"
        " from applyWrites (the SDK's ValueError; or, without a JSON content type, posts"
        " confirmed that were never stored), from getRecord (KeyError) or from createSession,"
        " and one failed createSession (a client left without a session: AssertionError)",
        "resets are read by `answers.parse_reset` (epoch seconds; past 10**11 milliseconds;"
        " `retry-after` too; missing, unreadable, long past or over a day away: 5 min, reason"
        " in the message); a 2xx the SDK cannot read is `UnclearOutcome` for a write (looked"
        " up, then resumed) and `TransientError` for a read or a login; any other exception"
        " raised inside the SDK or httpx is a retryable error naming its type and place; the"
        " client is kept only once logged in. The faulted thread is deferred with its reason"
        " in the ledger and `run` publishes the next",
        "`test_faults_bluesky.py::test_run_goes_on_to_the_next_thread_when_one_hits_a_fault`"
        " (4 faults), `test_run_with_one_failed_login_publishes_both_threads`,"
        " `test_run_with_logins_that_keep_failing_defers_every_thread_with_its_reason`;"
        " `tests/adapters/test_bluesky_transport_errors.py` (`test_parse_reset`, the"
        " unreadable-success tests)",
    ),
    (
        "an image replaced after `schedule` by a link to a text file was uploaded byte for"
        " byte; one replaced by a too-large image was sent to one network and refused by the"
        " other",
        "before the first post of a thread goes out, every image of every network still to"
        " publish is re-checked: a regular file (no link, no linked folder) inside the"
        " draft's folder, a type the networks take (`images.inspect_image`), within each"
        " network's size limit; otherwise the thread fails with the reason recorded and"
        " nothing is sent anywhere",
        "`tests/cli/test_image_recheck.py` (link to a text file, too large, text file; on the"
        " Mastodon test server)",
    ),
)


NOTES: Final = """
## How each fault is injected

- **Mastodon**: the local Mastodon API test server (`tests/mastodon_server`) counts status
  POSTs and fires the fault on the k-th: `error` (500/502/503, optionally after storing the
  status), `rate_limit` (429, `X-RateLimit-Reset` in ISO-8601 1 s ahead), `delay` (the
  answer comes after the client's 0.3 s timeout; the status is stored late),
  `drop_after_commit` (stored, connection closed without an answer),
  `non_json_after_commit` (stored, then a 200 whose body is an HTML page, not the status:
  issue 18). "Connection refused":
  the server stops listening right after post k-1 is confirmed and stays down for the
  whole first run; the first run ends incomplete (exit 4), a later `run` resumes from post k.
- **Bluesky**: the real reference PDS runs locally; it has no fault switches, so
  `tests/reliability/fault_transport.py` sits between the adapter and the PDS (an httpx
  transport: every request really reaches the PDS over TCP unless the fault says
  otherwise) and fires on the k-th `applyWrites`: 500/502/503 without forwarding, 500
  after forwarding (the write landed), 429 `RateLimitExceeded` with an epoch-seconds
  `RateLimit-Reset` 1 s ahead, a read timeout after the write landed, a connection closed
  without an answer after the write landed, and "refused" (this call and all later ones go
  to a closed port on 127.0.0.1: a real ECONNREFUSED, until the next run).
- **Bluesky, issue 18**: the same transport also answers 200 without forwarding (an HTML
  page; a body whose content type says JSON and is not) or after forwarding (those two, or
  a JSON object without `results`), answers getRecord that way after a lost applyWrites
  answer, sends 429s whose `RateLimit-Reset` is in milliseconds, absurd
  (`99999999999999999999`), unreadable or long past (with or without `Retry-After`), and
  fails the first createSession (500, or a 200 that is not a session). These cells run the
  retry policy in test mode: a 5-minute wait for an untrusted reset is recorded, not slept.
- **Bluesky is atomic per applyWrites call**: a thread is normally one call (≤ 200 posts),
  all or nothing, so "a fault at post k" cannot happen inside it. The matrix therefore
  publishes in chunks of one post (`MAX_WRITES_PER_CALL = 1`, the code path of threads
  over 200 posts or 0.9 MB): the k-th call is post k, with posts 1..k-1 committed and
  confirmed before the fault. The SIGKILL cells use the default single atomic call: the
  whole thread commits, the process dies while recording its posts (one ledger transaction
  for the whole write, post k among them), and `run` confirms all ten by reading the
  planned record keys back (`getRecord`) without a second write.
- **SIGKILL**: `threadpost publish --yes` runs as a subprocess through
  `tests/reliability/killer.py`, which wraps `Ledger.confirm_posts` so the process kills
  itself (SIGKILL) the moment the network has confirmed post k, before the ledger records
  it. There is no test hook in threadpost. The dead process's lease on the thread has not
  expired (25 minutes by default), but it names its holder (host, pid, process start
  time): `threadpost run`, started at once on the same host, sees the holder is gone and
  takes the lease over (exit codes: -9 for the killed process, then `run`'s). A live
  holder is never taken over (`test_a_live_publisher_keeps_its_lease`), and a holder on
  another host is waited out until expiry.
- **Idempotency-Keys forgotten**: Mastodon remembers a key for one hour. The
  "keys forgotten" and "1 day later" cells make the test server forget every key of the
  account (`expire_idempotency_keys`, what the hour does) before the resuming `run`, whose
  clock is a day later in the in-process cells. A blind resend would then post k twice
  (`test_without_the_look_up_a_resume_after_the_hour_duplicates` shows it does); threadpost
  finds post k among the account's own statuses instead (see below), and resends only what
  is not there. Those cells also check that post k was POSTed exactly once.
- Retries inside one run follow `threadpost.retry.RetryPolicy` with the default decisions
  and short backoffs (0.1 s initial, 4 attempts). Rate-limit cells run the policy in test
  mode: the wait until the reset is recorded and checked, not slept.
- "network attempts" counts the attempts the ledger logged (one per `send`, retries and
  resumed runs included); "runs" is 1 when the first run's retries sufficed, 2 when a
  later `threadpost run` finished the thread.

## Why a resend never duplicates

- Mastodon: every status POST carries an `Idempotency-Key` derived from the account,
  thread, post index and content, stored in the ledger before the first attempt. Within
  the instance's hour, a resend returns the status that landed instead of creating
  another. Because the hour may be long gone when a cron `run` resumes, every post left in
  doubt (unclear failure, crash) is first looked up: the account's statuses are read
  newest first (`GET /api/v1/accounts/:id/statuses`, replies included, paged with
  `max_id`) back to the confirmed post before it (`since_id`, the instance compares ids)
  or, for post 1, to its first attempt (kept in the ledger) on the instance's clock (see
  "Clock skew" below), and a status matches
  when it replies to the right parent (none for post 1) and carries the same text: its
  HTML `content` reduced to words (Mastodon renders links, mentions and hashtags as
  markup, and `@user@domain` as `@user`), or else its source text
  (`GET /api/v1/statuses/:id/source`). A found post is confirmed, not resent. The search is
  bounded (2,000 statuses); one that cannot reach the first attempt after the hour stops
  the platform with an error rather than guess.
- Bluesky: every record's key (a TID) and `createdAt` are stored in the ledger before the
  first attempt, so a resend is byte-identical; after an unclear failure the planned keys
  are read back first and whatever landed is confirmed, not resent. The reply chain is
  checked with the CIDs the PDS returns (each reply's root and parent strong refs).

## Clock skew (issue 17)

- The skew cells set the test server's clock (`MastodonTestServer.clock_offset`: its
  `created_at`, `Date` header, rate-limit resets and Idempotency-Key hour all follow it)
  1 h and 3 min behind the publishing machine's ("client ahead") and 3 min and 1 h ahead
  of it ("client behind"); post k's answer is lost after commit, and the thread is resumed
  in the same run (the key still remembered: the cells also check post k was POSTed once)
  or a day later with every key forgotten. Before the fix, the look-up searched back from
  the local time of the first attempt less 2 minutes: with the client ahead it missed
  post k and resent it (11 statuses for 10 posts once the keys were forgotten).
- Now the look-up never compares our clock with the instance's: after a confirmed post it
  reads only statuses newer than that post's id; for post 1 it translates the first
  attempt into the instance's time by the offset the instance's own `Date` header shows
  (ignored under 2 s), reads 2 minutes before that, and prefers a match after the first
  attempt to one inside the margin (a twin published just before). Without a readable
  `Date`, or when the first attempt lies in the local clock's future (it was set back),
  it reads 2 days back: wide, not blind. A look-up that cannot read the statuses raises a
  transient error: the post stays in doubt, nothing is resent.
- A 200 whose body is not the JSON asked for (a status, a media) is an unclear outcome,
  looked up before any resend; a 429 whose `X-RateLimit-Reset` is missing, unreadable,
  already past or more than a day away is retried 5 minutes later, the reason in the
  message (`tests/adapters/test_mastodon_rate_limits.py`); a skewed instance's reset is
  read on its own clock.

## Faults that end a run without retrying

- A 429 whose reset is further away than `max_rate_limit_wait` (15 min by default): no
  wait, the thread stays incomplete (exit 4) with its next retry at the reset
  (`test_a_rate_limit_longer_than_the_cap_leaves_the_thread_resumable_at_the_reset`).
- 400/422: the server's reason, naming the post, no retry, the platform is marked failed
  (exit 1); 401/403 and missing credentials: "log in again" (exit 1). Since issue 7,
  `publish` logs in before it records anything, so bad credentials leave no thread behind
  (`tests/data/bad/`).
"""
