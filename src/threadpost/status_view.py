"""What `queue` and `status` show: the ledger's threads as values, their `--json` shape and
their lines of text.

The CLI commands parse their arguments, call one function here and print what it returns;
the view model (which counts, which times in which timezone, what a line says) lives here,
so it is tested and reused without a terminal (issue 11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from threadpost.clock import iso_local, local_or_now
from threadpost.draft_changes import draft_mark, draft_note, draft_state
from threadpost.retime import retimed_words
from threadpost.schedule import local_time
from threadpost.store import ACTIVE_STATES, Ledger, ThreadRecord
from threadpost.values import DEFAULT_ACCOUNT, Problem

#: Quote states a network may give a quote it did not accept at once (Mastodon 4.5's
#: `quote.state`); its adapter records each as a warning coded `quote-<state>`.
QUOTE_STATES = frozenset(
    {
        "pending",
        "rejected",
        "revoked",
        "deleted",
        "unauthorized",
        "blocked_account",
        "blocked_domain",
        "muted_account",
    }
)


def quote_states(warnings: list[Problem]) -> dict[int, str]:
    """Per post index, the quote state its network's warnings recorded (latest wins)."""
    found: dict[int, str] = {}
    for warning in warnings:
        state = warning.code.removeprefix("quote-")
        if warning.post is not None and warning.code.startswith("quote-") and state in QUOTE_STATES:
            found[warning.post] = state
    return found


def thread_entry(
    ledger: Ledger, record: ThreadRecord, tz: ZoneInfo, *, posts: bool
) -> dict[str, Any]:
    """One thread in the `--json` shape of `queue` and `status` (DESIGN.md); with `posts`,
    also each network's warnings and planned posts."""
    platforms: dict[str, Any] = {}
    for platform in ledger.platforms(record.id):
        planned = ledger.posts(record.id, platform.platform)
        entry: dict[str, Any] = {
            "state": platform.state,
            "published": sum(1 for p in planned if p.state == "confirmed"),
            "total": platform.total,
            "attempts": platform.attempts,
            "next_retry": iso_local(platform.next_retry_at, tz),
            "last_error": platform.last_error,
        }
        if platform.account is not None:
            # A named account of the config; none said means the default account (as for
            # every thread of a ledger older than schema 6), so that the shape of a
            # one-account user's --json stays as it was.
            entry["account"] = platform.account
        if posts:
            warnings = ledger.warnings(record.id, platform.platform)
            entry["warnings"] = [
                {"post": w.post, "code": w.code, "message": w.message} for w in warnings
            ]
            # A quote the network did not accept at once (e.g. "pending" while its author
            # reviews it), None otherwise: an accepted quote, or none.
            quoted = quote_states(warnings)
            # When each post was last edited in place (`threadpost edit`), None if never.
            edited = {e.index: e.edited_at for e in ledger.edits(record.id, platform.platform)}
            entry["posts"] = [
                {
                    "index": p.index,
                    "state": p.state,
                    "url": p.url,
                    "remote_id": p.remote_id,
                    "edited_at": iso_local(edited.get(p.index), tz),
                    "quote_state": quoted.get(p.index),
                }
                for p in planned
            ]
            # The post it replies to, and the thread it continues (null: neither).
            target = ledger.plan(record.id, platform.platform).reply_to
            entry["reply_to"] = None if target is None else target.to_json()
        platforms[platform.platform] = entry
    return {
        "id": record.id,
        "draft": record.draft_path,
        "title": record.title,
        "state": record.state,
        "schedule": iso_local(record.schedule_at, tz),
        "schedule_utc": record.schedule_at.isoformat() if record.schedule_at else None,
        "last_error": record.last_error,
        # Only while it may still be sent: "unchanged", "changed" (since it was frozen) or
        # "missing"; None for a finished thread.
        "draft_state": draft_state(ledger, record) if record.state in ACTIVE_STATES else None,
        # While it is queued at the time its draft's edited schedule gave it (retime.py):
        # {"kind": "retimed" | "kept", "from", "to", "at", "message"}; None otherwise.
        "retimed": _retimed(ledger, record, tz),
        "platforms": platforms,
    }


def _retimed(ledger: Ledger, record: ThreadRecord, tz: ZoneInfo) -> dict[str, Any] | None:
    """The thread's latest re-timing, while it still holds (a later `schedule --at` moves
    the thread elsewhere, and the thread's start makes it history)."""
    if record.state != "scheduled":
        return None
    retiming = ledger.last_retime(record.id)
    if retiming is None or retiming.to_at != record.schedule_at:
        return None
    return {
        "kind": retiming.kind,
        "from": iso_local(retiming.from_at, tz),
        "to": iso_local(retiming.to_at, tz),
        "at": iso_local(retiming.recorded_at, tz),
        "message": retimed_words(retiming, tz),
    }


def _warning(entry: dict[str, Any]) -> Problem:
    """A warning of the `--json` entry as the value it was read from."""
    return Problem("warning", entry["code"], str(entry["message"]), post=entry["post"])


