"""`publish --dry-run`: the exact payloads each network would receive, and nothing sent.

The payloads come from each network's rules (`NetworkRules.draft_payloads`), which call the
same pure builders publishing uses, so what is shown is what would go out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpost.platforms.rules import rules_for

if TYPE_CHECKING:
    from rich.console import RenderableType

    from threadpost.check import CheckReport
    from threadpost.config import Settings
    from threadpost.linkcheck import ProgressSink
    from threadpost.plan import Continuation, Thread
    from threadpost.values import PlatformName


def dry_run(
    draft_path: Path | str,
    settings: Settings,
    platforms: Sequence[PlatformName] | None = None,
    *,
    offline: bool,
    progress: ProgressSink | None = None,
    continuation: Mapping[PlatformName, Continuation] | None = None,
) -> dict[str, Any]:
    """Check the draft and build every payload it would send → a JSON-ready report
    (`continuation`: as `publish --continue` would send it)."""
    from threadpost.check import check_draft
    from threadpost.preview import to_json

    report = check_draft(
        draft_path,
        settings,
        platforms,
        offline=offline,
        progress=progress,
        continuation=continuation,
    )
    checked = to_json(report)
    looked_up = {
        name: _Lookups() if offline else _look_up(thread, settings)
        for name, thread in report.threads.items()
    }
    return {
        "draft": checked["draft"],
        "ok": checked["ok"],
        "sent": False,
        "offline": offline,
        "platforms": {
            name: {
                "limit": thread.limits.max_graphemes,
                "kind": rules_for(name).payload_kind,
                # Who would publish (as in `preview --json`).
                "account": checked["platforms"][name]["account"],
                "labels": list(thread.labels),
                "replies": None if thread.reply_rules is None else list(thread.reply_rules),
                "quotes": thread.quotes_allowed,
                # Mastodon's quote_approval_policy (null: the account's default).
                "quote_policy": thread.quote_policy,
                # The post the first one replies to (null: it starts a conversation).
                "reply_to": None if thread.reply_to is None else thread.reply_to.to_json(),
                "payloads": jsonable(payloads_for(thread, looked_up[name])),
                # What stands in for what was not looked up (offline, or not found).
                "placeholders": looked_up[name].placeholders(thread),
                # Written in the same atomic calls as the posts (Bluesky's threadgate and
                # postgates); [] where there are none.
                "gates": jsonable(rules_for(name).side_records(thread)),
                # Per post with a video, the way it goes up and the calls that takes
                # (before the records are written); [] where there is one way only.
                "video_uploads": _video_uploads(report, name),
            }
            for name, thread in report.threads.items()
        },
        "problems": checked["problems"],
        "summary": checked["summary"],
    }


def _video_uploads(report: CheckReport, platform: PlatformName) -> list[dict[str, Any]]:
    route = report.video_routes.get(platform)
    if route is None:
        return []
    uploads: list[dict[str, Any]] = jsonable(
        rules_for(platform).video_uploads(report.threads[platform], route)
    )
    return uploads


@dataclass(frozen=True)
class _Lookups:
    """What a dry run online found out: account ids of mentioned handles, link cards."""

    mention_ids: Mapping[str, str] = field(default_factory=dict)
    cards: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def placeholders(self, thread: Thread) -> list[dict[str, str]]:
        """Each placeholder the payloads hold for what was not looked up, and what it
        stands for."""
        rules = rules_for(thread.platform)
        marks = [
            {"for": f"@{handle}", "means": "its account id, looked up when publishing"}
            for handle in rules.mention_handles(thread)
            if handle not in self.mention_ids
        ]
        marks += [
            {"for": link, "means": "its link card (title, description), fetched when publishing"}
            for link in rules.card_links(thread)
            if link not in self.cards
        ]
        return marks


def _look_up(thread: Thread, settings: Settings) -> _Lookups:
    """Resolve the thread's mentions and fetch its link cards, as publishing would (a
    failure leaves the placeholder: `check` has already warned about it)."""
    import threadpost.platforms as networks
    from threadpost.linkcard_cache import cached_cards, fill_cache

    rules = rules_for(thread.platform)
    handles = rules.mention_handles(thread)
    resolved = (
        networks.NETWORKS[thread.platform].resolve_handles(handles, settings) if handles else {}
    )
    ids = {handle: result.did for handle, result in resolved.items() if result.did}
    links = rules.card_links(thread)
    cards: dict[str, tuple[str, str]] = {}
    if links:
        fill_cache(settings.state_dir, links)
        source = cached_cards(settings.state_dir)
        for link in links:
            card = source(link)
            if card is not None:
                cards[link] = (card.title, card.description)
    return _Lookups(ids, cards)


def payloads_for(thread: Thread, lookups: _Lookups | None = None) -> list[dict[str, Any]]:
    """The payloads publishing `thread` would send, in posting order."""
    found = lookups or _Lookups()
    return rules_for(thread.platform).draft_payloads(
        thread, mention_ids=found.mention_ids, cards=found.cards
    )


def jsonable(value: Any) -> Any:
    """Payloads as plain JSON values: paths as text, raw bytes as a size note."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def render(report: Mapping[str, Any]) -> RenderableType:
    """The dry-run report for a terminal: each payload as JSON, per platform, then a summary."""
    from rich.console import Group
    from rich.rule import Rule
    from rich.text import Text

    parts: list[RenderableType] = [
        Text(f"Dry run of {report['draft']}: nothing is sent.", style="bold")
    ]
    for name, platform in report["platforms"].items():
        payloads = platform["payloads"]
        labels = platform.get("labels") or []
        shown = f" · labels: {', '.join(labels)}" if labels else ""
        replies = platform.get("replies")
        if replies is not None:
            shown += f" · replies: {', '.join(replies) or 'nobody'}"
        if platform.get("quotes") is False:
            shown += " · no quotes"
        parts.append(Rule(f"{name} · {len(payloads)} × {platform['kind']}{shown}"))
        if account := platform.get("account"):
            parts.append(Text(_account_line(account)))
        reply_to = platform.get("reply_to")
        if reply_to:
            continuing = reply_to.get("continues")
            parts.append(
                Text(
                    f"↳ replying to {reply_to['address']}"
                    + (f" (continuing thread {continuing})" if continuing else "")
                )
            )
        # Each video's upload before the records (it happens first), then each payload,
        # as plain JSON under its own heading, never inside a box: a box's border would
        # cut long strings and end up in what is copied.
        for upload in platform.get("video_uploads") or []:
            words = upload["words"][:1].lower() + upload["words"][1:]
            heading = f"# {name} video upload, post {upload['post']}: {words}"
            parts.append(Text(heading, style="bold"))
            parts.append(_json_text(upload["requests"]))
        for number, payload in enumerate(payloads, start=1):
            parts.append(Text(f"# {name} {number}/{len(payloads)}", style="bold"))
            parts.append(_json_text(payload))
        gates = platform.get("gates") or []
        for number, gate in enumerate(gates, start=1):
            kind = gate.get("$type", "record")
            parts.append(Text(f"# {name} {kind} {number}/{len(gates)}", style="bold"))
            parts.append(_json_text(gate))
        for mark in platform.get("placeholders") or []:
            parts.append(
                Text(
                    f"Placeholder (offline or not found): {mark['for']}: {mark['means']}",
                    style="yellow",
                )
            )
    for problem in report["problems"]:
        style = "bold red" if problem["severity"] == "error" else "yellow"
        where = " ".join(
            str(item)
            for item in (problem["platform"], problem["post"] and f"post {problem['post']}")
            if item
        )
        line = Text(f"{problem['severity']}: ", style=style)
        line.append(f"{where + ': ' if where else ''}{problem['message']} [{problem['code']}]")
        parts.append(line)
    summary = report["summary"]
    counts = " · ".join(
        f"{name}: {_counted(count, 'post')}" for name, count in summary["posts"].items()
    )
    verdict = "would be published" if report["ok"] else "would NOT be published (errors)"
    parts.append(
        Text(
            f"{counts} · {_counted(summary['errors'], 'error')} · "
            f"{_counted(summary['warnings'], 'warning')} · {verdict}",
            style="bold green" if report["ok"] else "bold red",
        )
    )
    return Group(*parts)


def _account_line(account: Mapping[str, Any]) -> str:
    """The account a dry run would publish with, in `preview`'s words."""
    from threadpost.preview_accounts import account_words

    return f"Would publish {account_words(account)}"


def _json_text(value: Any) -> Any:
    """`value` as indented JSON text, exactly as `--json` would print it. `publish
    --dry-run` prints it with soft wrap (lines left whole for the terminal to wrap, so a
    copy gives back the whole string); on a console without it, long lines wrap."""
    import json

    from rich.text import Text

    return Text(json.dumps(value, ensure_ascii=False, indent=2))


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
