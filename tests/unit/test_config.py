"""Config: file + environment → Settings, with clear errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from threadpost.config import check_instance_url, load_settings, parse_duration
from threadpost.errors import ConfigError


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load_settings(environ={"HOME": str(tmp_path), "THREADPOST_TIMEZONE": "UTC"})
    assert settings.mastodon.instance == "https://mastodon.social"
    assert settings.bluesky.service == "https://bsky.social"
    assert settings.mastodon.access_token is None
    assert settings.missing_alt == "error"


def test_file_values_and_environment_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[general]
timezone = "Europe/Paris"
[mastodon]
instance = "https://example.social/"
reply_visibility = "public"
[bluesky]
handle = "@me.example.com"
link_cards = false
[publish]
max_lateness = "2h"
max_attempts = 3
""",
    )
    settings = load_settings(path, environ={"THREADPOST_MASTODON_TOKEN": "tok-from-env"})
    assert settings.mastodon.instance == "https://example.social"
    assert settings.mastodon.reply_visibility == "public"
    assert settings.mastodon.access_token == "tok-from-env"
    assert settings.bluesky.handle == "me.example.com"
    assert settings.bluesky.link_cards is False
    assert settings.max_lateness == timedelta(hours=2)
    assert settings.max_attempts == 3
    assert str(settings.timezone) == "Europe/Paris"


def test_secrets_are_not_in_repr(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "THREADPOST_MASTODON_TOKEN": "SECRET-TOKEN-123",
            "THREADPOST_BLUESKY_APP_PASSWORD": "SECRET-PASS-456",
            "THREADPOST_CONFIG": str(write(tmp_path, "")),
        }
    )
    assert "SECRET" not in repr(settings)


def test_readable_secret_file_warns(tmp_path: Path) -> None:
    path = write(tmp_path, '[bluesky]\napp_password = "abcd-efgh"\n', mode=0o644)
    settings = load_settings(path, environ={})
    assert any("chmod 600" in warning for warning in settings.warnings)
    assert all("abcd-efgh" not in warning for warning in settings.warnings)
    path.chmod(0o600)
    assert load_settings(path, environ={}).warnings == ()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[mastodon]\ninstance = 'http://example.social'", "http://"),
        ("[mastodon]\nvisibility = 'everyone'", "visibility"),
        (
            "[mastodon]\nreply_visibility = 'friends'",
            "reply_visibility must be public, unlisted, private or direct",
        ),
        ("[nonsense]\nx = 1", "unknown setting nonsense"),
        ("[bluesky]\nhandel = 'x'", "unknown setting bluesky.handel"),
        ("[general]\ntimezone = 'Mars/Olympus'", "unknown timezone"),
        ("[publish]\nmax_lateness = 'soon'", "max_lateness"),
        ("[publish]\nmax_attempts = 0", "max_attempts"),
        ("this is = = not toml", "invalid TOML"),
        ("[aliases]\n'@x' = 'y'", "aliases"),
        # Wrongly typed values used to escape as TypeError / AttributeError crashes.
        ("[general]\ndb = 5", "db must be a string"),
        ("[general]\nstate_dir = true", "state_dir must be a string"),
        ("[general]\ntimezone = 1", "timezone must be a string"),
        ("[aliases]\n'@x' = { mastodon = 5 }", "aliases"),
    ],
)
def test_bad_config_names_the_file_and_setting(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(path) in str(caught.value)
    assert fragment in str(caught.value)


def test_unknown_timezone_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"THREADPOST_TIMEZONE": "Nope/Zone"})
    assert str(caught.value).startswith("THREADPOST_TIMEZONE: unknown timezone 'Nope/Zone'")


def test_explicit_missing_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:3000/", "http://localhost:3000"),
        ("http://LOCALHOST:3000", "http://LOCALHOST:3000"),
        ("http://127.8.9.10:3000", "http://127.8.9.10:3000"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
        ("http://[::ffff:127.0.0.1]:8080", "http://[::ffff:127.0.0.1]:8080"),
        ("https://127.evil.example", "https://127.evil.example"),
        (" https://example.social/ ", "https://example.social"),
        ("https://example.social/sub", "https://example.social/sub"),
    ],
)
def test_instance_urls_accepted(url: str, normalised: str) -> None:
    assert check_instance_url(url, "x") == normalised


@pytest.mark.parametrize("url", ["http://example.social", "ftp://x.org", "example.social"])
def test_instance_urls_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        check_instance_url(url, "mastodon.instance")


