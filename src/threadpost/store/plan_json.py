"""A frozen plan (`plan.Thread`) as JSON and back: what the ledger stores per network."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from threadpost.draft import Poll
    from threadpost.plan import Thread
    from threadpost.values import PlatformLimits


def thread_to_json(thread: Thread) -> dict[str, Any]:
    """A planned thread as JSON-able data, everything needed to send it byte for byte."""
    from dataclasses import asdict

    return {
        "platform": thread.platform,
        "limits": asdict(thread.limits),
        "posts": [
            {
                "index": post.index,
                "text": post.text,
                "length": post.length,
                "bytes": post.bytes,
                "facets": [
                    {
                        "kind": facet.kind,
                        "byte_start": facet.byte_start,
                        "byte_end": facet.byte_end,
                        "value": facet.value,
                    }
                    for facet in post.facets
                ],
                "images": [
                    {
                        "path": str(image.path),
                        "alt": image.alt,
                        "line": image.line,
                        "written_path": image.written_path,
                    }
                    for image in post.images
                ],
                "source_post": post.source_post,
                "source_line": post.source_line,
                "tags": list(post.tags),
                "quote": post.quote,
                "quote_line": post.quote_line,
                "cw": post.cw,
                "cw_line": post.cw_line,
                "poll": None if post.poll is None else asdict(post.poll),
                "captions": [
                    {
                        "lang": caption.lang,
                        "path": str(caption.path),
                        "line": caption.line,
                        "written_path": caption.written_path,
                    }
                    for caption in post.captions
                ],
            }
            for post in thread.posts
        ],
        "lang": thread.lang,
        "spoiler_text": thread.spoiler_text,
        "problems": [asdict(problem) for problem in thread.problems],
        "visibility": thread.visibility,
        "reply_visibility": thread.reply_visibility,
        "sensitive": thread.sensitive,
        "labels": list(thread.labels),
        "link_cards": thread.link_cards,
        "reply_rules": None if thread.reply_rules is None else list(thread.reply_rules),
        "quotes_allowed": thread.quotes_allowed,
        "reply_to": None if thread.reply_to is None else thread.reply_to.to_json(),
    }


def _poll(data: Mapping[str, Any] | None) -> Poll | None:
    from threadpost.draft import Poll

    if data is None:  # no poll, or a plan frozen before polls existed
        return None
    return Poll(**{**data, "options": tuple(data["options"])})


def thread_from_json(data: Mapping[str, Any]) -> Thread:
    """Inverse of `thread_to_json`."""
    from threadpost.draft import Caption, Image
    from threadpost.plan import Facet, PlannedPost, Thread
    from threadpost.thread import ReplyTarget
    from threadpost.values import Problem

    return Thread(
        platform=data["platform"],
        limits=_limits(data["limits"]),
        posts=tuple(
            PlannedPost(
                index=post["index"],
                text=post["text"],
                length=post["length"],
                bytes=post["bytes"],
                facets=tuple(Facet(**facet) for facet in post["facets"]),
                images=tuple(
                    Image(
                        path=Path(image["path"]),
                        alt=image["alt"],
                        line=image["line"],
                        written_path=image["written_path"],
                    )
                    for image in post["images"]
                ),
                source_post=post["source_post"],
                source_line=post["source_line"],
                # Plans frozen before tags and quotes existed have none.
                tags=tuple(post.get("tags", ())),
                quote=post.get("quote"),
                quote_line=post.get("quote_line"),
                # Plans frozen before per-post content warnings have the thread's only.
                cw=post.get("cw"),
                cw_line=post.get("cw_line"),
                poll=_poll(post.get("poll")),
                # Plans frozen before captions existed have none.
                captions=tuple(
                    Caption(
                        lang=caption["lang"],
                        path=Path(caption["path"]),
                        line=caption["line"],
                        written_path=caption["written_path"],
                    )
                    for caption in post.get("captions", ())
                ),
            )
            for post in data["posts"]
        ),
        lang=data["lang"],
        spoiler_text=data["spoiler_text"],
        problems=tuple(Problem(**problem) for problem in data["problems"]),
        visibility=data["visibility"],
        reply_visibility=data["reply_visibility"],
        sensitive=data["sensitive"],
        # Plans frozen before labels existed have none.
        labels=tuple(data.get("labels", ())),
        link_cards=data["link_cards"],
        # Plans frozen before reply and quote controls existed left both open.
        reply_rules=(None if data.get("reply_rules") is None else tuple(data["reply_rules"])),
        quotes_allowed=data.get("quotes_allowed", True),
        # Plans frozen before replies to other posts started conversations of their own.
        reply_to=None if data.get("reply_to") is None else ReplyTarget(**data["reply_to"]),
    )


def _limits(data: dict[str, Any]) -> PlatformLimits:
    """The limits a plan was made with. JSON has no tuples: a tuple field (video_types)
    comes back as a list, and a plan read back must equal the plan written."""
    from threadpost.values import PlatformLimits

    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return PlatformLimits(**fields)
