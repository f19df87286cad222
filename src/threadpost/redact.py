"""Secrets out of every output: the process's known secrets, replaced in any text, in every
form a server, a library or a traceback may write them in.

The code that loads a secret registers it (`register_secrets`: the configured Mastodon token
and Bluesky app password in `config.py`, the Bluesky session tokens as they become known,
the OAuth client secret, code and new token of `login mastodon`). The CLI passes what it
prints through `redact`: errors, hints, warnings and tracebacks on stderr, and stdout through
`redact_known`. A server may quote a secret back in any encoding (a password JSON-escaped in
an error body, an `Authorization` header in a refusal, repr-escaped in an exception's
arguments, URL-encoded in a query), so each secret is searched for in all of them; `redact`
also blanks credentials that were never registered but look like one (Bearer headers, JWTs,
`access_token=…`).

Standard library only, and no threadpost imports: anything may import it.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TextIO
from urllib.parse import quote, quote_plus

#: What a secret is replaced with.
PLACEHOLDER: Final = "[redacted]"

#: Secrets shorter than this are matched only as whole words: a short app password
#: replaced inside every word would garble the output.
_WORD_ONLY_BELOW: Final = 8

_lock = threading.Lock()
_secrets: set[str] = set()
#: Every form of every registered secret, longest first, with whether it is matched only as
#: a whole word.
_forms: list[tuple[str, bool]] = []
#: A `_forms` list and the one pattern of its forms, compiled the first time a text holds
#: one of them: compiling costs ~15 ms a secret (dozens of long forms each), which a run
#: that prints no secret (nearly every run) never spends.
_compiled_for: tuple[list[tuple[str, bool]], re.Pattern[str]] | None = None


def _python_escaped(text: str) -> str:
    """`text` as it appears inside a quoted Python string literal (a repr)."""
    return repr(text + "'\"")[1:-4]  # with both quotes inside, repr escapes the single one


def _lowercase_percent(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


#: One level of escaping each; `forms` applies up to two (JSON inside a repr, and so on).
_ENCODERS: Final[tuple[Callable[[str], str], ...]] = (
    lambda s: json.dumps(s)[1:-1],
    lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    _python_escaped,
    lambda s: repr(s)[1:-1],
    lambda s: quote(s, safe=""),
    lambda s: _lowercase_percent(quote(s, safe="")),
    quote,
    quote_plus,
)


#: Characters every encoder of `_ENCODERS` leaves as they are (URL-unreserved, printable
#: ASCII that JSON and repr never escape): a token made only of them (a JWT, a base64url
#: key) is spelled one way until base64. tests/unit/test_redact.py checks the claim.
_UNCHANGED_BY_ENCODERS: Final = re.compile(r"[A-Za-z0-9._~-]*")


def forms(secret: str) -> set[str]:
    """Every spelling of `secret` searched for: raw, JSON/Python-escaped, URL-encoded (one
    or two of those nested), and base64 (standard and URL-safe, with or without padding)."""
    found = {secret}
    if not _UNCHANGED_BY_ENCODERS.fullmatch(secret):  # a session's JWTs: ~2 ms saved a login
        for _ in range(2):
            found |= {encode(form) for form in found for encode in _ENCODERS}
    raw = secret.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        found |= {text, text.rstrip("=")}
    return {form for form in found if form}


def register_secrets(*secrets: str | None) -> None:
    """Remember secrets (None and blank values are ignored) so that output never shows them."""
    global _forms
    new = {secret.strip() for secret in secrets if secret and secret.strip()}
    with _lock:
        if new <= _secrets:
            return
        _secrets.update(new)
        _forms = _all_forms(_secrets)


def forget_secrets() -> None:
    """Forget every registered secret (a new command run starts afresh)."""
    global _forms
    with _lock:
        _secrets.clear()
        _forms = []


def _all_forms(secrets: Iterable[str]) -> list[tuple[str, bool]]:
    found = {(form, len(secret) < _WORD_ONLY_BELOW) for secret in secrets for form in forms(secret)}
    # Longest first: a form that contains another is replaced whole.
    return sorted(found, key=lambda item: len(item[0]), reverse=True)


def _compiled(known: list[tuple[str, bool]]) -> re.Pattern[str]:
    global _compiled_for
    cached = _compiled_for
    if cached is not None and cached[0] is known:
        return cached[1]
    pattern = re.compile(
        "|".join(
            rf"(?<!\w){re.escape(form)}(?!\w)" if whole_words else re.escape(form)
            for form, whole_words in known
        )
    )
    _compiled_for = (known, pattern)
    return pattern


def redact_known(text: str) -> str:
    """`text` with every registered secret, in every form, replaced by the placeholder."""
    known = _forms
    if not text or not any(form in text for form, _ in known):
        return text  # the common case, decided by substring tests alone
    return _compiled(known).sub(PLACEHOLDER, text)


def redact(text: str) -> str:
    """`redact_known`, and also whatever looks like a credential (Bearer/Basic header values,
    JWTs, `password=`/`access_token:` fields): for diagnostics (errors, tracebacks)."""
    text = redact_known(text)
    bearer, jwt, credential_field = _credential_shapes()
    text = bearer.sub(rf"\1\2{PLACEHOLDER}", text)
    text = jwt.sub(PLACEHOLDER, text)
    return credential_field.sub(_blank_field, text)


@functools.cache
def _credential_shapes() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Credentials nobody registered but whose shape gives them away: a Bearer or Basic
    header's value, a JWT, a `password`/`access_token`/... field's value (quoted, or long and
    token-like: `access_token=self._token` in a traceback's source line is left alone).
    Compiled on first use: most runs print no diagnostics at all."""
    bearer = re.compile(r"(?i)\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/-]{8,}=*")
    jwt = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?")
    credential_field = re.compile(
        r"""(?ix)
        (?P<key>["']?\b(?:access_?token|refresh_?token|access_?jwt|refresh_?jwt|client_?secret
            |app_?password|password)["']?\s*[:=]\s*)
        (?P<value>"(?:[^"\\]|\\.)+"|'(?:[^'\\]|\\.)+'
            |[A-Za-z0-9_~+/%-]{8,}=*(?![A-Za-z0-9_~+/%.-]))
        """
    )
    return bearer, jwt, credential_field


