"""An imported thread's X-style mention, aliased to a Bluesky account, published to the
local reference PDS: the mention facet covers the alias handle and carries its DID."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import pds_harness
from threadpost.check import plan_draft
from threadpost.config import Alias, BlueskySettings, Settings
from threadpost.draft import read_draft
from threadpost.importer.run import import_text
from threadpost.linkcard import LinkCard, LinkCardError
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.values import PostRef

pytestmark = pytest.mark.pds

UNROLLED = Path(__file__).resolve().parents[1] / "data" / "import" / "unrolled.txt"
POST = "app.bsky.feed.post"


def no_cards(url: str) -> LinkCard:
    raise LinkCardError(f"{url}: not fetched in tests")


def test_aliased_mention_resolves_to_the_local_accounts_did(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    friend = pds.create_account(pds_harness.unique_handle("al"), "alias-password-1")
    report = import_text(UNROLLED, tmp_path / "drafts")
    draft = read_draft(report.written[0].path)
    assert "@SomeName's car" in draft.posts[2].text
    settings = Settings(
        config_path=None,
        db_path=tmp_path / "ledger.db",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
        bluesky=BlueskySettings(
            service=pds.url, handle=pds_account["handle"], app_password=pds_account["password"]
        ),
        aliases={"@SomeName": Alias(mastodon="@some@example.social", bluesky=friend["handle"])},
    )
    thread = plan_draft(draft, settings, ["bluesky"], offline=True)["bluesky"]
    third = thread.posts[2]
    expected = f"And the bike never gets stuck in traffic, unlike @{friend['handle']}'s car. 3/3"
    assert third.text == expected
    [mention] = [facet for facet in third.facets if facet.kind == "mention"]
    start = len(b"And the bike never gets stuck in traffic, unlike ")
    assert (mention.byte_start, mention.byte_end) == (start, start + 1 + len(friend["handle"]))

    publisher = BlueskyPublisher(settings, link_card_fetcher=no_cards)
    keys = publisher.post_keys("import-aliases", thread)
    refs: list[PostRef] = []
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    assert len(refs) == 3
    value = pds.get_record(pds_account["did"], POST, keys[2].key)["value"]
    assert value["text"] == expected
    [facet] = value["facets"]
    assert facet["index"] == {"byteStart": mention.byte_start, "byteEnd": mention.byte_end}
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#mention", "did": friend["did"]}]
    assert value["text"].encode()[start : mention.byte_end].decode() == f"@{friend['handle']}"
    assert publisher.warnings == []
    publisher.close()
