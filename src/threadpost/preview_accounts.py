"""Who publishes on each network, as the preview, the dry run and the HTML page show it:
read from what is saved on this machine, for the account chosen (named or default).

Never a network call: the Mastodon login `login mastodon` saved (its `username@host`), the
configured Bluesky handle (or the handle of the saved session). Nothing stored says what
the avatar or display name look like, so the page shows a neutral placeholder avatar (the
name's initial) and the user name as display name; without any login, a placeholder
account ("you") on the configured server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from threadpost.platforms.bluesky.session import load_session
from threadpost.saved_login import account_login_dir, load_credentials
from threadpost.values import DEFAULT_ACCOUNT, PlatformName

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
    #: The config's name for the account ("default", or `[accounts.NAME]`'s NAME).
    account: str = DEFAULT_ACCOUNT
    #: A stand-in for a configured token whose user is not known yet (never published).
    token_only: bool = False

    def to_json(self) -> dict[str, str | bool]:
        return {
            "name": self.account,
            "handle": self.handle,
            "known": self.known,
            "login": "known" if self.known else "token" if self.token_only else "none",
        }

    def describe(self) -> str:
        """Who publishes, in words (see `account_words`)."""
        return account_words(self.to_json())

    @property
    def initial(self) -> str:
        """The letter on the placeholder avatar."""
        letters = [char for char in self.display_name if char.isalnum()]
        return letters[0].upper() if letters else "?"


def account_words(account: Mapping[str, Any]) -> str:
    """How the preview and the dry run name who publishes (after "Publishing "), from
    `PreviewAccount.to_json()`."""
    name, handle = account["name"], account["handle"]
    if account["login"] == "token":
        return f"with account {name}: a token is configured (its user is asked when publishing)"
    if account["login"] == "none":
        return f"with account {name}: no login saved or configured (shown as {handle})"
    return f"as {handle} (account {name})"


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or url).lower()
    except ValueError:
        return url


def mastodon_account(settings: Settings) -> PreviewAccount:
    """The saved Mastodon login's account, or a stand-in on the configured instance."""
    account = settings.account or DEFAULT_ACCOUNT
    saved = load_credentials(account_login_dir(settings.state_dir, settings.account))
    if saved is not None and saved.account:
        user = saved.account.removeprefix("@")
        name, _, host = user.partition("@")
        return PreviewAccount(name, f"@{name}@{host or _host(saved.instance)}", account=account)
    instance = _host(settings.mastodon.instance)
    token = settings.mastodon.access_token
    if token:
        # A token from the config or the environment: its account as the first publish
        # with it found out (known_account.py), else a stand-in on its instance.
        from threadpost.platforms.mastodon.known_account import known_account

        known = known_account(settings.state_dir, settings.mastodon.instance, token)
        if known is not None:
            name, _, host = known.name.partition("@")
            return PreviewAccount(name, f"@{name}@{host or instance}", account=account)
        return PreviewAccount(
            "You", f"@you@{instance}", known=False, account=account, token_only=True
        )
    return PreviewAccount("You", f"@you@{instance}", known=False, account=account)


def bluesky_account(settings: Settings) -> PreviewAccount:
    """The configured (or saved session's) Bluesky handle, or a stand-in."""
    account = settings.account or DEFAULT_ACCOUNT
    configured = settings.bluesky.handle
    if configured:
        handle = configured.removeprefix("@")
        saved = load_session(settings.state_dir, settings.bluesky.service, handle)
        if saved is not None:
            handle = saved.handle.removeprefix("@")
        return PreviewAccount(handle.split(".")[0], f"@{handle}", account=account)
    return PreviewAccount("You", "@you.bsky.social", known=False, account=account)


def preview_accounts(settings: Settings) -> Mapping[PlatformName, PreviewAccount]:
    """Each network's author, from the local saved login and configuration only."""
    return {"mastodon": mastodon_account(settings), "bluesky": bluesky_account(settings)}


def placeholder_accounts() -> Mapping[PlatformName, PreviewAccount]:
    """Stand-ins, for a page drawn without settings."""
    return {
        "mastodon": PreviewAccount("You", "@you@mastodon.social", known=False),
        "bluesky": PreviewAccount("You", "@you.bsky.social", known=False),
    }