def _started(entry: dict[str, Any]) -> bool:
    """Some post of the thread is online: its plan is final, whatever the draft says."""
    return any(info["published"] for info in entry["platforms"].values())


def _progress(entry: dict[str, Any]) -> str:
    return ", ".join(
        f"{_network(p, v)} {v['published']}/{v['total']}" for p, v in entry["platforms"].items()
    )


def _network(platform: str, info: dict[str, Any]) -> str:
    """The network's name, with its account when it is not the default one: "mastodon (work)"."""
    account = info.get("account", DEFAULT_ACCOUNT)
    return platform if account == DEFAULT_ACCOUNT else f"{platform} ({account})"


@dataclass(frozen=True)
class ThreadList:
    """Several threads, one line each: `queue`, or `status` without a thread id."""

    records: tuple[ThreadRecord, ...]
    entries: tuple[dict[str, Any], ...]
    tz: ZoneInfo
    #: True for `queue` (scheduled and in-progress threads), False for the whole ledger.
    queue: bool

    def to_json(self) -> dict[str, Any]:
        return {"threads": list(self.entries)}

    def lines(self) -> list[str]:
        if not self.entries:
            return ["Nothing scheduled." if self.queue else "The ledger is empty."]
        pairs = zip(self.records, self.entries, strict=True)
        if self.queue:
            return [
                f"{r.id}  {local_or_now(r.schedule_at, self.tz):<22} {r.state:<10} "
                f"{_progress(e)}  {r.title or r.draft_path}"
                f"{draft_mark(e['draft_state'], started=_started(e))}"
                f"{'  ' + e['retimed']['message'] if e['retimed'] else ''}"
                for r, e in pairs
            ]
        return [f"{r.id}  {r.state:<10} {_progress(e)}  {r.draft_path}" for r, e in pairs]


@dataclass(frozen=True)
class ThreadStatus:
    """One thread in full: `status THREAD`."""

    record: ThreadRecord
    entry: dict[str, Any]
    tz: ZoneInfo

    def to_json(self) -> dict[str, Any]:
        return self.entry

    def lines(self) -> list[str]:
        record = self.record
        lines = [f"Thread {record.id}: {record.state}  ({record.draft_path})"]
        if record.schedule_at:
            lines.append(f"  scheduled for {local_or_now(record.schedule_at, self.tz)}")
        if self.entry["retimed"]:
            lines.append(f"  {self.entry['retimed']['message']}")
        if record.last_error:
            lines.append(f"  {record.last_error}")
        draft_line = draft_note(self.entry["draft_state"], started=_started(self.entry))
        if draft_line:
            lines.append(f"  {draft_line}")
        for platform, info in self.entry["platforms"].items():
            lines.append(
                f"{_network(platform, info)}: {info['state']}, "
                f"{info['published']}/{info['total']} published"
            )
            target = info.get("reply_to")
            if target:
                continues = target["continues"]
                lines.append(
                    f"  replying to {target['url'] or target['address']}"
                    + (f" (continuing thread {continues})" if continues else "")
                )
            if info["next_retry"]:
                when = local_time(datetime.fromisoformat(info["next_retry"]), self.tz)
                lines.append(f"  next retry: {when} (attempt {info['attempts'] + 1})")
            lines.extend(f"  warning: {_warning(w).post_line()}" for w in info["warnings"])
            for post in info["posts"]:
                if post["url"]:
                    note = "" if post["state"] == "confirmed" else f" ({post['state']})"
                    if post.get("edited_at"):
                        edited = datetime.fromisoformat(post["edited_at"])
                        note += f" (edited {local_time(edited, self.tz)})"
                    if post.get("quote_state"):
                        note += f" (quote {post['quote_state']})"
                    lines.append(f"  {post['index']:>3}. {post['url']}{note}")
        return lines


def queue_view(ledger: Ledger, tz: ZoneInfo) -> ThreadList:
    """The scheduled and in-progress threads (`queue`)."""
    return _thread_list(ledger, ledger.threads(ACTIVE_STATES), tz, queue=True)


def ledger_view(ledger: Ledger, tz: ZoneInfo) -> ThreadList:
    """Every thread of the ledger (`status` without a thread id)."""
    return _thread_list(ledger, ledger.threads(), tz, queue=False)


def thread_status(ledger: Ledger, thread: str, tz: ZoneInfo) -> ThreadStatus:
    """The thread whose id starts with `thread` (`status THREAD`); an unknown or ambiguous
    prefix raises the ledger's error."""
    record = ledger.thread(ledger.resolve_id(thread))
    return ThreadStatus(record, thread_entry(ledger, record, tz, posts=True), tz)


def _thread_list(
    ledger: Ledger, records: list[ThreadRecord], tz: ZoneInfo, *, queue: bool
) -> ThreadList:
    entries = tuple(thread_entry(ledger, r, tz, posts=False) for r in records)
    return ThreadList(tuple(records), entries, tz, queue)
