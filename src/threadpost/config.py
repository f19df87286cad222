"""Configuration: a TOML file plus THREADPOST_* environment variables → `Settings`.

Environment variables win over the file. Secrets (tokens, app passwords) may live in
either; a config file holding a secret that others can read draws a warning.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from threadpost.errors import ConfigError
from threadpost.loopback import is_loopback_host
from threadpost.redact import register_secrets
from threadpost.saved_login import account_login_dir, load_bluesky_account, load_credentials
from threadpost.values import ACCOUNT_NAME, DEFAULT_ACCOUNT, MASTODON_VISIBILITIES

APP_NAME: Final = "threadpost"
DEFAULT_MASTODON_INSTANCE: Final = "https://mastodon.social"
DEFAULT_BLUESKY_SERVICE: Final = "https://bsky.social"


#: Where a credential came from. Only "config" and "saved login" reach a cron job: cron
#: starts commands with an almost empty environment, so "environment" ones stay behind.
CredentialSource = Literal["environment", "config", "saved login"]


@dataclass(frozen=True)
class MastodonSettings:
    """The [mastodon] table: the instance, the token (and where it came from), visibility."""

    instance: str = DEFAULT_MASTODON_INSTANCE
    access_token: str | None = field(default=None, repr=False)
    token_source: CredentialSource | None = None
    visibility: str = "public"
    reply_visibility: str = "unlisted"


@dataclass(frozen=True)
class BlueskySettings:
    """The [bluesky] table: the PDS, the handle and app password (and where it came from),
    link cards, the text's links."""

    service: str = DEFAULT_BLUESKY_SERVICE
    handle: str | None = None
    app_password: str | None = field(default=None, repr=False)
    password_source: CredentialSource | None = None
    link_cards: bool = True
    #: Show long links shortened in the text, as the official app does (host + start of the
    #: path + "..."); the link facet keeps the full URI. Saves characters; off by default
    #: so the text sent is the text written.
    shorten_links: bool = False
    #: Where videos go first: None (the default) picks Bluesky's video service for an
    #: account on Bluesky's hosting and the PDS directly otherwise; "direct" always sends
    #: them to the PDS; an https:// URL names a video service (platforms/bluesky/
    #: video_service.py).
    video_service: str | None = None


@dataclass(frozen=True)
class NamedAccount:
    """An account besides the default one (`[accounts.NAME.mastodon]`, `…bluesky]`): a
    network it has no table for is not part of it (never the default account's instead)."""

    name: str
    mastodon: MastodonSettings | None = None
    bluesky: BlueskySettings | None = None


_MASTODON_KEYS: Final = frozenset({"instance", "access_token", "visibility", "reply_visibility"})
_BLUESKY_KEYS: Final = frozenset(
    {"service", "handle", "app_password", "link_cards", "shorten_links", "video_service"}
)


@dataclass(frozen=True)
class Alias:
    """How a name written in drafts (e.g. "@SomeName") appears on each network."""

    mastodon: str | None = None
    bluesky: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything a command runs with: the config file as loaded, with the environment's
    overrides (THREADPOST_*) and the defaults."""

    config_path: Path | None
    db_path: Path
    state_dir: Path
    timezone: ZoneInfo
    mastodon: MastodonSettings = MastodonSettings()
    bluesky: BlueskySettings = BlueskySettings()
    #: "error" or "warning": how `check` treats an image without alt text.
    missing_alt: str = "error"
    #: Attempts per post across runs before a thread is marked failed.
    max_attempts: int = 8
    #: A schedule missed by more than this is skipped instead of published late.
    max_lateness: timedelta = timedelta(hours=24)
    #: Longest rate-limit wait a run accepts; longer waits leave the thread for a later run.
    max_rate_limit_wait: timedelta = timedelta(minutes=15)
    aliases: Mapping[str, Alias] = field(default_factory=dict)
    #: The named accounts of the config (`accounts.account_settings` picks one).
    accounts: Mapping[str, NamedAccount] = field(default_factory=dict)
    #: Which named account `mastodon` / `bluesky` belong to; None: the default account.
    account: str | None = None
    #: Whether the account was chosen (`accounts.account_settings`): a draft's own
    #: `account = …` no longer applies (`--account` wins over it).
    account_chosen: bool = False
    #: Non-fatal notes about the configuration (e.g. a readable secret file).
    warnings: tuple[str, ...] = ()


#: The THREADPOST_* variables `threadpost cron` writes into the crontab line, so that a cron
#: job finds the same state directory and accounts. None is a secret: tokens and app
#: passwords must come from the config file or a saved login (see cron_readiness.py).
CRON_CARRIED_VARIABLES: Final = (
    "THREADPOST_STATE_DIR",
    "THREADPOST_TIMEZONE",
    "THREADPOST_MASTODON_INSTANCE",
    "THREADPOST_BLUESKY_SERVICE",
    "THREADPOST_BLUESKY_HANDLE",
    "THREADPOST_BLUESKY_VIDEO_SERVICE",
)


def cron_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of `environ` a cron job started from `threadpost cron`'s line will have."""
    return {name: environ[name] for name in CRON_CARRIED_VARIABLES if environ.get(name)}


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME) / "config.toml"


