"""Secrets never leak: known tokens, passwords and session strings are searched for in
every output of a representative run (faults, resumes, bad input, --traceback), in the
ledger's bytes and in every file threadpost wrote, except the two files meant to hold
them, which must be 0600. A config file holding a secret that others can read warns.
Servers that quote the credentials back (an Authorization header in a refusal, a password
JSON-escaped in an error body) are searched for every form of the secret: raw, JSON- and
Python-escaped, URL-encoded, base64.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sqlite3
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from reliability_support import write_thread_draft
from test_sigkill import cli_env, publish_and_kill, run_resume

import pds_harness
from cli_support import run_cli
from mastodon_server.server import MastodonTestServer

MASTODON_TOKEN = "SECRET-mastodon-token-7f3a9c2e"
WRONG_TOKEN = "SECRET-wrong-token-b81d44"
BLUESKY_PASSWORD = "SECRET-bsky-app-pass-52e1"
WRONG_PASSWORD = "SECRET-bsky-wrong-pass-0c9d"


#: A password with the characters JSON and Python escape (a quote and a backslash).
ESCAPED_PASSWORD = 'SECRET-bsky"quote\\back-7e1'


def _cli(env: dict[str, str], *args: str, input: str | None = None) -> Any:
    names = [name for name in env if name.startswith("THREADPOST_")]
    return run_cli(*args, env={name: env[name] for name in names}, input=input)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_no_secret_in_any_output_file_or_ledger(
    mastodon_cell: MastodonTestServer, shared_pds: Any, tmp_path: Path
) -> None:
    server = mastodon_cell
    outputs: list[str] = []

    # -- Mastodon: a publish that meets a 503 and a lost answer, a resume, status -----------
    username = "s" + os.urandom(5).hex()
    server.add_account(username, token=MASTODON_TOKEN)
    (tmp_path / "m").mkdir()
    env = cli_env(
        tmp_path / "m",
        THREADPOST_MASTODON_INSTANCE=server.url,
        THREADPOST_MASTODON_TOKEN=MASTODON_TOKEN,
    )
    server.faults.add("error", "/api/v1/statuses", at_count=2, status=503)
    server.faults.add("drop_after_commit", "/api/v1/statuses", at_count=5)
    draft = write_thread_draft(tmp_path / "m" / "draft", "mastodon", "secrets")
    for args in (
        ("--traceback", "publish", "--yes", str(draft)),
        ("run",),
        ("status", "--json"),
        ("queue",),
    ):
        result = _cli(env, *args)
        outputs += [result.stdout, result.stderr]
    assert len(server.published(username)) == 10
    # A wrong token, with --traceback: the refused token is not echoed either.
    wrong = _cli(
        {**env, "THREADPOST_MASTODON_TOKEN": WRONG_TOKEN},
        "--traceback",
        "publish",
        "--yes",
        "--again",
        str(draft),
    )
    assert wrong.exit_code == 1 and "log in again" in wrong.stderr
    outputs += [wrong.stdout, wrong.stderr]
    # `login mastodon` saves its token 0600 and never shows it.
    login = _cli(
        env,
        "login",
        "mastodon",
        "--instance",
        server.url,
        input=server.authorization_code + "\n",
    )
    assert login.exit_code == 0, login.stderr
    outputs += [login.stdout, login.stderr]
    credentials = tmp_path / "m" / "state" / "mastodon-credentials.json"
    assert _mode(credentials) == 0o600
    saved_token = json.loads(credentials.read_text())["access_token"]
    assert _mode(tmp_path / "m" / "threadpost.db") == 0o600

    # -- Bluesky: killed mid-publish, resumed from the saved session; a wrong password ------
    handle = pds_harness.unique_handle("sec")
    shared_pds.create_account(handle, BLUESKY_PASSWORD)
    (tmp_path / "b").mkdir()
    benv = cli_env(
        tmp_path / "b",
        THREADPOST_BLUESKY_SERVICE=shared_pds.url,
        THREADPOST_BLUESKY_HANDLE=handle,
        THREADPOST_BLUESKY_APP_PASSWORD=BLUESKY_PASSWORD,
    )
    bdraft = write_thread_draft(tmp_path / "b" / "draft", "bluesky", "secrets")
    killed = publish_and_kill(bdraft, 4, benv)
    assert killed.returncode == -signal.SIGKILL
    outputs += [killed.stdout, killed.stderr]
    resumed = run_resume(benv)
    assert resumed.exit_code == 0, resumed.stderr
    outputs += [resumed.stdout, resumed.stderr]
    wrong_pass = _cli(
        {
            **benv,
            "THREADPOST_BLUESKY_APP_PASSWORD": WRONG_PASSWORD,
            "THREADPOST_STATE_DIR": str(tmp_path / "b" / "other-state"),
        },
        "--traceback",
        "publish",
        "--yes",
        "--again",
        str(bdraft),
    )
    assert wrong_pass.exit_code == 1, wrong_pass.stderr
    outputs += [wrong_pass.stdout, wrong_pass.stderr]
    sessions = list((tmp_path / "b" / "state").rglob("session-*.json"))
    assert len(sessions) == 1 and _mode(sessions[0]) == 0o600
    session = json.loads(sessions[0].read_text())["session"]
    session_parts = [part for part in session.split(":") if part.startswith("eyJ")]  # JWTs
    assert session_parts, "the session string holds the JWTs"
    assert _mode(tmp_path / "b" / "threadpost.db") == 0o600

    # -- the search ------------------------------------------------------------------------
    secrets = [
        MASTODON_TOKEN,
        WRONG_TOKEN,
        saved_token,
        BLUESKY_PASSWORD,
        WRONG_PASSWORD,
        session,
        *session_parts,
    ]
    holders = {credentials, sessions[0]}
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p not in holders]
    assert any(p.name == "threadpost.db" for p in files)
    blobs = {f"output {n}": text.encode() for n, text in enumerate(outputs)}
    blobs.update({str(p): p.read_bytes() for p in files})
    for where, data in blobs.items():
        for secret in secrets:
            assert secret.encode() not in data, f"a secret leaked into {where}"
    # The server's request log (printed by failing tests) keeps no token either.
    assert all(MASTODON_TOKEN not in json.dumps(r.headers) for r in server.requests)


def test_a_config_file_with_a_secret_readable_by_others_draws_a_warning(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    config = Path(env["THREADPOST_CONFIG"])
    config.write_text(
        f'[mastodon]\ninstance = "https://mastodon.example"\naccess_token = "{MASTODON_TOKEN}"\n'
    )
    config.chmod(0o644)
    loud = _cli(env, "queue")
    assert loud.exit_code == 0, loud.stderr
    assert f"Warning: {config} holds a secret and can be read by other users" in loud.stderr
    assert f"chmod 600 {config}" in loud.stderr
    config.chmod(0o600)
    quiet = _cli(env, "queue")
    assert quiet.exit_code == 0 and "Warning" not in quiet.stderr
    for result in (loud, quiet):
        assert MASTODON_TOKEN not in result.stdout + result.stderr


def secret_forms(secret: str) -> set[str]:
    """Every way a secret may be written into text: as is, JSON-escaped, Python-escaped (the
    repr of an exception's arguments in a traceback), both nested, URL-encoded, base64."""
    json_escaped = json.dumps(secret)[1:-1]
    return {
        secret,
        json_escaped,
        repr(secret)[1:-1],
        repr(json_escaped)[1:-1],
        json.dumps(json_escaped)[1:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    }


def assert_no_form_of(secret: str, *texts: str) -> None:
    for form in secret_forms(secret):
        for text in texts:
            assert form not in text, f"the secret leaked as {form!r} in:\n{text}"


def test_the_forms_searched_differ_for_a_password_with_a_quote_and_a_backslash() -> None:
    # Guards the search below: with a plain token every form would be the raw string.
    assert '"' in ESCAPED_PASSWORD and "\\" in ESCAPED_PASSWORD
    assert len(secret_forms(ESCAPED_PASSWORD)) >= 8


@pytest.mark.parametrize("status", [401, 403, 400])
def test_a_token_the_server_echoes_in_a_refusal_is_not_printed_even_with_traceback(
    mastodon_cell: MastodonTestServer, tmp_path: Path, status: int
) -> None:
    server = mastodon_cell
    username = "e" + os.urandom(5).hex()
    server.add_account(username, token=MASTODON_TOKEN)
    env = cli_env(
        tmp_path,
        THREADPOST_MASTODON_INSTANCE=server.url,
        THREADPOST_MASTODON_TOKEN=MASTODON_TOKEN,
    )
    fault = server.faults.add("echo_authorization", "/api/v1/*", status=status)
    draft = write_thread_draft(tmp_path / "draft", "mastodon", "echo")
    result = _cli(env, "--traceback", "publish", "--yes", str(draft))
    assert fault.fired == 1, "the echoing answer was sent"
    assert result.exit_code == 1, result.stderr
    # The traceback and the refusal are shown, the token in neither.
    assert "Traceback (most recent call last)" in result.stderr
    assert f"(HTTP {status}: Not allowed" in result.stderr
    assert_no_form_of(MASTODON_TOKEN, result.stdout, result.stderr)
    assert "(Authorization: Bearer " in result.stderr, "the quoted header is shown, redacted"
    assert server.published(username) == []


class _EchoingPds:
    """A PDS stand-in whose createSession refuses with an error quoting the request body
    (the JSON the client sent, password JSON-escaped); every other call is a 404."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.bodies: list[bytes] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.endswith("/com.atproto.server.createSession"):
                    owner.bodies.append(body)
                    name = "AuthenticationRequired" if owner.status == 401 else "InvalidRequest"
                    error = {"error": name, "message": f"Invalid login {body.decode()}"}
                    self._send(owner.status, error)
                else:
                    self._send(404, {"error": "MethodNotImplemented", "message": "no"})

            def do_GET(self) -> None:
                self._send(404, {"error": "MethodNotImplemented", "message": "no"})

            def _send(self, status: int, body: object) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> _EchoingPds:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(params=[401, 400])
def echoing_pds(request: pytest.FixtureRequest) -> Iterator[_EchoingPds]:
    with _EchoingPds(request.param) as server:
        yield server


def test_a_password_the_server_echoes_json_escaped_is_not_printed_even_with_traceback(
    echoing_pds: _EchoingPds, tmp_path: Path
) -> None:
    env = cli_env(
        tmp_path,
        THREADPOST_BLUESKY_SERVICE=echoing_pds.url,
        THREADPOST_BLUESKY_HANDLE="echo.test",
        THREADPOST_BLUESKY_APP_PASSWORD=ESCAPED_PASSWORD,
    )
    draft = write_thread_draft(tmp_path / "draft", "bluesky", "echo")
    result = _cli(env, "--traceback", "publish", "--yes", str(draft))
    # The server did quote the password back, JSON-escaped.
    assert echoing_pds.bodies and json.dumps(ESCAPED_PASSWORD).encode() in echoing_pds.bodies[0]
    assert result.exit_code == 1, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert f"HTTP {echoing_pds.status}" in result.stderr and "Invalid login" in result.stderr
    assert_no_form_of(ESCAPED_PASSWORD, result.stdout, result.stderr)


def test_a_password_echoed_to_a_scheduled_run_stays_out_of_the_ledger(tmp_path: Path) -> None:
    with _EchoingPds(401) as pds:
        env = cli_env(tmp_path, THREADPOST_BLUESKY_SERVICE=pds.url)
        # In the config file, where a cron job finds it (json.dumps: a valid TOML string).
        config = tmp_path / "config.toml"
        config.write_text(
            f'[bluesky]\nhandle = "echo.test"\napp_password = {json.dumps(ESCAPED_PASSWORD)}\n'
        )
        config.chmod(0o600)
        draft = write_thread_draft(tmp_path / "draft", "bluesky", "echo")
        scheduled = _cli(env, "schedule", "--offline", "--at", "+1m", str(draft))
        assert scheduled.exit_code == 0, scheduled.stderr
        # Due now: the schedule moved a minute back (no clock to inject into the CLI).
        due = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        with sqlite3.connect(tmp_path / "threadpost.db") as conn:
            conn.execute("UPDATE threads SET schedule_at = ?", (due,))
        conn.close()
        ran = _cli(env, "run")
        status = _cli(env, "status")
    assert pds.bodies, "run did log in and the server echoed the password"
    assert ran.exit_code == 4 and "incomplete" in ran.stdout + ran.stderr
    assert_no_form_of(ESCAPED_PASSWORD, ran.stdout, ran.stderr, status.stdout, status.stderr)
    ledger = b"".join(p.read_bytes() for p in tmp_path.glob("threadpost.db*") if p.is_file())
    assert_no_form_of(ESCAPED_PASSWORD, ledger.decode("utf-8", errors="replace"))
