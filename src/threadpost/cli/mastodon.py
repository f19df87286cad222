"""Commands specific to mastodon (`threadpost login mastodon`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from threadpost.cli.accounts import login_app
from threadpost.cli.app import AccountOption, echo, state
from threadpost.config import check_instance_url
from threadpost.errors import UsageError
from threadpost.saved_login import account_login_dir


@login_app.command("mastodon")
def login_mastodon(
    instance: Annotated[
        str | None,
        typer.Option(
            "--instance",
            help="The instance, e.g. https://mastodon.social (default: [mastodon].instance).",
            show_default=False,
        ),
    ] = None,
    account: AccountOption = None,
) -> None:
    """Log in to a Mastodon instance: authorize threadpost in a browser, paste the code.

    The token is saved with file mode 0600 and used when neither THREADPOST_MASTODON_TOKEN
    nor [mastodon].access_token is set. With --account NAME it is that named account's
    login (used when [accounts.NAME.mastodon] has no access_token).
    """
    # Imported here, not at the top: the OAuth flow and its HTTP transport serve this
    # command only, and every command's start-up (the cron tick above all) would pay.
    from threadpost.accounts import account_settings
    from threadpost.platforms.mastodon import auth as mastodon_auth

    settings = account_settings(state.settings(), account, ["mastodon"])
    url = check_instance_url(instance or settings.mastodon.instance, "--instance")
    app = mastodon_auth.register_app(url)
    echo(f"Open this address in a browser, log in to {url} and authorize threadpost:")
    echo("")
    echo(f"  {mastodon_auth.authorization_url(app)}")
    echo("")
    print("Paste the authorization code here: ", end="", flush=True)
    code = sys.stdin.readline()
    if not code.strip():
        raise UsageError("no authorization code given; run the login again")
    login, path = mastodon_auth.login_with_code(
        app, code, account_login_dir(settings.state_dir, settings.account)
    )
    echo("")
    echo(f"Logged in as @{login.account} on {url}.")
    echo(f"Token saved to {path} (file mode 0600).")
