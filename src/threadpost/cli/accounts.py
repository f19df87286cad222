"""Commands: login (sub-commands per network come from cli/bluesky.py, cli/mastodon.py)."""

from __future__ import annotations

import typer

from threadpost.cli.app import app

login_app = typer.Typer(
    help="Log in to a network and store the session (file mode 0600).", no_args_is_help=True
)
app.add_typer(login_app, name="login")
