"""Named accounts (issue 15): the config's [accounts.NAME.…] tables, each account's saved
logins, a draft's `account = …`, and `account_settings`, which turns (settings, name) into
the per-network settings the publishers use."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadpost.accounts import account_settings, chosen_account, draft_account
from threadpost.config import load_settings
from threadpost.draft import parse_draft
from threadpost.errors import ConfigError, DraftError
from threadpost.saved_login import (
    SavedBlueskyAccount,
    SavedLogin,
    account_login_dir,
    save_bluesky_account,
    save_credentials,
)

TWO_ACCOUNTS = """
[mastodon]
instance = "https://personal.example"
access_token = "personal-token"
visibility = "unlisted"
[bluesky]
handle = "me.example.com"

[accounts.work.mastodon]
instance = "https://work.example"
access_token = "work-token"

[accounts.work.bluesky]
handle = "@project.example.org"
service = "https://pds.example.org"
link_cards = false

[accounts.blog.mastodon]
instance = "https://blog.example"
"""


def _settings(tmp_path: Path, text: str = TWO_ACCOUNTS) -> object:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return load_settings(
        path, environ={"THREADPOST_TIMEZONE": "UTC", "THREADPOST_STATE_DIR": str(tmp_path / "s")}
    )


def test_named_accounts_are_read_with_their_own_values(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    work = settings.accounts["work"]  # type: ignore[attr-defined]
    assert work.mastodon.instance == "https://work.example"
    assert work.mastodon.access_token == "work-token"
    assert work.mastodon.token_source == "config"
    # What a named account leaves out is the built-in default, never the default account's.
    assert work.mastodon.visibility == "public"
    assert (work.bluesky.handle, work.bluesky.service) == (
        "project.example.org",
        "https://pds.example.org",
    )
    assert work.bluesky.link_cards is False
    assert settings.accounts["blog"].bluesky is None  # type: ignore[attr-defined]


def test_account_settings_swap_in_the_account_and_keep_the_rest(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    work = account_settings(settings, "work", ["mastodon", "bluesky"])  # type: ignore[arg-type]
    assert work.account == "work"
    assert work.mastodon.access_token == "work-token"
    assert work.bluesky.handle == "project.example.org"
    assert work.db_path == settings.db_path  # type: ignore[attr-defined]
    assert work.state_dir == settings.state_dir  # type: ignore[attr-defined]
    for default in (None, "default"):
        same = account_settings(settings, default, ["mastodon"])  # type: ignore[arg-type]
        assert same.mastodon.access_token == "personal-token"
        assert same.account is None


def test_an_unknown_account_lists_the_known_ones(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(
        ConfigError, match=r"--account: no account named 'home' \(known: default, blog, work\)"
    ):
        account_settings(settings, "home", ["mastodon"])  # type: ignore[arg-type]


def test_an_account_without_a_network_is_never_the_default_account_there(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(
        ConfigError, match=r"account 'blog' has no bluesky login.*\[accounts.blog.bluesky\]"
    ):
        account_settings(settings, "blog", ["mastodon", "bluesky"])  # type: ignore[arg-type]
    assert (
        account_settings(settings, "blog", ["mastodon"]).mastodon.instance == "https://blog.example"
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[accounts.default.mastodon]\n", "the default account is the one of the [mastodon]"),
        ("[accounts.Work.mastodon]\n", "an account name is lowercase letters"),
        ("[accounts.work]\n", "must hold [accounts.work.mastodon] and/or"),
        ("[accounts.work.twitter]\nx = 1\n", "unknown setting accounts.work.twitter"),
        ("[accounts.work.mastodon]\ntoken = 'x'\n", "unknown setting accounts.work.mastodon.token"),
        (
            "[accounts.work.mastodon]\ninstance = 'http://work.example'\n",
            "accounts.work.mastodon.instance",
        ),
        ("accounts = 3\n", "[accounts] must be a table"),
    ],
)
def test_bad_account_tables_are_clear_errors(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, text)
    assert fragment in caught.value.message
    assert str(tmp_path / "config.toml") in caught.value.message


def test_a_readable_config_with_an_account_secret_draws_the_warning(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[accounts.work.mastodon]\naccess_token = "work-token"\n')
    path.chmod(0o644)
    settings = load_settings(path, environ={"THREADPOST_TIMEZONE": "UTC"})
    assert any("chmod 600" in warning for warning in settings.warnings)


def test_each_account_has_its_own_saved_logins(tmp_path: Path) -> None:
    state = tmp_path / "s"
    save_credentials(state, SavedLogin("https://personal.example", "saved-personal"))
    save_credentials(
        account_login_dir(state, "blog"), SavedLogin("https://blog.example", "saved-blog")
    )
    save_bluesky_account(
        account_login_dir(state, "blog"), SavedBlueskyAccount("https://pds.example", "blog.example")
    )
    text = "[accounts.blog.mastodon]\n[accounts.blog.bluesky]\n"
    settings = _settings(tmp_path, text)
    blog = settings.accounts["blog"]  # type: ignore[attr-defined]
    assert (blog.mastodon.instance, blog.mastodon.access_token) == (
        "https://blog.example",
        "saved-blog",
    )
    assert blog.mastodon.token_source == "saved login"
    assert (blog.bluesky.service, blog.bluesky.handle) == ("https://pds.example", "blog.example")
    assert settings.mastodon.access_token == "saved-personal"  # type: ignore[attr-defined]
    assert account_login_dir(state, "blog") == state / "accounts" / "blog"
    assert account_login_dir(state, None) == state


def test_the_draft_names_its_account_and_the_option_wins(tmp_path: Path) -> None:
    draft = parse_draft(b'+++\ntitle = "x"\naccount = "work"\n+++\nHi\n', Path("d.md"))
    assert draft.front.account == "work"
    assert draft.front.lines["account"] == 3
    assert parse_draft(b"Hi\n", Path("d.md")).front.account is None
    assert chosen_account(None, "work") == "work"
    assert chosen_account("default", "work") is None
    assert chosen_account("blog", None) == "blog"


def test_a_malformed_account_in_a_draft_names_its_line() -> None:
    with pytest.raises(DraftError) as caught:
        parse_draft(b'+++\ntitle = "x"\naccount = "My Work"\n+++\nHi\n', Path("d.md"))
    assert caught.value.line == 3
    assert "not an account name" in caught.value.message
    with pytest.raises(DraftError, match="must be a string"):
        parse_draft(b"+++\naccount = 3\n+++\nHi\n", Path("d.md"))


def test_an_unknown_account_in_a_draft_is_a_draft_error_on_its_line(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    path = tmp_path / "d.md"
    path.write_text('+++\nplatforms = ["mastodon"]\naccount = "home"\n+++\nHi\n')
    with pytest.raises(DraftError) as caught:
        draft_account(settings, path, None, None)  # type: ignore[arg-type]
    assert caught.value.line == 3
    assert "no account named 'home' (known: default, blog, work)" in caught.value.message
    # --account wins: the draft's unknown name is not looked at.
    name, chosen = draft_account(settings, path, "work", None)  # type: ignore[arg-type]
    assert (name, chosen.mastodon.access_token) == ("work", "work-token")