def _blank_field(match: re.Match[str]) -> str:
    value = match.group("value")
    quote_char = value[0] if value[0] in "\"'" else ""
    return f"{match.group('key')}{quote_char}{PLACEHOLDER}{quote_char}"


class RedactingStream(io.TextIOBase):
    """A text stream that passes everything written through `scrub` to the stream it wraps
    (which keeps answering isatty, fileno, encoding and the rest)."""

    def __init__(self, wrapped: TextIO, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self.wrapped = wrapped
        self._scrub = scrub

    def write(self, text: str) -> int:
        self.wrapped.write(self._scrub(text))
        return len(text)  # what the caller gave: the placeholder's length is our business

    def writelines(self, lines: Iterable[str]) -> None:  # type: ignore[override]
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        # Also called when this wrapper is collected, maybe after the wrapped stream closed.
        if not getattr(self.wrapped, "closed", False):
            self.wrapped.flush()

    def isatty(self) -> bool:
        return self.wrapped.isatty()

    def fileno(self) -> int:
        return self.wrapped.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.wrapped, "encoding", "utf-8"))

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.wrapped, "errors", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


@contextmanager
def redacting_streams() -> Iterator[None]:
    """While inside: stderr redacted by `redact`, stdout by `redact_known` (stdout carries
    the user's own text, which may legitimately look like a credential)."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = RedactingStream(stdout, redact_known)
    sys.stderr = RedactingStream(stderr, redact)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr
