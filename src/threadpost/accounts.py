"""Which account publishes: a named account of the config turned into the per-network
settings the rest of the code uses (`open_publisher`, limits, checks), unchanged.

The account comes from `--account NAME` (wins), else the draft's `account = "NAME"`, else
the default account (`[mastodon]` / `[bluesky]`). A thread keeps the account it was
frozen with (the ledger records it per network), whatever the draft says later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from threadpost.config import Settings
from threadpost.draft import Draft, read_draft
from threadpost.errors import ConfigError, DraftError
from threadpost.values import DEFAULT_ACCOUNT, PlatformName


def known_accounts(settings: Settings) -> str:
    """The account names one may write, for messages: "default, work"."""
    return ", ".join([DEFAULT_ACCOUNT, *sorted(settings.accounts)])


def account_name(name: str | None) -> str | None:
    """The ledger's form of an account name: None for the default account."""
    return None if name in (None, DEFAULT_ACCOUNT) else name


def chosen_account(option: str | None, draft_account: str | None) -> str | None:
    """The account to publish with: `--account` wins over the draft (None: default)."""
    return account_name(option if option is not None else draft_account)


def account_settings(
    settings: Settings,
    name: str | None,
    platforms: Iterable[PlatformName] = (),
    *,
    where: str = "--account",
) -> Settings:
    """`settings` with the Mastodon and Bluesky settings of the account `name` (None or
    "default": the default account, `settings` as they are).

    Raises ConfigError naming `where` (the option, or the draft's line) when no account has
    that name, or when the account has no table for one of `platforms`: publishing there
    with another account's login instead would post under the wrong name."""
    name = account_name(name)
    if name is None:
        return replace(settings, account_chosen=True)
    account = settings.accounts.get(name)
    if account is None:
        raise ConfigError(
            f"{where}: no account named {name!r} (known: {known_accounts(settings)})",
            hint="named accounts are [accounts.NAME.mastodon] / [accounts.NAME.bluesky] "
            f"tables of {settings.config_path or 'the config file'}",
        )
    missing = [platform for platform in platforms if getattr(account, platform, None) is None]
    if missing:
        tables = " and ".join(f"[accounts.{name}.{platform}]" for platform in missing)
        raise ConfigError(
            f"{where}: account {name!r} has no {' or '.join(missing)} login: the config "
            f"has no {tables}",
            hint=f"add {tables} to the config, or choose the networks with --platform",
        )
    return replace(
        settings,
        mastodon=account.mastodon or settings.mastodon,
        bluesky=account.bluesky or settings.bluesky,
        account=name,
        account_chosen=True,
    )


def draft_account(
    settings: Settings,
    draft_path: Path,
    option: str | None,
    platforms: Sequence[PlatformName] | None,
    *,
    fallback: str | None = None,
) -> tuple[str | None, Settings]:
    """The account a command publishes `draft_path` with (`--account` wins over the
    draft's `account = …`) and the settings for it. An unknown name is an error naming
    the option or the draft's line. A draft that cannot be read is left to the check that
    follows (which reports it with every other problem): here it names no account.
    `fallback`: the account when neither names one (`--continue`: the continued thread's)."""
    try:
        draft = read_draft(draft_path)
    except DraftError:
        return None, settings
    if option is None and draft.front.account is None and fallback is not None:
        option = fallback
    if option is not None:
        name = account_name(option)
        chosen = platforms or draft.front.platforms
        return name, account_settings(settings, name, chosen, where="--account")
    name = account_name(draft.front.account)
    return name, draft_account_settings(settings, draft, platforms)


def draft_account_settings(
    settings: Settings, draft: Draft, platforms: Sequence[PlatformName] | None
) -> Settings:
    """`settings` for the draft's own `account = …`, unless an account was chosen already
    (`--account`); an unknown name is a DraftError naming the line."""
    if settings.account_chosen:
        return settings
    try:
        return account_settings(
            settings, draft.front.account, platforms or draft.front.platforms, where="account"
        )
    except ConfigError as error:
        raise DraftError(
            draft.path, error.message, line=draft.front.lines.get("account"), hint=error.hint
        ) from None
