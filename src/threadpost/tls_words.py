"""A failed secure (TLS) connection, in words a person can act on.

The ssl module says "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed
certificate (_ssl.c:1006)"; what a person needs is what is wrong with the site and what to
try. Every network path that meets a TLS failure (link checks, link cards, Mastodon's
transport) words it here, from the ssl exception found in the error's chain.
"""

from __future__ import annotations

import ssl
from typing import Final

#: OpenSSL's X509_V_ERR codes → what they mean for the person.
_VERIFY_CODES: Final = {
    10: "its security certificate has expired",
    9: "its security certificate is not valid yet (or this computer's clock is wrong)",
    18: "it uses a self-signed security certificate, which this computer does not trust",
    19: "its security certificate is signed by an authority this computer does not trust",
    20: "its security certificate is signed by an authority this computer does not trust",
    21: "its security certificate chain is incomplete",
    62: "its security certificate is for a different address",
    64: "its security certificate is for a different address",
}


def tls_error_in(error: BaseException | None) -> ssl.SSLError | None:
    """The ssl error somewhere in `error`'s chain of causes (None when there is none)."""
    for _ in range(8):
        if error is None:
            return None
        if isinstance(error, ssl.SSLError):
            return error
        error = error.__cause__ or error.__context__
    return None


def plain_tls_reason(error: ssl.SSLError) -> str:
    """What went wrong with the secure connection, and what to do about it."""
    if isinstance(error, ssl.SSLCertVerificationError):
        meaning = _VERIFY_CODES.get(error.verify_code)
        if meaning is None:
            detail = error.verify_message or "unknown reason"
            meaning = f"its security certificate could not be verified ({detail})"
        return f"the secure connection was refused: {meaning}"
    reason = str(error.reason or "")
    if reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE"):
        return (
            "the server did not answer a secure (https) connection; "
            "if it only speaks plain http, use an http:// address"
        )
    if "VERSION" in reason or "PROTOCOL" in reason or "HANDSHAKE" in reason:
        return "the server and threadpost could not agree on a secure connection"
    return "the secure (https) connection failed"
