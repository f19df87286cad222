"""The HTML preview opened in headless Chromium: what a person would see.

Chromium comes from Debian's packages (`scripts/install-chromium.sh`, run by `make test`).
The screenshot in docs/ is rewritten only when THREADPOST_UPDATE_SCREENSHOTS=1, so a test
run never dirties the tree. The static page and the live one (`watch`, tests/cli/
test_watch.py) are drawn by the same renderer.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from browser import Browser, chromium
from cli_support import REPO_ROOT, run_cli

pytestmark = pytest.mark.browser

SCREENSHOT = REPO_ROOT / "docs" / "preview.png"
# Read at import: the isolated_env fixture clears every THREADPOST_* variable.
UPDATE_SCREENSHOT = os.environ.get("THREADPOST_UPDATE_SCREENSHOTS") == "1"

DRAFT = """+++
title = "Trains & <buses>"
platforms = ["mastodon", "bluesky"]
lang = "en"
+++
Why night trains came back in Europe: a short thread. #NightTrains https://example.com/trains

---

Sleeper cars cost more per seat, but they replace a hotel night. Thanks @Some_Name for the numbers.
![A sleeper compartment with two bunks](bunks.png)
"""


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # The pages are file:// URIs with data: images; their links must never be resolved
        # (no DNS prefetch or preconnect off the machine).
        "--dns-prefetch-disable",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_rendered_dom_shows_both_networks_side_by_side(isolated_env: Path, tmp_path: Path) -> None:
    Image.new("RGB", (60, 40), (30, 90, 200)).save(isolated_env / "bunks.png")
    draft = isolated_env / "trains.md"
    draft.write_text(DRAFT, encoding="utf-8")
    page = tmp_path / "preview.html"
    result = run_cli("preview", "--offline", "--html", str(page), str(draft))
    assert result.exit_code == 0, result.stderr

    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "<title>Trains &amp; &lt;buses&gt; — threadpost preview</title>" in dom
    columns = re.findall(r'<section class="network (\w+)"', dom)
    assert columns == ["mastodon", "bluesky"]
    bluesky = dom[dom.index('<section class="network bluesky"') :]
    mastodon = dom[dom.index('<section class="network mastodon"') : dom.index(bluesky[:40])]
    for column, limit in ((mastodon, "500"), (bluesky, "300")):
        text = html.unescape(re.sub(r"<[^>]+>", "", column))
        assert "Why night trains came back in Europe: a short thread." in text
        assert "Sleeper cars cost more per seat" in text
        assert re.search(rf"\d+/{limit}", text), f"no count against {limit}"
        assert "1/2" in text
        assert "2/2" in text
    assert 'class="tag"' in bluesky
    assert 'href="https://example.com/trains"' in dom
    assert 'alt="A sleeper compartment with two bunks"' in dom
    assert "data:image/png;base64," in dom
    # The Twitter-style mention (no alias) is a warning on each network, under its post.
    assert 'data-code="mention-not-handle"' in bluesky
    assert 'data-code="mention-not-handle"' in mastodon
    assert "0 errors · 2 warnings" in dom


def test_screenshot_of_the_example_draft(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renders drafts/launch-notes.md; keeps it as docs/preview.png only when asked. Run
    from the project's folder as its README says, so the page names the draft as typed."""
    monkeypatch.chdir(REPO_ROOT)
    page = tmp_path / "launch-notes.html"
    result = run_cli("preview", "--offline", "--html", str(page), "drafts/launch-notes.md")
    assert result.exit_code == 0, result.stderr
    assert str(REPO_ROOT) not in page.read_text(encoding="utf-8")
    shot = tmp_path / "preview.png"
    run_chromium(
        tmp_path,
        f"--screenshot={shot}",
        "--window-size=1280,1100",
        "--hide-scrollbars",
        page.as_uri(),
    )
    with Image.open(shot) as image:
        assert image.size == (1280, 1100)
        # A rendered page, not a blank one: many distinct colours (text, images, borders).
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
        assert len(colours) > 50
    if UPDATE_SCREENSHOT:
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def test_the_static_page_fits_a_phone_and_loads_nothing_from_outside(
    isolated_env: Path, tmp_path: Path
) -> None:
    Image.new("RGB", (60, 40), (30, 90, 200)).save(isolated_env / "bunks.png")
    draft = isolated_env / "trains.md"
    long_link = "https://example.com/" + "a-long-path-segment/" * 6
    draft.write_text(DRAFT.replace("https://example.com/trains", long_link), encoding="utf-8")
    page = tmp_path / "preview.html"
    assert run_cli("preview", "--offline", "--html", str(page), str(draft)).exit_code == 0
    with Browser(tmp_path / "profile") as browser:
        browser.page("Network.enable")
        browser.viewport(420, 900, mobile=True)
        browser.open(page.as_uri())
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # One look for both pages: the author line, the avatars, the reply-chain line.
        assert browser.evaluate("document.querySelectorAll('.post .avatar').length") == 4
        assert browser.evaluate("document.querySelectorAll('.post .chain').length") == 2
        requested = [
            event["params"]["request"]["url"]
            for event in browser.events
            if event.get("method") == "Network.requestWillBeSent"
        ]
    assert requested and all(url.startswith(("file:", "data:")) for url in requested), requested
