"""How to read a Bluesky (XRPC) answer, whatever transport fetched it.

Pure functions, no SDK and no HTTP library: the reset time of a 429 (`parse_reset`) and
the JSON object of a success (`read_json_body`). Both turn a broken answer into a
`PlatformError` with a reason in words (or a bounded fallback), never an OverflowError,
a ValueError or a KeyError further up (issue 18).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from threadpost.errors import TransientError, UnclearOutcome
from threadpost.values import PlatformName

PLATFORM: Final[PlatformName] = "bluesky"
#: A 429 without a reset to trust is retried this long after (a PDS's shortest windows are
#: 5 minutes: createSession 30 / 5 min).
RATE_LIMIT_FALLBACK: Final = timedelta(minutes=5)
#: Bluesky's longest windows are a day (35,000 write points, 300 createSession): a reset
#: further away than this is a broken header, not a limit.
MAX_RESET_AHEAD: Final = timedelta(days=1)
#: A reset this little in the past is the window that just rolled over (whole seconds,
#: clocks a little apart): try again now.
RESET_GRACE: Final = timedelta(seconds=60)
#: An epoch value above this is milliseconds: 10**11 seconds would be the year 5138.
MILLISECONDS_ABOVE: Final = 10**11


@dataclass(frozen=True)
class RateLimitReset:
    """When to try again after a 429, on our clock, and why (for the message)."""

    at: datetime
    reason: str


def parse_reset(headers: Mapping[str, Any] | None, now: datetime) -> RateLimitReset:
    """The retry time of a 429 from its `ratelimit-reset` (epoch seconds, the rule; a value
    past 10**11 is read as milliseconds) and `retry-after` (seconds or an HTTP date).

    When both are usable the later one wins (waiting for both is what satisfies both). A
    value that is missing, unreadable, more than `RESET_GRACE` in the past or more than
    `MAX_RESET_AHEAD` away is not trusted: the answer is then `RATE_LIMIT_FALLBACK` from
    `now`, a bounded wait or deferral, with the reason said."""
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    readings: list[datetime] = []
    problems: list[str] = []
    for name, reader in (("ratelimit-reset", _epoch_reset), ("retry-after", _retry_after)):
        raw = lowered.get(name)
        if raw is None:
            continue
        shown = repr(str(raw)[:40])
        moment = reader(str(raw).strip(), now)
        if moment is None:
            problems.append(f"unreadable {name} {shown}")
        elif moment < now - RESET_GRACE:
            problems.append(f"{name} {shown} is already past")
        elif moment - now > MAX_RESET_AHEAD:
            problems.append(f"{name} {shown} is more than a day away")
        else:
            readings.append(max(moment, now))
    if readings:
        at = max(readings)
        return RateLimitReset(at, f"it resets at {at.isoformat(timespec='seconds')}")
    pause = f"trying again in {int(RATE_LIMIT_FALLBACK.total_seconds())} s"
    why = "; ".join(problems) if problems else "no ratelimit-reset or retry-after header"
    return RateLimitReset(now + RATE_LIMIT_FALLBACK, f"{why}; {pause}")


def _epoch_reset(value: str, now: datetime) -> datetime | None:
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    if number > MILLISECONDS_ABOVE:
        number /= 1000
    return _from_timestamp(number)


def _retry_after(value: str, now: datetime) -> datetime | None:
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime  # rare: only an HTTP-date Retry-After

        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    try:
        return now + timedelta(seconds=seconds)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)  # far beyond MAX_RESET_AHEAD: refused


def _from_timestamp(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):  # "year … is out of range"
        return datetime.max.replace(tzinfo=UTC)  # far beyond MAX_RESET_AHEAD: refused


def unreadable_answer(
    what: str, status: int | None, *, write: bool, post: int | None, detail: str | None = None
) -> TransientError:
    """A success whose body is not the JSON asked for. For a write, an `UnclearOutcome`: the
    server may have committed it, so the planned records are read back before any resend;
    for a read, a login or a refresh, a `TransientError` worth a retry."""
    said = f"HTTP {status}" if status is not None else "success"
    why = f" ({detail})" if detail else ""
    message = f"Bluesky: {what}: answered {said} with a body that is not the expected JSON{why}"
    if write:
        return UnclearOutcome(
            f"{message}; the write may have been applied, so it is looked up before any resend",
            platform=PLATFORM,
            post=post,
        )
    return TransientError(message, platform=PLATFORM, post=post)


def read_json_body(
    content: Any,
    *,
    what: str,
    write: bool = False,
    post: int | None = None,
    status: int | None = 200,
    require: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A success's JSON object: `content` as received (bytes or text, or already decoded by
    the transport). A body that is not a JSON object, or lacks one of the `require`d
    fields, raises `unreadable_answer` (unclear for a `write`)."""
    if isinstance(content, Mapping):
        decoded: Any = dict(content)
    elif isinstance(content, bytes | bytearray | str):
        try:
            decoded = json.loads(content)
        except (ValueError, RecursionError):
            raise unreadable_answer(what, status, write=write, post=post) from None
    else:
        decoded = content
    if not isinstance(decoded, dict):
        raise unreadable_answer(
            what, status, write=write, post=post, detail=f"JSON {type(decoded).__name__}"
        )
    missing = [name for name in require if name not in decoded]
    if missing:
        raise unreadable_answer(
            what, status, write=write, post=post, detail=f"no {', '.join(missing)}"
        )
    return decoded


def string_field(answer: Mapping[str, Any], name: str, *, what: str, post: int | None) -> str:
    """`answer[name]` when it is a non-empty string; otherwise the answer is unreadable."""
    value = answer.get(name)
    if isinstance(value, str) and value:
        return value
    raise unreadable_answer(what, 200, write=False, post=post, detail=f"no string {name}")


__all__ = [
    "MAX_RESET_AHEAD",
    "RATE_LIMIT_FALLBACK",
    "RateLimitReset",
    "parse_reset",
    "read_json_body",
    "string_field",
    "unreadable_answer",
]
