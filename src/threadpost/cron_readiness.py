"""Whether a cron job will be able to log in: the credentials `threadpost run` will have.

cron starts its commands with an almost empty environment, so a token exported in the
author's shell (THREADPOST_MASTODON_TOKEN, …) is not there at publishing time. What a cron
job does have: the config file, what `threadpost login` saved in the state directory, and
the non-secret variables `threadpost cron` writes into its crontab line
(`config.CRON_CARRIED_VARIABLES`). `schedule` refuses a thread for a network cron could not
log in to, and `threadpost cron` reports the same findings, so that a scheduled thread does
not fail hours later with nobody watching.

Only local files are read (no request): the credentials themselves are verified when used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from threadpost.accounts import account_settings
from threadpost.config import Settings, cron_environment, default_config_path, load_settings
from threadpost.errors import ConfigError, ValidationFailed
from threadpost.platforms.bluesky.session import load_session, session_path
from threadpost.saved_login import account_login_dir, credentials_path
from threadpost.values import PlatformName

_MASTODON_LOGIN = "threadpost login mastodon --instance URL"


@dataclass(frozen=True)
class CronLogin:
    """How one network's login will look to a cron job."""

    platform: PlatformName
    #: Whether `threadpost run` started by cron can log in.
    ready: bool
    #: Where its credentials come from, or what is missing and how to fix it.
    explanation: str


def cron_logins(
    platforms: Iterable[PlatformName],
    *,
    config_path: Path | None,
    db_path: Path | None,
    environ: Mapping[str, str],
    account: str | None = None,
    where: str = "--account",
) -> list[CronLogin]:
    """For each network, whether cron will be able to log in, and why (or why not).

    `config_path` and `db_path` are the ones given on the command line (`threadpost cron`
    writes them into its line); `environ` is this shell's environment; `account` the named
    account the thread publishes with (None: the default one)."""
    platforms = list(platforms)
    cron = load_settings(config_path, db_path, environ=cron_environment(environ))
    cron = account_settings(cron, account, platforms, where=where)
    found: list[CronLogin] = []
    for platform in platforms:
        if platform == "mastodon":
            found.append(_mastodon(cron, environ))
        else:
            found.append(_bluesky(cron, environ))
    return found


@dataclass(frozen=True)
class AccountReadiness:
    """How a named account looks to a cron job: its networks' logins, or why cron cannot
    publish with it at all (the config no longer has it, or has no table for a network
    that queued threads publish to)."""

    account: str
    logins: tuple[CronLogin, ...] = ()
    #: Set when the account cannot be used: what is wrong, and what waits for it.
    problem: str | None = None

    @property
    def ready(self) -> bool:
        return self.problem is None and all(login.ready for login in self.logins)


def named_account_readiness(
    configured: Mapping[str, Iterable[PlatformName]],
    waiting: Mapping[str | None, Mapping[PlatformName, int]],
    *,
    config_path: Path | None,
    db_path: Path | None,
    environ: Mapping[str, str],
) -> list[AccountReadiness]:
    """For every named account a cron run may publish with, by name: each one the config
    has (`configured`: name → the networks it has tables for) and each one that scheduled
    or incomplete threads in the ledger publish with (`waiting`, as
    `Ledger.waiting_accounts` gives it; None, the default account, is left out)."""
    names = sorted({*configured, *(name for name in waiting if name is not None)})
    found: list[AccountReadiness] = []
    for name in names:
        queued = waiting.get(name, {})
        platforms = list(dict.fromkeys([*configured.get(name, ()), *queued]))
        try:
            logins = cron_logins(
                platforms,
                config_path=config_path,
                db_path=db_path,
                environ=environ,
                account=name,
                where="the ledger" if name in waiting else "the config",
            )
        except ConfigError as error:
            threads = sum(queued.values())
            waits = f"; {threads} queued thread{'s publish' if threads != 1 else ' publishes'}"
            waits += " with it"
            found.append(AccountReadiness(name, problem=error.message + waits))
            continue
        found.append(AccountReadiness(name, tuple(logins)))
    return found


def require_cron_logins(
    platforms: Iterable[PlatformName],
    *,
    config_path: Path | None,
    db_path: Path | None,
    environ: Mapping[str, str],
    account: str | None = None,
) -> None:
    """Raise ValidationFailed (exit 3) naming every network cron could not log in to."""
    logins = cron_logins(
        platforms, config_path=config_path, db_path=db_path, environ=environ, account=account
    )
    missing = [login for login in logins if not login.ready]
    if not missing:
        return
    reasons = "; ".join(f"{login.platform}: {login.explanation}" for login in missing)
    raise ValidationFailed(
        f"nothing was scheduled: `threadpost run` started by cron could not log in ({reasons})",
        hint="cron does not pass on this shell's environment variables: credentials must "
        "be in the config file or saved by `threadpost login`; or publish now with "
        "`threadpost publish`",
    )


def _login_option(cron: Settings) -> str:
    return f" --account {cron.account}" if cron.account else ""


def _mastodon(cron: Settings, environ: Mapping[str, str]) -> CronLogin:
    source = cron.mastodon.token_source
    login = f"threadpost login mastodon{_login_option(cron)} --instance URL"
    if source == "saved login":
        where = credentials_path(account_login_dir(cron.state_dir, cron.account))
        return CronLogin("mastodon", True, f"the login saved in {where}")
    if source == "config":
        return CronLogin("mastodon", True, f"the access token in {cron.config_path}")
    if environ.get("THREADPOST_MASTODON_TOKEN") and cron.account is None:
        return CronLogin(
            "mastodon",
            False,
            "THREADPOST_MASTODON_TOKEN is set in this shell but cron will not have it; "
            f"run `{_MASTODON_LOGIN}` (it saves the token where cron finds it) or put "
            f"access_token under [mastodon] in {_config_name(cron)}",
        )
    return CronLogin("mastodon", False, f"not logged in; run `{login}`")


def _bluesky(cron: Settings, environ: Mapping[str, str]) -> CronLogin:
    bluesky = cron.bluesky
    option = _login_option(cron)
    if bluesky.handle is None:
        login = f"threadpost login bluesky{option} --handle HANDLE"
        return CronLogin("bluesky", False, f"no Bluesky account; run `{login}`")
    login = f"threadpost login bluesky{option} --handle {bluesky.handle}"
    if load_session(cron.state_dir, bluesky.service, bluesky.handle) is not None:
        where = session_path(cron.state_dir, bluesky.service, bluesky.handle)
        return CronLogin("bluesky", True, f"the session saved in {where}")
    if bluesky.password_source == "config":
        return CronLogin("bluesky", True, f"the app password in {cron.config_path}")
    if environ.get("THREADPOST_BLUESKY_APP_PASSWORD") and cron.account is None:
        return CronLogin(
            "bluesky",
            False,
            "THREADPOST_BLUESKY_APP_PASSWORD is set in this shell but cron will not have "
            f"it; run `{login}` (it saves a session that cron reuses and refreshes)",
        )
    return CronLogin("bluesky", False, f"not logged in as {bluesky.handle}; run `{login}`")


def _config_name(settings: Settings) -> str:
    return str(settings.config_path or default_config_path())
