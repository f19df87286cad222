"""Commands specific to bluesky (`threadpost login bluesky`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from threadpost.cli.accounts import login_app
from threadpost.cli.app import AccountOption, echo, state
from threadpost.config import check_instance_url
from threadpost.errors import AuthFailed, UsageError
from threadpost.saved_login import (
    SavedBlueskyAccount,
    account_login_dir,
    save_bluesky_account,
)


@login_app.command("bluesky")
def login_bluesky(
    handle: Annotated[
        str | None,
        typer.Option(
            "--handle",
            help="Your handle, e.g. you.bsky.social (default: [bluesky].handle).",
            show_default=False,
        ),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            help="Your PDS, e.g. https://bsky.social (default: [bluesky].service).",
            show_default=False,
        ),
    ] = None,
    account: AccountOption = None,
) -> None:
    """Log in to Bluesky with an app password and save the session (file mode 0600).

    The app password comes from THREADPOST_BLUESKY_APP_PASSWORD, [bluesky].app_password,
    or is asked for. Publishing then reuses (and refreshes) the saved session instead of
    logging in again on every run. With --account NAME it is that named account's login
    ([accounts.NAME.bluesky]).
    """
    from threadpost.accounts import account_settings

    settings = account_settings(state.settings(), account, ["bluesky"])
    bluesky = settings.bluesky
    if handle:
        bluesky = replace(bluesky, handle=handle.strip().removeprefix("@"))
    if service:
        bluesky = replace(bluesky, service=check_instance_url(service, "--service"))
    if not bluesky.handle:
        raise UsageError("no Bluesky handle: pass --handle or set [bluesky].handle")
    password = bluesky.app_password
    if not password:
        # click's hidden prompt: getpass on a terminal, the test runner's input in tests.
        password = str(
            typer.prompt(
                f"App password for {bluesky.handle}",
                hide_input=True,
                default="",
                show_default=False,
            )
        ).strip()
        if not password:
            raise UsageError("no app password given")
    # Imported here, not at the top: the adapter brings the planner and the text core, which
    # every other command's start-up (the cron tick above all) would pay for.
    from threadpost.platforms.bluesky.publisher import BlueskyPublisher

    publisher = BlueskyPublisher(replace(settings, bluesky=bluesky))
    try:
        result = publisher.login(password)
    except AuthFailed as error:
        # The generic hint says "log in again": wrong advice right after a login failed.
        raise AuthFailed(
            error.message,
            platform="bluesky",
            hint=f"check the handle ({bluesky.handle}) and the app password: an app password "
            "is made in the Bluesky app under Settings → Privacy and security → App "
            "passwords (your account password is not accepted)",
        ) from None
    finally:
        publisher.close()
    # Remembered so that a cron job, which has no THREADPOST_* variables, finds the session.
    save_bluesky_account(
        account_login_dir(settings.state_dir, settings.account),
        SavedBlueskyAccount(service=bluesky.service, handle=bluesky.handle),
    )
    echo(f"Logged in as @{result.handle} ({result.did}) on {result.service}.")
    echo(f"Session saved to {result.session_path} (file mode 0600).")
