"""Logging in to Bluesky: createSession and refreshSession, two plain XRPC procedures.

Both answer `{did, handle, accessJwt, refreshJwt, didDoc?}`. The DID document, when the
server sends one, names the account's own PDS (`#atproto_pds`): an entryway such as
bsky.social logs the account in, its PDS serves the repository, so later calls go there
(as the atproto SDK does). An answer without the four fields is unreadable, a retryable
`TransientError` (`answers.unreadable_answer`), never a session half made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from threadpost.platforms.bluesky.answers import string_field
from threadpost.platforms.bluesky.session import Session
from threadpost.platforms.bluesky.xrpc import XrpcClient, XrpcTransport

CREATE_SESSION: Final = "com.atproto.server.createSession"
REFRESH_SESSION: Final = "com.atproto.server.refreshSession"
_SESSION_FIELDS: Final = ("did", "handle", "accessJwt", "refreshJwt")
_PDS_SERVICE_ID: Final = "#atproto_pds"
_PDS_SERVICE_TYPE: Final = "AtprotoPersonalDataServer"


def create_session(
    net: XrpcTransport, client: XrpcClient, identifier: str, password: str
) -> Session:
    """createSession with the handle and app password: the new session, whose endpoint is
    the PDS its DID document names (else `client`'s service)."""
    what = "logging in"
    answer = net.invoke(
        client,
        CREATE_SESSION,
        body={"identifier": identifier, "password": password},
        what=what,
        auth_call=True,
        require=_SESSION_FIELDS,
    )
    return _session(answer, what, pds_endpoint(answer.get("didDoc")) or client.base_url)


def refresh_session(net: XrpcTransport, current: Session, service: str) -> Session:
    """refreshSession with `current`'s refresh token (single use: the answer rotates both
    tokens), sent to the account's PDS; the rotated session keeps its endpoint."""
    what = "refreshing the session"
    client = net.new_client(base_url=current.base_url(service), token=current.refresh_jwt)
    answer = net.invoke(
        client, REFRESH_SESSION, procedure=True, what=what, auth_call=True, require=_SESSION_FIELDS
    )
    return _session(answer, what, current.pds_endpoint)


def _session(answer: Mapping[str, Any], what: str, endpoint: str | None) -> Session:
    def text(name: str) -> str:
        return string_field(answer, name, what=what, post=None)

    return Session(
        handle=text("handle"),
        did=text("did"),
        access_jwt=text("accessJwt"),
        refresh_jwt=text("refreshJwt"),
        pds_endpoint=endpoint,
    )


def pds_endpoint(did_doc: Any) -> str | None:
    """The http(s) endpoint of the `#atproto_pds` service of a DID document, or None."""
    if not isinstance(did_doc, Mapping):
        return None
    did = did_doc.get("id")
    services = did_doc.get("service")
    if not isinstance(services, list):
        return None
    for service in services:
        if not isinstance(service, Mapping):
            continue
        ident = service.get("id")
        if ident not in (_PDS_SERVICE_ID, f"{did}{_PDS_SERVICE_ID}"):
            continue
        if service.get("type") != _PDS_SERVICE_TYPE:
            continue
        endpoint = service.get("serviceEndpoint")
        if isinstance(endpoint, str):
            parts = urlsplit(endpoint)
            if parts.scheme in ("http", "https") and parts.hostname:
                return endpoint
    return None
