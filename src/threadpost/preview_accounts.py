"""Who each network's column shows as the author: read from what is saved on this machine.

Never a network call: the Mastodon login `login mastodon` saved (its `username@host`), the
configured Bluesky handle (or the handle of the saved session). Nothing stored says what
the avatar or display name look like, so the page shows a neutral placeholder avatar (the
name's initial) and the user name as display name; without any login, a placeholder
account ("you") on the configured server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from threadpost.platforms.bluesky.session import load_session
from threadpost.saved_login import load_credentials
from threadpost.values import PlatformName

if TYPE_CHECKING:
    from threadpost.config import Settings


@dataclass(frozen=True)
class PreviewAccount:
    """The author as a column shows them."""

    display_name: str
    #: As the network writes it: "@user@host" (Mastodon), "@handle" (Bluesky).
    handle: str
    #: False when nothing is saved locally and the account is a stand-in.
    known: bool = True

    @property
    def initial(self) -> str:
        """The letter on the placeholder avatar."""
        letters = [char for char in self.display_name if char.isalnum()]
        return letters[0].upper() if letters else "?"


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or url).lower()
    except ValueError:
        return url


def mastodon_account(settings: Settings) -> PreviewAccount:
    """The saved Mastodon login's account, or a stand-in on the configured instance."""
    saved = load_credentials(settings.state_dir)
    if saved is not None and saved.account:
        user = saved.account.removeprefix("@")
        name, _, host = user.partition("@")
        return PreviewAccount(name, f"@{name}@{host or _host(saved.instance)}")
    return PreviewAccount("You", f"@you@{_host(settings.mastodon.instance)}", known=False)


def bluesky_account(settings: Settings) -> PreviewAccount:
    """The configured (or saved session's) Bluesky handle, or a stand-in."""
    configured = settings.bluesky.handle
    if configured:
        handle = configured.removeprefix("@")
        saved = load_session(settings.state_dir, settings.bluesky.service, handle)
        if saved is not None:
            handle = saved.handle.removeprefix("@")
        return PreviewAccount(handle.split(".")[0], f"@{handle}")
    return PreviewAccount("You", "@you.bsky.social", known=False)


def preview_accounts(settings: Settings) -> Mapping[PlatformName, PreviewAccount]:
    """Each network's author, from the local saved login and configuration only."""
    return {"mastodon": mastodon_account(settings), "bluesky": bluesky_account(settings)}


def placeholder_accounts() -> Mapping[PlatformName, PreviewAccount]:
    """Stand-ins, for a page drawn without settings."""
    return {
        "mastodon": PreviewAccount("You", "@you@mastodon.social", known=False),
        "bluesky": PreviewAccount("You", "@you.bsky.social", known=False),
    }
