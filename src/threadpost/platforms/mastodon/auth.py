"""`threadpost login mastodon`: the OAuth out-of-band flow, and where its token is kept.

The token is saved to `<state dir>/mastodon-credentials.json` with file mode 0600;
config.py reads it as a fallback after THREADPOST_MASTODON_TOKEN and
[mastodon].access_token. Loading it is light (json only): Mastodon.py is imported only by
the functions that talk to the instance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from threadpost.errors import AuthFailed
from threadpost.private_files import write_private_file
from threadpost.redact import register_secrets

CREDENTIALS_FILE: Final = "mastodon-credentials.json"
APP_NAME: Final = "threadpost"
APP_WEBSITE: Final = "https://github.com/threadpost/threadpost"
#: Posting needs write (statuses, media) and read (verify_credentials, read back).
SCOPES: Final = ["read", "write"]
#: Out-of-band: the instance shows the code to the person, who pastes it into the terminal.
REDIRECT_OOB: Final = "urn:ietf:wg:oauth:2.0:oob"
TIMEOUT: Final = 30.0


@dataclass(frozen=True)
class AppRegistration:
    """threadpost registered as an OAuth application on one instance."""

    instance: str
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class SavedLogin:
    """What `login mastodon` stored."""

    instance: str
    access_token: str = field(repr=False)
    account: str | None = None


def credentials_path(state_dir: Path) -> Path:
    return state_dir / CREDENTIALS_FILE


def load_credentials(state_dir: Path) -> SavedLogin | None:
    """The saved login, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(credentials_path(state_dir).read_text(encoding="utf-8"))
        return SavedLogin(
            instance=str(data["instance"]),
            access_token=str(data["access_token"]),
            account=data.get("account"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_credentials(state_dir: Path, login: SavedLogin) -> Path:
    """Write the login with file mode 0600 (atomically: never a readable half-file)."""
    path = credentials_path(state_dir)
    payload = json.dumps(
        {
            "instance": login.instance,
            "access_token": login.access_token,
            "account": login.account,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        indent=1,
    )
    write_private_file(path, payload)
    return path


def _allow_http(instance: str) -> bool:
    # config.check_instance_url already refused http:// except on loopback.
    return urlsplit(instance).scheme == "http"


def _classify(exc: Exception, action: str, instance: str, secrets: tuple[str, ...]) -> Exception:
    from threadpost.platforms.mastodon.publisher import classify_error

    return classify_error(exc, action=action, instance=instance, secrets=secrets)


def register_app(instance: str) -> AppRegistration:
    """Register threadpost as an application on `instance` (POST /api/v1/apps)."""
    from mastodon import Mastodon
    from mastodon.errors import MastodonError

    try:
        client_id, client_secret = Mastodon.create_app(
            APP_NAME,
            scopes=SCOPES,
            redirect_uris=REDIRECT_OOB,
            website=APP_WEBSITE,
            api_base_url=instance,
            request_timeout=TIMEOUT,
        )
    except MastodonError as exc:
        raise _classify(exc, "registering threadpost", instance, ()) from exc
    except (KeyError, TypeError, ValueError):
        # create_app reads the JSON answer without checking the status.
        raise AuthFailed(
            f"{instance} refused to register threadpost as an application",
            platform="mastodon",
            hint="check the instance address; some instances close app registration",
        ) from None
    register_secrets(client_secret)
    return AppRegistration(instance=instance, client_id=client_id, client_secret=client_secret)


def _client(app: AppRegistration, token: str | None = None) -> Any:
    from mastodon import Mastodon

    return Mastodon(
        client_id=app.client_id,
        client_secret=app.client_secret,
        access_token=token,
        api_base_url=app.instance,
        request_timeout=TIMEOUT,
        ratelimit_method="throw",
        version_check_mode="none",
    )


def authorization_url(app: AppRegistration) -> str:
    """The address where the person authorizes threadpost and is shown a code."""
    from mastodon.errors import MastodonError

    try:
        url: str = _client(app).auth_request_url(
            scopes=SCOPES,
            redirect_uris=REDIRECT_OOB,
            force_login=True,
            allow_http=_allow_http(app.instance),
        )
    except MastodonError as exc:
        secrets = (app.client_secret,)
        raise _classify(exc, "preparing the login", app.instance, secrets) from exc
    return url


def exchange_code(app: AppRegistration, code: str) -> str:
    """Trade the authorization code for an access token (POST /oauth/token)."""
    from mastodon.errors import MastodonError, MastodonIllegalArgumentError

    register_secrets(code)
    try:
        token: str = _client(app).log_in(
            code=code,
            redirect_uri=REDIRECT_OOB,
            scopes=SCOPES,
            allow_http=_allow_http(app.instance),
        )
    except MastodonIllegalArgumentError:
        # Mastodon.py's text quotes the server's raw answer; ours says what to do.
        raise AuthFailed(
            f"{app.instance} did not accept the authorization code",
            platform="mastodon",
            hint="run the login again and paste the code exactly as the instance shows it",
        ) from None
    except MastodonError as exc:
        secrets = (app.client_secret, code)
        raise _classify(exc, "logging in", app.instance, secrets) from exc
    register_secrets(token)
    return token


def verify_token(instance: str, token: str) -> str:
    """The account the token belongs to, as `username@host` (verify_credentials)."""
    from mastodon import Mastodon
    from mastodon.errors import MastodonError

    api = Mastodon(
        api_base_url=instance,
        access_token=token,
        request_timeout=TIMEOUT,
        ratelimit_method="throw",
        version_check_mode="none",
    )
    try:
        account = api.account_verify_credentials()
    except MastodonError as exc:
        raise _classify(exc, "checking the new token", instance, (token,)) from exc
    host = urlsplit(instance).hostname or instance
    return f"{account['username']}@{host}"


def login_with_code(app: AppRegistration, code: str, state_dir: Path) -> tuple[SavedLogin, Path]:
    """Exchange the code, verify the token, save it (0600); the saved login and its file."""
    code = code.strip()
    if not code:
        raise AuthFailed("no authorization code given", platform="mastodon")
    token = exchange_code(app, code)
    account = verify_token(app.instance, token)
    login = SavedLogin(instance=app.instance, access_token=token, account=account)
    return login, save_credentials(state_dir, login)


__all__ = [
    "AppRegistration",
    "SavedLogin",
    "authorization_url",
    "credentials_path",
    "exchange_code",
    "load_credentials",
    "login_with_code",
    "register_app",
    "save_credentials",
    "verify_token",
]
