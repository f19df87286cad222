"""`publish --dry-run`: the exact payloads each network would receive, and nothing sent.

The payloads come from each network's rules (`NetworkRules.draft_payloads`), which call the
same pure builders publishing uses, so what is shown is what would go out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpost.platforms.rules import rules_for

if TYPE_CHECKING:
    from rich.console import RenderableType

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
    return {
        "draft": checked["draft"],
        "ok": checked["ok"],
        "sent": False,
        "offline": offline,
        "platforms": {
            name: {
                "limit": thread.limits.max_graphemes,
                "kind": rules_for(name).payload_kind,
                "labels": list(thread.labels),
                "replies": None if thread.reply_rules is None else list(thread.reply_rules),
                "quotes": thread.quotes_allowed,
                # The post the first one replies to (null: it starts a conversation).
                "reply_to": None if thread.reply_to is None else thread.reply_to.to_json(),
                "payloads": jsonable(payloads_for(thread)),
                # Written in the same atomic calls as the posts (Bluesky's threadgate and
                # postgates); [] where there are none.
                "gates": jsonable(rules_for(name).side_records(thread)),
            }
            for name, thread in report.threads.items()
        },
        "problems": checked["problems"],
        "summary": checked["summary"],
    }


def payloads_for(thread: Thread) -> list[dict[str, Any]]:
    """The payloads publishing `thread` would send, in posting order."""
    return rules_for(thread.platform).draft_payloads(thread)


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
    from rich.json import JSON
    from rich.panel import Panel
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
        reply_to = platform.get("reply_to")
        if reply_to:
            continuing = reply_to.get("continues")
            parts.append(
                Text(
                    f"↳ replying to {reply_to['address']}"
                    + (f" (continuing thread {continuing})" if continuing else "")
                )
            )
        for number, payload in enumerate(payloads, start=1):
            as_json = JSON.from_data(payload, ensure_ascii=False)
            # rich crops long JSON lines by default; a dry run must show every character.
            as_json.text.no_wrap = False
            as_json.text.overflow = "fold"
            parts.append(
                Panel(
                    as_json,
                    title=f"{name} {number}/{len(payloads)}",
                    title_align="left",
                    border_style="bright_black",
                )
            )
        gates = platform.get("gates") or []
        for number, gate in enumerate(gates, start=1):
            gate_json = JSON.from_data(gate, ensure_ascii=False)
            gate_json.text.no_wrap = False
            gate_json.text.overflow = "fold"
            parts.append(
                Panel(
                    gate_json,
                    title=f"{name} {gate.get('$type', 'record')} {number}/{len(gates)}",
                    title_align="left",
                    border_style="bright_black",
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
    counts = " · ".join(f"{name}: {count} posts" for name, count in summary["posts"].items())
    verdict = "would be published" if report["ok"] else "would NOT be published (errors)"
    parts.append(
        Text(
            f"{counts} · {summary['errors']} errors · {summary['warnings']} warnings · {verdict}",
            style="bold green" if report["ok"] else "bold red",
        )
    )
    return Group(*parts)