@pytest.mark.parametrize(
    "url",
    [
        # Names anyone can register that merely look like loopback.
        "http://127.evil.example",
        "http://127.0.0.1.evil.example:8080",
        "http://localhost.evil.example",
        "http://127.localhost.evil.example",
        # Names spelt only with an address's characters (judged as addresses: none is one).
        "http://deadbeef",
        "http://dead.beef.cafe",
        # Addresses that are not loopback.
        "http://0.0.0.0:8080",
        "http://10.0.0.1",
        "http://[::2]",
        "http://[::ffff:10.0.0.1]",
    ],
)
def test_http_is_refused_unless_the_host_is_really_loopback(url: str) -> None:
    with pytest.raises(ConfigError, match="uses http://"):
        check_instance_url(url, "mastodon.instance")


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("2d") == timedelta(days=2)
    with pytest.raises(ValueError):
        parse_duration("1 week")


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    settings = load_settings(example, environ={})
    assert settings.bluesky.handle == "you.bsky.social"
    assert "@SomeName" in settings.aliases


def test_bluesky_settings_keep_every_field_when_the_handle_is_normalised(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[bluesky]\nhandle = "@me.example.com"\nlink_cards = false\nshorten_links = true\n',
    )
    bluesky = load_settings(path, environ={}).bluesky
    assert (bluesky.handle, bluesky.link_cards, bluesky.shorten_links) == (
        "me.example.com",
        False,
        True,
    )


def test_default_locations_are_not_the_users_own(tmp_path: Path) -> None:
    """The suite never reads the developer's real config or saved login (conftest points the
    XDG folders at an empty temp folder)."""
    from threadpost.config import default_config_path, default_db_path, default_state_dir

    for path in (default_config_path(), default_db_path(), default_state_dir()):
        assert tmp_path.parent in path.parents, path  # the run's temp folder
        assert not path.exists()


def test_a_config_path_that_is_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    with pytest.raises(ConfigError) as caught:
        load_settings(folder, environ={})
    assert str(caught.value).startswith(f"{folder}: cannot read:")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("general = 3", "[general] must be a table"),
        ("[publish]\nmax_attempts = true", "max_attempts must be a positive whole number"),
        ("[bluesky]\nlink_cards = 'yes'", "link_cards must be true or false"),
        ("[mastodon]\ninstance = 5", "instance must be a string"),
        (
            "[general]\nmissing_alt = 'sometimes'",
            'general.missing_alt must be "error" or "warning"',
        ),
        ("aliases = 'x'", "[aliases] must be a table"),
        ("[aliases]\nSomeName = { twitter = '@x' }", 'aliases."SomeName" must be a table like'),
    ],
)
def test_wrongly_typed_settings_name_the_file_and_setting(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(path) in str(caught.value)
    assert fragment in str(caught.value)


def test_without_a_configured_zone_tz_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "")
    monkeypatch.setenv("TZ", "America/New_York")
    assert str(load_settings(path, environ={}).timezone) == "America/New_York"
    # A TZ that names no zone is ignored, as if unset (the machine's zone, or UTC): no error.
    monkeypatch.delenv("TZ")
    machine = load_settings(path, environ={}).timezone
    monkeypatch.setenv("TZ", "Not/AZone")
    assert load_settings(path, environ={}).timezone == machine


