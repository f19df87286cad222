"""`threadpost login mastodon`: the OAuth out-of-band flow, and where its token is kept.

The token is saved to `<state dir>/mastodon-credentials.json` with file mode 0600
(`saved_login.py`, a leaf that config.py reads as a fallback after
THREADPOST_MASTODON_TOKEN and [mastodon].access_token). Every request goes through the
instance's `MastodonHttp` (`http.py`); Mastodon.py is imported only by the functions that
talk to the instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import quote, urlencode, urlsplit

from threadpost.errors import AuthFailed
from threadpost.platforms.mastodon.http import USER_AGENT, MastodonHttp
from threadpost.redact import register_secrets
from threadpost.saved_login import (
    CREDENTIALS_FILE,
    SavedLogin,
    credentials_path,
    load_credentials,
    save_credentials,
)

APP_NAME: Final = "threadpost"
APP_WEBSITE: Final = "https://github.com/threadpost/threadpost"
#: Posting needs write (statuses, media) and read (verify_credentials, read back).
#: The narrowest scopes publishing and deleting need: the account (verify_credentials),
#: reading statuses back (finding what landed after an unclear failure, the source text),
#: search (a quoted post's address → its id), posting and deleting statuses, uploading
#: media. Not `follow`, `push`, `admin`, nor writing the account or its follows.
SCOPES: Final = [
    "read:accounts",
    "read:statuses",
    "read:search",
    "write:statuses",
    "write:media",
]
#: Out-of-band: the instance shows the code to the person, who pastes it into the terminal.
REDIRECT_OOB: Final = "urn:ietf:wg:oauth:2.0:oob"
TIMEOUT: Final = 30.0


@dataclass(frozen=True)
class AppRegistration:
    """threadpost registered as an OAuth application on one instance."""

    instance: str
    client_id: str
    client_secret: str = field(repr=False)


def _allow_http(instance: str) -> bool:
    # config.check_instance_url already refused http:// except on loopback.
    return urlsplit(instance).scheme == "http"


def register_app(instance: str) -> AppRegistration:
    """Register threadpost as an application on `instance` (POST /api/v1/apps)."""
    http = MastodonHttp(instance, timeout=TIMEOUT)
    try:
        from mastodon import Mastodon

        client_id, client_secret = http.call(
            "registering threadpost",
            lambda: Mastodon.create_app(
                APP_NAME,
                scopes=SCOPES,
                redirect_uris=REDIRECT_OOB,
                website=APP_WEBSITE,
                api_base_url=http.instance,
                request_timeout=http.timeout,
                session=http.session(),
                user_agent=USER_AGENT,
            ),
        )
    except (KeyError, TypeError, ValueError):
        # create_app reads the JSON answer without checking the status.
        raise AuthFailed(
            f"{instance} refused to register threadpost as an application",
            platform="mastodon",
            hint="check the instance address; some instances close app registration",
        ) from None
    finally:
        http.close()
    register_secrets(client_secret)
    return AppRegistration(instance=instance, client_id=client_id, client_secret=client_secret)


def authorization_url(app: AppRegistration) -> str:
    """The address where the person authorizes threadpost and is shown a code.

    Built here rather than by Mastodon.py's `auth_request_url`, which appends every
    optional parameter it was not given as `state=None&lang=None`.
    """
    query = urlencode(
        {
            "client_id": app.client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT_OOB,
            "scope": " ".join(SCOPES),
            "force_login": "true",
        },
        quote_via=quote,
    )
    return f"{app.instance.rstrip('/')}/oauth/authorize?{query}"


def exchange_code(app: AppRegistration, code: str) -> str:
    """Trade the authorization code for an access token (POST /oauth/token)."""
    from mastodon.errors import MastodonIllegalArgumentError

    http = MastodonHttp(app.instance, timeout=TIMEOUT, secrets=(app.client_secret, code))
    client = http.client(client_id=app.client_id, client_secret=app.client_secret)

    def log_in() -> str:
        try:
            token: str = client.log_in(
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
        return token

    register_secrets(code)
    try:
        token = http.call("logging in", log_in)
    finally:
        http.close()
    register_secrets(token)
    return token


def verify_token(instance: str, token: str) -> str:
    """The account the token belongs to, as `username@host` (verify_credentials)."""
    http = MastodonHttp(instance, timeout=TIMEOUT, secrets=(token,))
    client = http.client(access_token=token)
    try:
        account = http.call("checking the new token", client.account_verify_credentials)
    finally:
        http.close()
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
    "CREDENTIALS_FILE",
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
