"""Mention aliases: a name as written in drafts ("@SomeName") → its account on each network.

The `[aliases]` table of the config (`Settings.aliases`) maps a name to an `Alias` with a
Mastodon address ("@some@instance.social") and a Bluesky handle ("@some.bsky.social").
The planner rewrites the draft's text per platform *before* splitting and counting, so the
lengths, the splitting and the facets all see the account as it will be sent. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from threadpost.draft import Draft
    from threadpost.values import PlatformName


class AliasTargets(Protocol):
    """What `config.Alias` provides: the account on each network (None: no alias there)."""

    @property
    def mastodon(self) -> str | None: ...

    @property
    def bluesky(self) -> str | None: ...


#: Characters that, just before "@", make it part of something else: an e-mail address
#: (me@SomeName), a URL path (x.com/@SomeName), a longer mention (@a@SomeName).
_BEFORE: Final = r"(?<![\w@/.:+\-])"
#: After the name: not more of a name, not a domain (@SomeName.example), not an address.
_AFTER: Final = r"(?![\w@])(?!\.\w)"


def alias_target(targets: AliasTargets, platform: PlatformName) -> str | None:
    """The account `targets` names on `platform`, written with its leading "@" (or None)."""
    value = targets.mastodon if platform == "mastodon" else targets.bluesky
    if value is None or not value.strip():
        return None
    return "@" + value.strip().removeprefix("@")


def alias_pattern(aliases: Mapping[str, AliasTargets]) -> re.Pattern[str] | None:
    """One regex matching every aliased name as a mention (case-insensitive, like X names)."""
    names = sorted({_bare(name) for name in aliases} - {""}, key=len)
    if not names:
        return None
    # Longest first, so "@ab_c" is not taken for "@ab".
    choices = "|".join(re.escape(name) for name in reversed(names))
    return re.compile(f"{_BEFORE}@(?P<name>{choices}){_AFTER}", re.IGNORECASE)


def apply_aliases(text: str, aliases: Mapping[str, AliasTargets], platform: PlatformName) -> str:
    """`text` with every aliased mention written as its account on `platform`.

    A name without an alias for this platform is left as written (`check` warns about it).
    """
    return _aliaser(aliases, platform)(text)


def alias_draft(draft: Draft, aliases: Mapping[str, AliasTargets], platform: PlatformName) -> Draft:
    """`draft` with aliases applied to every post's text for `platform`.

    Aliases never contain a line break, so each post keeps its lines (and messages their
    line numbers).
    """
    if not aliases:
        return draft
    rewrite = _aliaser(aliases, platform)
    posts = tuple(replace(post, text=rewrite(post.text)) for post in draft.posts)
    return replace(draft, posts=posts)


def _aliaser(aliases: Mapping[str, AliasTargets], platform: PlatformName) -> Callable[[str], str]:
    """text → text with the aliases for `platform` applied (the regex built once per draft)."""
    pattern = alias_pattern(aliases)
    if pattern is None:
        return lambda text: text
    targets = {
        _bare(name).casefold(): alias_target(value, platform) for name, value in aliases.items()
    }

    def rewrite(match: re.Match[str]) -> str:
        target = targets.get(match.group("name").casefold())
        return target if target is not None else match.group(0)

    return partial(pattern.sub, rewrite)


def _bare(name: str) -> str:
    """An alias name as the config may write it ("@Name", " Name") → "Name"."""
    return name.strip().removeprefix("@")


def unaliased_names(text: str, aliases: Mapping[str, AliasTargets]) -> list[str]:
    """X/Twitter-style @names in `text` (letters, digits, _; no domain) not in `aliases`."""
    known = {_bare(name).casefold() for name in aliases}
    found: list[str] = []
    for match in TWITTER_MENTION.finditer(text):
        name = match.group("name")
        if name.casefold() not in known and name not in found:
            found.append(name)
    return found


#: An X/Twitter-style mention: "@" and 1 to 15 letters, digits or "_", not followed by a
#: domain or a second "@" (those are already Bluesky handles or Mastodon addresses).
TWITTER_MENTION: Final = re.compile(rf"{_BEFORE}@(?P<name>\w{{1,15}}){_AFTER}", re.ASCII)
