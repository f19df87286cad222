"""threadpost.redact: registered secrets are replaced in every spelling, credential shapes are
blanked in diagnostics, and the CLI's streams pass through it."""

from __future__ import annotations

import base64
import io
import json
import logging
import sys
import traceback
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadpost.cli.app import print_traceback
from threadpost.redact import (
    PLACEHOLDER,
    RedactingStream,
    forget_secrets,
    redact,
    redact_known,
    redacting_streams,
    register_secrets,
)

PASSWORD = 'pass"word\\with/odd+chars é'
TOKEN = "SECRET-token-abcdef123456"


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def spellings(secret: str) -> list[str]:
    """Written out by hand (not with the module's own encoders)."""
    escaped = json.dumps(secret)[1:-1]
    return [
        secret,
        escaped,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        repr(escaped)[1:-1],
        quote(secret, safe=""),
        quote(secret, safe="").lower(),
        quote_plus(secret),
        base64.b64encode(secret.encode()).decode(),
    ]


@pytest.mark.parametrize("index", range(9))
def test_every_spelling_of_a_registered_secret_is_replaced(index: int) -> None:
    register_secrets(PASSWORD)
    form = spellings(PASSWORD)[index]
    text = f"before {form} after"
    assert redact_known(text) == f"before {PLACEHOLDER} after"


def test_a_secret_quoted_back_in_a_json_error_body() -> None:
    register_secrets(PASSWORD)
    body = json.dumps({"error": "AuthenticationRequired", "request": {"password": PASSWORD}})
    cleaned = redact_known(f"HTTP 401: {body}")
    assert PLACEHOLDER in cleaned
    assert all(form not in cleaned for form in spellings(PASSWORD))
    assert '"error": "AuthenticationRequired"' in cleaned, "the rest is kept"


def test_nothing_registered_changes_nothing_in_known_mode() -> None:
    text = "Bearer abcdefghijklmnop password=hunter2hunter2"
    assert redact_known(text) == text


def test_blank_and_missing_values_are_not_secrets() -> None:
    register_secrets(None, "", "   ")
    assert redact_known("a b c") == "a b c"


def test_a_short_secret_is_replaced_only_as_a_whole_word() -> None:
    register_secrets("x7k")
    assert redact_known("example x7kx and x7k.") == f"example x7kx and {PLACEHOLDER}."


def test_forget_secrets_starts_afresh() -> None:
    register_secrets(TOKEN)
    forget_secrets()
    assert redact_known(TOKEN) == TOKEN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi_jkl", f"Authorization: Bearer {PLACEHOLDER}"),
        ("authorization: basic dXNlcjpwYXNzd29yZA==", f"authorization: basic {PLACEHOLDER}"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", f"token {PLACEHOLDER}"),
        ('{"password": "hun\\"ter2"}', f'{{"password": "{PLACEHOLDER}"}}'),
        ("?access_token=abcdefgh12345&x=1", f"?access_token={PLACEHOLDER}&x=1"),
        ("client_secret: 'Zx9-secret-value'", f"client_secret: '{PLACEHOLDER}'"),
        ("refreshJwt=AAAAAAAAAAAAAAAA", f"refreshJwt={PLACEHOLDER}"),
    ],
)
def test_credential_shapes_are_blanked_in_diagnostics(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Bearer tokens are sent in a header",
        "access_token=self._token,",  # a source line in a traceback
        "password = bluesky.app_password",
        "no app password for alice.test",
        'raise AuthFailed("the server refused the credentials")',
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_redaction_is_idempotent() -> None:
    register_secrets(PASSWORD)
    once = redact(f'Bearer {TOKEN} {{"password": "{json.dumps(PASSWORD)[1:-1]}"}}')
    assert redact(once) == once


def test_the_traceback_of_a_chained_exception_is_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    register_secrets(PASSWORD)
    try:
        try:
            # A library's exception holds the server's answer in its args: the traceback
            # shows their repr, where the password is JSON- then Python-escaped.
            raise ValueError("API returned error", 401, json.dumps({"password": PASSWORD}))
        except ValueError as inner:
            raise RuntimeError("logging in failed") from inner
    except RuntimeError as outer:
        raw = "".join(traceback.format_exception(outer))
        print_traceback(outer)
    printed = capsys.readouterr().err
    assert any(form in raw for form in spellings(PASSWORD)[1:]), "the leak is real"
    assert "ValueError: ('API returned error', 401" in printed
    assert all(form not in printed for form in spellings(PASSWORD))


def test_the_streams_redact_while_inside_and_are_restored_after() -> None:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        register_secrets(TOKEN)
        with redacting_streams():
            print(f"stdout {TOKEN} password=hunter2hunter2")
            print(f"stderr {TOKEN} password=hunter2hunter2", file=sys.stderr)
            # A library logging where no handler is configured (pytest's own is bypassed
            # here): logging's last resort writes to sys.stderr as it is at that moment.
            library = logging.getLogger("some.library")
            library.propagate = False
            try:
                library.warning("retrying with %s", TOKEN)
            finally:
                library.propagate = True
        restored = sys.stdout, sys.stderr
    finally:
        sys.stdout, sys.stderr = saved
    assert restored == (out, err)
    # stdout carries the user's own text: only registered secrets are replaced there.
    assert out.getvalue() == f"stdout {PLACEHOLDER} password=hunter2hunter2\n"
    assert err.getvalue().splitlines() == [
        f"stderr {PLACEHOLDER} password={PLACEHOLDER}",
        f"retrying with {PLACEHOLDER}",
    ]


def test_a_redacting_stream_answers_like_the_stream_it_wraps() -> None:
    inner = io.StringIO()
    stream = RedactingStream(inner, str.upper)
    assert stream.write("abc") == 3
    stream.writelines(["d", "e"])
    stream.flush()
    assert inner.getvalue() == "ABCDE"
    assert stream.isatty() is False
    assert stream.writable()
    assert stream.getvalue() == "ABCDE"  # anything else goes to the wrapped stream
    inner.close()
    stream.flush()  # a closed wrapped stream is not flushed (no error at collection)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="ABCXYZabcxyz0189._~-", min_size=1, max_size=40)
    | st.text(min_size=1, max_size=12)
)
def test_a_token_of_plain_characters_has_the_forms_every_encoder_would_give(secret: str) -> None:
    """`forms` skips the encoders for a secret of characters none of them changes (a JWT):
    its forms must be those the encoders give."""
    from threadpost import redact as module

    slow = {secret}
    for _ in range(2):
        slow |= {encode(form) for form in slow for encode in module._ENCODERS}
    assert module.forms(secret) >= {form for form in slow if form}
    if module._UNCHANGED_BY_ENCODERS.fullmatch(secret):
        assert all(encode(secret) == secret for encode in module._ENCODERS)
