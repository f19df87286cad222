"""The Mastodon OAuth address shows the person only what threadpost asks for."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from threadpost.platforms.mastodon.auth import (
    REDIRECT_OOB,
    SCOPES,
    AppRegistration,
    authorization_url,
)


def test_authorization_url_has_no_none_parameters() -> None:
    app = AppRegistration(instance="https://example.social/", client_id="abc", client_secret="s")
    url = authorization_url(app)
    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://example.social/oauth/authorize"
    )
    assert "None" not in url
    query = parse_qs(parts.query)
    assert query == {
        "client_id": ["abc"],
        "response_type": ["code"],
        "redirect_uri": [REDIRECT_OOB],
        "scope": [" ".join(SCOPES)],
        "force_login": ["true"],
    }