def test_the_saved_mastodon_login_is_used_only_for_its_instance(tmp_path: Path) -> None:
    from threadpost.platforms.mastodon.auth import SavedLogin, save_credentials

    state = tmp_path / "state"
    save_credentials(state, SavedLogin("https://saved.example", "saved-token", "me"))
    env = {"THREADPOST_STATE_DIR": str(state)}
    # No instance configured: the saved login brings its instance and token.
    bare = load_settings(write(tmp_path, ""), environ=env).mastodon
    assert (bare.instance, bare.access_token) == ("https://saved.example", "saved-token")
    # The same instance configured: its token is used.
    same = load_settings(
        write(tmp_path, "[mastodon]\ninstance = 'https://saved.example/'"), environ=env
    ).mastodon
    assert same.access_token == "saved-token"
    # Another instance configured: the saved token is not sent there.
    other = load_settings(
        write(tmp_path, "[mastodon]\ninstance = 'https://other.example'"), environ=env
    ).mastodon
    assert (other.instance, other.access_token) == ("https://other.example", None)
    # A token given in the environment wins over the saved one.
    given = load_settings(
        write(tmp_path, ""), environ={**env, "THREADPOST_MASTODON_TOKEN": "env-token"}
    ).mastodon
    assert given.access_token == "env-token"


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ('"@X" = { mastodon = "@someone" }', '"@user@instance.social"'),
        ('"@X" = { mastodon = "someone@mastodon.social" }', '"@user@instance.social"'),
        ('"@X" = { bluesky = "@Some_Name" }', '"@user.bsky.social"'),
        ('"@X" = { bluesky = "some.bsky.social" }', '"@user.bsky.social"'),
    ],
)
def test_alias_targets_must_be_accounts_of_their_network(
    tmp_path: Path, entry: str, fragment: str
) -> None:
    path = write(tmp_path, f"[aliases]\n{entry}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert 'aliases."@X"' in str(caught.value)
    assert fragment in str(caught.value)


def test_well_formed_alias_targets_are_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[aliases]\n"@X" = { mastodon = "@some.one@social.example.org", '
        'bluesky = "@some-one.bsky.social" }\n',
    )
    alias = load_settings(path, environ={}).aliases["@X"]
    assert (alias.mastodon, alias.bluesky) == (
        "@some.one@social.example.org",
        "@some-one.bsky.social",
    )


def test_a_lookalike_loopback_instance_in_the_environment_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    for name in ("THREADPOST_MASTODON_INSTANCE", "THREADPOST_BLUESKY_SERVICE"):
        with pytest.raises(ConfigError, match=r"127\.evil\.example' uses http://"):
            load_settings(path, environ={name: "http://127.evil.example"})


def test_the_account_login_bluesky_saved_is_the_fallback_handle_on_its_service(
    tmp_path: Path,
) -> None:
    from threadpost.saved_login import SavedBlueskyAccount, save_bluesky_account

    state = tmp_path / "state"
    save_bluesky_account(state, SavedBlueskyAccount("https://pds.example", "alice.example"))
    base = {"THREADPOST_STATE_DIR": str(state), "THREADPOST_CONFIG": str(tmp_path / "c.toml")}
    (tmp_path / "c.toml").write_text("")
    fallback = load_settings(environ=base).bluesky
    assert (fallback.service, fallback.handle) == ("https://pds.example", "alice.example")
    # A handle or another service configured wins: the saved account is not theirs.
    other = {**base, "THREADPOST_BLUESKY_SERVICE": "https://other.example"}
    assert load_settings(environ=other).bluesky.handle is None
    named = {**base, "THREADPOST_BLUESKY_HANDLE": "bob.example"}
    assert load_settings(environ=named).bluesky.handle == "bob.example"


def test_credential_sources_and_what_cron_keeps(tmp_path: Path) -> None:
    from threadpost.config import cron_environment

    config = tmp_path / "c.toml"
    config.write_text('[mastodon]\naccess_token = "from-config"\n')
    config.chmod(0o600)
    env = {
        "THREADPOST_CONFIG": str(config),
        "THREADPOST_STATE_DIR": str(tmp_path),
        "THREADPOST_BLUESKY_APP_PASSWORD": "from-env",
        "THREADPOST_TIMEZONE": "UTC",
    }
    settings = load_settings(environ=env)
    assert settings.mastodon.token_source == "config"
    assert settings.bluesky.password_source == "environment"
    assert cron_environment(env) == {
        "THREADPOST_STATE_DIR": str(tmp_path),
        "THREADPOST_TIMEZONE": "UTC",
    }


def test_a_config_given_elsewhere_keeps_its_own_state_folder(tmp_path: Path) -> None:
    """Saved logins follow --config: work.toml and home.toml never share a Mastodon login."""
    from threadpost.config import default_config_path, default_state_dir

    work = tmp_path / "work.toml"
    work.write_text("")
    assert load_settings(work, environ={}).state_dir == tmp_path / "work.state"
    named = tmp_path / "named.toml"
    named.write_text(f'[general]\nstate_dir = "{tmp_path / "chosen"}"\n')
    assert load_settings(named, environ={}).state_dir == tmp_path / "chosen"
    given = {"THREADPOST_STATE_DIR": str(tmp_path / "env")}
    assert load_settings(work, environ=given).state_dir == tmp_path / "env"
    # The default config (explicitly named or not) keeps the platform's state folder.
    assert load_settings(environ={}).state_dir == default_state_dir()
    default_config_path().parent.mkdir(parents=True, exist_ok=True)
    default_config_path().write_text("")  # in the test's own XDG_CONFIG_HOME
    default = {"THREADPOST_CONFIG": str(default_config_path())}
    assert load_settings(environ=default).state_dir == default_state_dir()
