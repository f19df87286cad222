"""The one source of "now" for the ledger, scheduling and retries, so tests can move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

#: A function returning the current time as an aware UTC datetime.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def to_utc(moment: datetime) -> datetime:
    """`moment` (aware) in UTC; a naive datetime is refused because its zone is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no timezone")
    return moment.astimezone(UTC)


#: Names of the one zone people call "UTC" (what messages show for all of them).
_UTC_NAMES = frozenset(
    {
        "UTC",
        "Etc/UTC",
        "Etc/UCT",
        "UCT",
        "Etc/Universal",
        "Universal",
        "Etc/Zulu",
        "Zulu",
        "Etc/GMT",
        "GMT",
        "Etc/GMT0",
        "GMT0",
        "Etc/Greenwich",
        "Greenwich",
        "Etc/GMT+0",
        "Etc/GMT-0",
        "GMT+0",
        "GMT-0",
    }
)


def zone_name(zone: tzinfo) -> str:
    """A timezone as messages name it: "Europe/Paris", and "UTC" (never "Etc/UTC")."""
    key = getattr(zone, "key", None) or str(zone)
    return "UTC" if key in _UTC_NAMES else key


def local_time(moment: datetime, zone: tzinfo) -> str:
    """`moment` as every message shows a time: in `zone`, to the minute, with the zone's
    abbreviation ("2026-12-01 09:00 CET"; "UTC" for every alias of UTC)."""
    local = moment.astimezone(zone)
    abbreviation = "UTC" if zone_name(zone) == "UTC" else local.strftime("%Z")
    return f"{local:%Y-%m-%d %H:%M} {abbreviation}"


def local_or_now(moment: datetime | None, zone: tzinfo) -> str:
    """A schedule as people read it; a thread without one is published "now"."""
    return "now" if moment is None else local_time(moment, zone)


def iso_local(moment: datetime | None, zone: tzinfo) -> str | None:
    """A time in `--json`: RFC 3339 in the configured timezone (None stays None)."""
    return moment.astimezone(zone).isoformat() if moment else None


def format_utc(moment: datetime) -> str:
    """The ledger's text form of a time: fixed-width ISO 8601 in UTC, so that text order
    is time order and SQL can compare times as strings."""
    return to_utc(moment).isoformat(timespec="microseconds")


def parse_utc(text: str) -> datetime:
    """Inverse of `format_utc`."""
    return datetime.fromisoformat(text).astimezone(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests, benchmarks)."""

    def __init__(self, start: datetime) -> None:
        self.now = to_utc(start)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward by `timedelta(**delta)`."""
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)