def default_db_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME) / "threadpost.db"


def _state_dir_of(config: Path | None) -> Path:
    """The state folder (saved logins, sessions, caches) when none is set: beside a config
    file given with --config / THREADPOST_CONFIG (work.toml → work.state/), so that each
    config keeps its own logins; the platform's state folder for the default config."""
    if config is None or config.expanduser().resolve() == default_config_path().resolve():
        return default_state_dir()
    config = config.expanduser().absolute()
    return config.with_name(f"{config.stem}.state")


def default_state_dir() -> Path:
    from platformdirs import user_state_path

    return user_state_path(APP_NAME)


def load_settings(
    config_path: Path | None = None,
    db_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings from the config file (explicit, env, or default) and the environment."""
    env = os.environ if environ is None else environ
    explicit = config_path or (
        Path(env["THREADPOST_CONFIG"]) if env.get("THREADPOST_CONFIG") else None
    )
    path = explicit or default_config_path()
    data: dict[str, Any] = {}
    warnings: list[str] = []
    if path.exists():
        data = _read_toml(path)
    elif explicit is not None:
        raise ConfigError(f"{path}: config file not found")

    general = _table(data, "general", path)
    mastodon_table = _table(data, "mastodon", path)
    bluesky_table = _table(data, "bluesky", path)
    publish_table = _table(data, "publish", path)
    _reject_unknown(
        data, {"general", "mastodon", "bluesky", "publish", "aliases", "accounts"}, path, ""
    )
    _reject_unknown(general, {"timezone", "missing_alt", "db", "state_dir"}, path, "general.")
    _reject_unknown(mastodon_table, set(_MASTODON_KEYS), path, "mastodon.")
    _reject_unknown(bluesky_table, set(_BLUESKY_KEYS), path, "bluesky.")
    account_tables = _account_tables(data.get("accounts", {}), path)
    _reject_unknown(
        publish_table, {"max_attempts", "max_lateness", "max_rate_limit_wait"}, path, "publish."
    )

    secret_tables = [mastodon_table, bluesky_table] + [
        table for networks in account_tables.values() for table in networks.values()
    ]
    if path.exists() and any(
        table.get("access_token") or table.get("app_password") for table in secret_tables
    ):
        mode = path.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            warnings.append(
                f"{path} holds a secret and can be read by other users; run: chmod 600 {path}"
            )

    mastodon = MastodonSettings(
        instance=check_instance_url(
            env.get("THREADPOST_MASTODON_INSTANCE")
            or _str(mastodon_table, "instance", path, DEFAULT_MASTODON_INSTANCE),
            f"{path}: mastodon.instance",
        ),
        access_token=env.get("THREADPOST_MASTODON_TOKEN")
        or _str(mastodon_table, "access_token", path, None),
        token_source=_source(env, "THREADPOST_MASTODON_TOKEN", mastodon_table, "access_token"),
        visibility=_visibility(mastodon_table, "visibility", path, "public"),
        reply_visibility=_visibility(mastodon_table, "reply_visibility", path, "unlisted"),
    )
    bluesky = BlueskySettings(
        service=check_instance_url(
            env.get("THREADPOST_BLUESKY_SERVICE")
            or _str(bluesky_table, "service", path, DEFAULT_BLUESKY_SERVICE),
            f"{path}: bluesky.service",
        ),
        handle=(env.get("THREADPOST_BLUESKY_HANDLE") or _str(bluesky_table, "handle", path, None)),
        app_password=env.get("THREADPOST_BLUESKY_APP_PASSWORD")
        or _str(bluesky_table, "app_password", path, None),
        password_source=_source(
            env, "THREADPOST_BLUESKY_APP_PASSWORD", bluesky_table, "app_password"
        ),
        link_cards=_bool(bluesky_table, "link_cards", path, True),
        shorten_links=_bool(bluesky_table, "shorten_links", path, False),
        video_service=_video_service(
            env.get("THREADPOST_BLUESKY_VIDEO_SERVICE")
            or _str(bluesky_table, "video_service", path, None),
            f"{path}: bluesky.video_service",
        ),
    )
    if bluesky.handle:
        bluesky = replace(bluesky, handle=bluesky.handle.removeprefix("@"))

    general_db = _str(general, "db", path, None)
    general_state_dir = _str(general, "state_dir", path, None)
    db = (
        db_path
        or (Path(env["THREADPOST_DB"]) if env.get("THREADPOST_DB") else None)
        or (Path(general_db).expanduser() if general_db else None)
        or default_db_path()
    )
    state_dir = (
        Path(env["THREADPOST_STATE_DIR"])
        if env.get("THREADPOST_STATE_DIR")
        else Path(general_state_dir).expanduser()
        if general_state_dir
        else _state_dir_of(explicit)
    )
    if bluesky.handle is None:
        bluesky = _saved_bluesky_account(
            bluesky,
            state_dir,
            service_given=bool(
                env.get("THREADPOST_BLUESKY_SERVICE") or bluesky_table.get("service")
            ),
        )
    if mastodon.access_token is None:
        mastodon = _saved_mastodon_login(
            mastodon,
            state_dir,
            instance_given=bool(
                env.get("THREADPOST_MASTODON_INSTANCE") or mastodon_table.get("instance")
            ),
        )
    missing_alt = _str(general, "missing_alt", path, "error")
    if missing_alt not in ("error", "warning"):
        raise ConfigError(f'{path}: general.missing_alt must be "error" or "warning"')

    accounts = {
        name: _named_account(name, networks, path, state_dir)
        for name, networks in account_tables.items()
    }
    register_secrets(mastodon.access_token, bluesky.app_password)
    for account in accounts.values():
        register_secrets(
            account.mastodon.access_token if account.mastodon else None,
            account.bluesky.app_password if account.bluesky else None,
        )
    return Settings(
        config_path=path if path.exists() else None,
        db_path=db,
        state_dir=state_dir,
        timezone=_timezone(
            env.get("THREADPOST_TIMEZONE") or _str(general, "timezone", path, None),
            "THREADPOST_TIMEZONE" if env.get("THREADPOST_TIMEZONE") else f"{path}: timezone",
        ),
        mastodon=mastodon,
        bluesky=bluesky,
        missing_alt=missing_alt,
        max_attempts=_int(publish_table, "max_attempts", path, 8),
        max_lateness=_duration(publish_table, "max_lateness", path, timedelta(hours=24)),
        max_rate_limit_wait=_duration(
            publish_table, "max_rate_limit_wait", path, timedelta(minutes=15)
        ),
        aliases=_aliases(data.get("aliases", {}), path),
        accounts=accounts,
        warnings=tuple(warnings),
    )


def _account_tables(value: object, path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """`[accounts.NAME.mastodon]` / `[accounts.NAME.bluesky]`, checked: name → network →
    its table (the keys of `[mastodon]` / `[bluesky]`)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [accounts] must be a table of named accounts")
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for name, networks in value.items():
        where = f"accounts.{name}"
        if name == DEFAULT_ACCOUNT:
            raise ConfigError(
                f"{path}: [{where}]: the default account is the one of the [mastodon] and "
                "[bluesky] tables; give this account another name"
            )
        if not ACCOUNT_NAME.fullmatch(name):
            raise ConfigError(
                f"{path}: [{where}]: an account name is lowercase letters, digits, - and _ "
                "(at most 40), e.g. [accounts.work.mastodon]"
            )
        if not isinstance(networks, dict) or not networks:
            raise ConfigError(
                f"{path}: [{where}] must hold [{where}.mastodon] and/or [{where}.bluesky]"
            )
        _reject_unknown(networks, {"mastodon", "bluesky"}, path, f"{where}.")
        for network, table in networks.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: [{where}.{network}] must be a table")
            known = _MASTODON_KEYS if network == "mastodon" else _BLUESKY_KEYS
            _reject_unknown(table, set(known), path, f"{where}.{network}.")
        tables[name] = networks
    return tables


def _named_account(
    name: str, networks: dict[str, dict[str, Any]], path: Path, state_dir: Path
) -> NamedAccount:
    """One named account: its tables, with built-in defaults for what they leave out (not
    the default account's values, so that nothing of another account slips in), and its
    own saved logins (`threadpost login … --account NAME`) as the last source."""
    login_dir = account_login_dir(state_dir, name)
    where = f"{path}: accounts.{name}"
    mastodon = bluesky = None
    if (table := networks.get("mastodon")) is not None:
        token = _str(table, "access_token", path, None)
        mastodon = MastodonSettings(
            instance=check_instance_url(
                _str(table, "instance", path, DEFAULT_MASTODON_INSTANCE),
                f"{where}.mastodon.instance",
            ),
            access_token=token,
            token_source="config" if token else None,
            visibility=_visibility(table, "visibility", path, "public"),
            reply_visibility=_visibility(table, "reply_visibility", path, "unlisted"),
        )
        if token is None:
            mastodon = _saved_mastodon_login(
                mastodon, login_dir, instance_given="instance" in table
            )
    if (table := networks.get("bluesky")) is not None:
        handle = _str(table, "handle", path, None)
        password = _str(table, "app_password", path, None)
        bluesky = BlueskySettings(
            service=check_instance_url(
                _str(table, "service", path, DEFAULT_BLUESKY_SERVICE),
                f"{where}.bluesky.service",
            ),
            handle=handle.removeprefix("@") if handle else None,
            app_password=password,
            password_source="config" if password else None,
            link_cards=_bool(table, "link_cards", path, True),
            shorten_links=_bool(table, "shorten_links", path, False),
            video_service=_video_service(
                _str(table, "video_service", path, None), f"{where}.bluesky.video_service"
            ),
        )
        if handle is None:
            bluesky = _saved_bluesky_account(bluesky, login_dir, service_given="service" in table)
    return NamedAccount(name, mastodon, bluesky)


def _saved_mastodon_login(
    mastodon: MastodonSettings, state_dir: Path, *, instance_given: bool
) -> MastodonSettings:
    """Fall back to the token `threadpost login mastodon` saved (when it is for this
    instance, or no instance is configured: then its instance too)."""
    saved = load_credentials(state_dir)
    if saved is None or (instance_given and saved.instance != mastodon.instance):
        return mastodon
    instance = check_instance_url(saved.instance, "the instance saved by `login mastodon`")
    return replace(
        mastodon, instance=instance, access_token=saved.access_token, token_source="saved login"
    )


def _saved_bluesky_account(
    bluesky: BlueskySettings, state_dir: Path, *, service_given: bool
) -> BlueskySettings:
    """Fall back to the account `threadpost login bluesky` saved (when it is on this
    service, or no service is configured: then its service too)."""
    saved = load_bluesky_account(state_dir)
    if saved is None or (service_given and saved.service != bluesky.service):
        return bluesky
    service = check_instance_url(saved.service, "the service saved by `login bluesky`")
    return replace(bluesky, service=service, handle=saved.handle)


def _source(
    env: Mapping[str, str], variable: str, table: dict[str, Any], key: str
) -> CredentialSource | None:
    """Where the setting `variable` / `key` came from (the variable wins, as in Settings)."""
    if env.get(variable):
        return "environment"
    return "config" if table.get(key) else None


def _video_service(value: str | None, what: str) -> str | None:
    """`video_service`: "direct", a video service's URL (https://, or http:// on
    loopback), or None for the default."""
    if value is None or not value.strip():
        return None
    if value.strip().lower() == "direct":
        return "direct"
    return check_instance_url(value, what)


def check_instance_url(url: str, what: str) -> str:
    """Accept https:// anywhere and http:// only on loopback; return it without a trailing /.

    Loopback means `localhost` or a loopback IP address (127.0.0.0/8, ::1, and 127.x mapped
    into IPv6), never a name that merely starts like one: `127.evil.example` is anyone's.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} {url!r} is not an http(s) URL, e.g. https://mastodon.social")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"{what} {url!r} uses http://, which would send your credentials unencrypted; "
            "use https:// (http:// is allowed only for localhost)"
        )
    return url.strip().rstrip("/")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    return value


def _reject_unknown(table: dict[str, Any], known: set[str], path: Path, prefix: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(
                f"{path}: unknown setting {prefix}{key} (known: {', '.join(sorted(known))})"
            )


def _str(table: dict[str, Any], key: str, path: Path, default: str | None) -> Any:
    value = table.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string")
    return value


def _bool(table: dict[str, Any], key: str, path: Path, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {key} must be true or false")
    return value


def _int(table: dict[str, Any], key: str, path: Path, default: int) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{path}: {key} must be a positive whole number")
    return value


def _visibility(table: dict[str, Any], key: str, path: Path, default: str) -> str:
    value = _str(table, key, path, default)
    if value not in MASTODON_VISIBILITIES:
        choices = ", ".join(MASTODON_VISIBILITIES[:-1]) + " or " + MASTODON_VISIBILITIES[-1]
        raise ConfigError(f"{path}: {key} must be {choices}")
    return str(value)


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "15m", "24h", "2d"."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 30m, 24h or 2d")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(seconds=amount * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])


def _duration(table: dict[str, Any], key: str, path: Path, default: timedelta) -> timedelta:
    value = table.get(key)
    if value is None:
        return default
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise ConfigError(f"{path}: {key}: {exc}") from None


def _timezone(name: str | None, where: str) -> ZoneInfo:
    if name is None:
        return _local_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown timezone {name!r} (e.g. Europe/Paris)") from None


def _local_timezone() -> ZoneInfo:
    """The machine's zone from TZ or /etc/localtime, UTC when neither names one."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = Path("/etc/localtime").resolve()
        parts = target.parts
        if "zoneinfo" in parts:
            return ZoneInfo("/".join(parts[parts.index("zoneinfo") + 1 :]))
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return ZoneInfo("UTC")


def _aliases(value: object, path: Path) -> dict[str, Alias]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [aliases] must be a table")
    aliases: dict[str, Alias] = {}
    for name, targets in value.items():
        if (
            not isinstance(targets, dict)
            or not set(targets) <= {"mastodon", "bluesky"}
            or not all(isinstance(target, str) for target in targets.values())
        ):
            raise ConfigError(
                f'{path}: aliases."{name}" must be a table like '
                '{ mastodon = "@user@instance", bluesky = "@user.bsky.social" }'
            )
        for platform, pattern, example in _alias_forms():
            target = targets.get(platform)
            if target is not None and not pattern.fullmatch(target):
                raise ConfigError(
                    f'{path}: aliases."{name}".{platform} = {target!r} is not a {platform} '
                    f"account; write it as {example}"
                )
        aliases[name] = Alias(mastodon=targets.get("mastodon"), bluesky=targets.get("bluesky"))
    return aliases


@cache
def _alias_forms() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """What an alias must point at on each network: a full Mastodon address (the domain
    says which instance) and a Bluesky handle, which is a domain name. Compiled by the
    first config with [aliases]."""
    return (
        (
            "mastodon",
            re.compile(r"@[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
            '"@user@instance.social"',
        ),
        (
            "bluesky",
            re.compile(r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*"),
            '"@user.bsky.social"',
        ),
    )
