"""Planned threads → problems: everything that would fail or surprise, found before sending.

Offline checks are pure (text, facets, front matter, image files). With the network, links
are followed and Bluesky handles resolved (`linkcheck`, which alone imports httpx).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from threadpost import platforms as networks
from threadpost.clock import local_time, zone_name
from threadpost.draft_template import unedited_posts
from threadpost.platforms.rules import rules_for
from threadpost.values import PLATFORMS, PlatformLimits, PlatformName, Problem, Severity

# The image, video and captions checks import their readers when a post has attachments,
# and the link checker only its result types here: a text-only thread loads none of them.
if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.draft import Draft, Image
    from threadpost.images import ImageError, ImageInfo
    from threadpost.linkcheck import HandleResult, LinkResult, ProgressSink
    from threadpost.plan import Continuation, PlannedPost, Thread
    from threadpost.preview_accounts import PreviewAccount
    from threadpost.video_route import VideoRoute
    from threadpost.videos import VideoError, VideoInfo

#: What each attached file was found to be, per path (a check run reads each file once).
_MediaCache = dict[Path, "ImageInfo | ImageError | VideoInfo | VideoError"]
#: Checks every URL it is given → result per URL (default: `linkcheck.check_links`).
LinkChecker = Callable[[list[str], "ProgressSink | None"], Mapping[str, "LinkResult"]]
#: Resolves one network's mentioned handles → result per handle (default: the network's
#: own, `threadpost.platforms.NETWORKS[platform].resolve_handles`: Bluesky asks its service).
HandleResolver = Callable[[list[str]], Mapping[str, "HandleResult"]]


@cache
def _host_label() -> re.Pattern[str]:
    """One label of a host name (compiled by the first link checked)."""
    return re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


@dataclass(frozen=True)
class CheckReport:
    """A draft, its plan for each platform, and everything found wrong with it."""

    draft: Draft
    threads: Mapping[PlatformName, Thread]
    problems: tuple[Problem, ...]
    #: Every link followed (empty offline), by URL.
    links: Mapping[str, LinkResult] = field(default_factory=dict)
    offline: bool = True
    #: Who publishes on each planned network (the account chosen, from local files only).
    accounts: Mapping[PlatformName, PreviewAccount] = field(default_factory=dict)
    #: The way videos would go up, on each planned network that has more than one
    #: (`NetworkRules.video_route`: Bluesky's video service or its PDS directly), for the
    #: threads with attachments (the others send no video).
    video_routes: Mapping[PlatformName, VideoRoute] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for problem in self.problems if problem.is_error)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors

    @property
    def ok(self) -> bool:
        """True when nothing stops publishing (warnings allowed)."""
        return self.errors == 0


def check_draft(
    path: Path | str,
    settings: Settings,
    platforms: Sequence[PlatformName] | None = None,
    *,
    offline: bool,
    now: datetime | None = None,
    progress: ProgressSink | None = None,
    link_checker: LinkChecker | None = None,
    handle_resolver: HandleResolver | None = None,
    broken_links: Severity = "error",
    continuation: Mapping[PlatformName, Continuation] | None = None,
) -> CheckReport:
    """Read, plan (for `platforms`, default the draft's) and check one draft.

    `broken_links`: how a link that answers 404 (or whose host does not exist) counts;
    "warning" for `schedule` and `publish --allow-broken-links` (see README, Links).
    `continuation` (`publish --continue`): per network, the thread it goes on under."""
    from threadpost.accounts import draft_account_settings
    from threadpost.draft import read_draft
    from threadpost.preview_accounts import preview_accounts

    draft = read_draft(path)
    settings = draft_account_settings(settings, draft, platforms)
    threads = plan_draft(draft, settings, platforms, offline=offline, continuation=continuation)
    problems, links = _check(
        draft,
        list(threads.values()),
        settings,
        offline=offline,
        now=now,
        progress=progress,
        link_checker=link_checker,
        handle_resolver=handle_resolver,
        broken_links=broken_links,
    )
    authors = preview_accounts(settings)
    accounts = {platform: authors[platform] for platform in threads}
    # (Not asked for a thread without attachments: a publish of text loads no video module.)
    routes = {
        platform: route
        for platform, thread in threads.items()
        if any(post.images for post in thread.posts)
        and (route := rules_for(platform).video_route(settings)) is not None
    }
    return CheckReport(draft, threads, tuple(problems), links, offline, accounts, routes)


def plan_draft(
    draft: Draft,
    settings: Settings,
    platforms: Sequence[PlatformName] | None = None,
    *,
    offline: bool,
    continuation: Mapping[PlatformName, Continuation] | None = None,
    limits: Mapping[PlatformName, PlatformLimits] | None = None,
) -> dict[PlatformName, Thread]:
    """Plan `draft` for each chosen platform (in the draft's order), with each one's limits
    (given in `limits`, as when a frozen plan is re-planned, or read for the network);
    with a `continuation`, only for the networks it continues."""
    from threadpost.plan import plan_thread

    chosen = list(dict.fromkeys(platforms or draft.front.platforms))
    if continuation is not None:
        chosen = [platform for platform in chosen if platform in continuation]
    front = draft.front
    given = limits or {}
    return {
        platform: plan_thread(
            draft,
            given.get(platform) or networks.limits_for(platform, settings, offline=offline),
            # The front matter wins; the configuration fills in what it leaves out.
            visibility=front.visibility or settings.mastodon.visibility,
            reply_visibility=front.reply_visibility or settings.mastodon.reply_visibility,
            link_cards=(
                front.link_cards if front.link_cards is not None else settings.bluesky.link_cards
            ),
            shorten_links=(
                front.shorten_links
                if front.shorten_links is not None
                else settings.bluesky.shorten_links
            ),
            aliases=settings.aliases,
            continuation=None if continuation is None else continuation[platform],
        )
        for platform in chosen
    }


def check_threads(
    draft: Draft,
    threads: Sequence[Thread],
    settings: Settings,
    *,
    offline: bool,
    now: datetime | None = None,
    progress: ProgressSink | None = None,
    link_checker: LinkChecker | None = None,
    handle_resolver: HandleResolver | None = None,
) -> list[Problem]:
    """All problems of `draft` planned as `threads`: planning's own, then the checks'."""
    problems, _ = _check(
        draft,
        threads,
        settings,
        offline=offline,
        now=now,
        progress=progress,
        link_checker=link_checker,
        handle_resolver=handle_resolver,
    )
    return problems


def _check(
    draft: Draft,
    threads: Sequence[Thread],
    settings: Settings,
    *,
    offline: bool,
    now: datetime | None,
    progress: ProgressSink | None,
    link_checker: LinkChecker | None,
    handle_resolver: HandleResolver | None,
    broken_links: Severity = "error",
) -> tuple[list[Problem], dict[str, LinkResult]]:
    problems: list[Problem] = []
    problems += check_front_matter(draft, settings, now=now)
    images: _MediaCache = {}
    for thread in threads:
        problems += thread.problems
        problems += rules_for(thread.platform).thread_problems(thread, draft.front)
        problems += check_thread(thread, settings, image_cache=images)
    links: dict[str, LinkResult] = {}
    if not offline:
        links = dict(_follow_links(threads, settings, progress, link_checker))
        down = network_seems_down(links)
        if down:
            problems.append(
                Problem(
                    "warning",
                    "network-unavailable",
                    f"none of the {len(links)} links could be reached (no host answered): "
                    "this machine seems to be offline, so link failures are only warnings; "
                    "check again with a connection, or use --offline",
                )
            )
        problems += link_problems(threads, links, network_down=down, broken=broken_links)
        problems += handle_problems(threads, _resolve(threads, settings, handle_resolver))
        for thread in threads:
            problems += networks.NETWORKS[thread.platform].quote_problems(thread, settings)
    return _ordered(once_per_draft(problems)), links


def check_front_matter(
    draft: Draft, settings: Settings, *, now: datetime | None = None
) -> list[Problem]:
    """Draft-wide problems: the language tag, a schedule already past, the text of
    `threadpost new`'s template left as it was."""
    problems: list[Problem] = []
    for index in unedited_posts(draft):
        post = draft.posts[index - 1]
        problems.append(
            Problem(
                "error",
                "template-text",
                f"post {index} is still the template's text from `threadpost new`: write your own",
                post=index,
                line=post.line,
            )
        )
    lines = draft.front.lines
    lang = draft.front.lang
    if lang is not None:
        from threadpost.language_tags import is_language_tag

        if not is_language_tag(lang):
            problems.append(
                Problem(
                    "error",
                    "invalid-lang",
                    f'lang {lang!r} is not a language tag (BCP 47), e.g. "en", "fr" or "pt-BR"',
                    line=lines.get("lang"),
                )
            )
    schedule = draft.front.schedule
    if schedule is not None:
        when = schedule if schedule.tzinfo else schedule.replace(tzinfo=settings.timezone)
        current = now or datetime.now(tz=settings.timezone)
        if when <= current:
            # A time written without a zone was read in the configured one: name it.
            named = zone_name(settings.timezone)
            zone = "" if schedule.tzinfo or named == "UTC" else f" ({named})"
            problems.append(
                Problem(
                    "error",
                    "schedule-past",
                    f"schedule {local_time(when, settings.timezone)}{zone} is in the past",
                    line=lines.get("schedule"),
                )
            )
    return problems


def check_thread(
    thread: Thread,
    settings: Settings,
    *,
    image_cache: _MediaCache | None = None,
) -> list[Problem]:
    """Offline problems of one planned thread: lengths, images, tags, mentions, link syntax."""
    cache = {} if image_cache is None else image_cache
    planned = {(p.post, p.code) for p in thread.problems}
    problems: list[Problem] = []
    for post in thread.posts:
        problems += _post_problems(
            thread, post, settings, cache, planned={c for i, c in planned if i == post.index}
        )
    return problems


def _post_problems(
    thread: Thread,
    post: PlannedPost,
    settings: Settings,
    images: _MediaCache,
    *,
    planned: set[str],
) -> list[Problem]:
    limits = thread.limits

    def problem(severity: Severity, code: str, message: str, line: int | None = None) -> Problem:
        return Problem(
            severity, code, message, thread.platform, post.index, line or post.source_line
        )

    found: list[Problem] = []
    if not post.text.strip() and not post.images:
        found.append(problem("error", "empty-post", "the post is empty"))
    # Planning reports posts it cannot make fit; this catches any other overflow.
    if "too-long" not in planned:
        if post.length > limits.max_graphemes:
            found.append(
                problem(
                    "error",
                    "too-long",
                    f"{post.length} characters, over the limit of {limits.max_graphemes}",
                )
            )
        elif limits.max_bytes is not None and post.bytes > limits.max_bytes:
            found.append(
                problem(
                    "error",
                    "too-long",
                    f"{post.bytes} bytes, over the limit of {limits.max_bytes} bytes",
                )
            )
    if len(post.images) > limits.max_images and "too-many-images" not in planned:
        found.append(
            problem(
                "error",
                "too-many-images",
                f"{len(post.images)} images; {thread.platform} allows at most "
                f"{limits.max_images} per post",
            )
        )
    videos: list[Image] = []
    if post.images:
        from threadpost.videos import is_video

        videos = [image for image in post.images if is_video(image.path)]
    if videos:
        from threadpost.video_limits import mix_finding

        stills = [image.written_path for image in post.images if image not in videos]
        names = [video.written_path for video in videos]
        mixed = mix_finding(names, stills, rules_for(thread.platform).name)
        if mixed is not None:
            # On the line of the video that may not be there (the second, or the one
            # beside images).
            culprit = videos[1] if len(videos) > 1 else videos[0]
            found.append(problem(*mixed, line=culprit.line))
    for image in post.images:
        found += [
            problem(*args)
            for args in _image_problems(
                thread, image, settings, images, alone=len(post.images) == 1
            )
        ]
    found += [problem(*args) for args in _caption_problems(thread, post, has_video=bool(videos))]
    for facet in post.facets:
        if facet.kind == "link":
            reason = link_syntax_problem(facet.value)
            if reason:
                found.append(problem("error", "link-invalid", f"{facet.value}: {reason}"))
    found += [problem(*args) for args in rules_for(thread.platform).post_findings(post)]
    return found


_ImageFinding = tuple[Severity, str, str, int]


def _image_problems(
    thread: Thread, image: Image, settings: Settings, cache: _MediaCache, *, alone: bool = False
) -> list[_ImageFinding]:
    from threadpost.image_fit import limit_finding
    from threadpost.images import ImageError, inspect_image
    from threadpost.videos import VideoError, VideoInfo, is_video

    found: list[_ImageFinding] = []
    rules = rules_for(thread.platform)
    name = image.written_path
    kind = "image"
    if is_video(image.path):
        # The same `![alt](file)` line attaches a video: its own limits (video_limits.py).
        kind = "video"
        found += _video_problems(thread, image, cache)
    elif image.path not in cache:
        try:
            cache[image.path] = inspect_image(image.path)
        except ImageError as error:
            cache[image.path] = error
    info = cache[image.path]
    if isinstance(info, VideoInfo | VideoError):
        pass  # a video's own findings are in already
    elif isinstance(info, ImageError):
        found.append(("error", info.code, f"image {name}: {info.reason}", image.line))
    else:
        # Over the network's limits: a warning when the upload will downscale it to fit,
        # an error when even that cannot (image_fit.py).
        fit = limit_finding(image.path, info, thread.limits, rules.name)
        if fit is not None:
            found.append((fit.severity, fit.code, f"image {name} {fit.reason}", image.line))
        if (
            info.animated
            and not rules.plays_animated_images
            and not rules.animated_image_as_video(image.path, alone=alone)
        ):
            found.append(
                (
                    "warning",
                    "image-animation-lost",
                    f"image {name} is animated, but {rules.name} shows images as still "
                    "pictures: only its first frame will show there",
                    image.line,
                )
            )
    if not image.alt.strip() or is_placeholder_alt(image.alt):
        severity: Severity = "warning" if settings.missing_alt == "warning" else "error"
        what = "only a TODO for alt text" if image.alt.strip() else "no alt text"
        found.append(
            (
                severity,
                "missing-alt",
                f"{kind} {name} has {what}: write ![what the {kind} shows]({name})",
                image.line,
            )
        )
    elif rules.max_alt_length is not None and len(image.alt) > rules.max_alt_length:
        found.append(
            (
                "error",
                "alt-too-long",
                f"alt text of {name} is {len(image.alt)} characters; {rules.name} accepts at "
                f"most {rules.max_alt_length}",
                image.line,
            )
        )
    return found


def _video_problems(thread: Thread, video: Image, cache: _MediaCache) -> list[_ImageFinding]:
    from threadpost.video_limits import video_findings
    from threadpost.videos import VideoError, VideoInfo, inspect_video

    if video.path not in cache:
        try:
            cache[video.path] = inspect_video(video.path)
        except VideoError as error:
            cache[video.path] = error
    info = cache[video.path]
    if isinstance(info, VideoError):
        return [("error", info.code, f"video {video.written_path}: {info.reason}", video.line)]
    if not isinstance(info, VideoInfo):
        return []
    network = rules_for(thread.platform).name
    return [
        (severity, code, message, video.line)
        for severity, code, message in video_findings(
            video.written_path, info, thread.limits, network
        )
    ]


def _caption_problems(thread: Thread, post: PlannedPost, *, has_video: bool) -> list[_ImageFinding]:
    """A post's `> captions` files: checked where the network takes captions, a warning
    where it does not, an error without a video to go with."""
    if not post.captions:
        return []
    from threadpost.captions import caption_findings, without_video_finding

    alone = without_video_finding(post.captions)
    if not has_video and alone is not None:
        return [alone]
    rules = rules_for(thread.platform)
    if rules.captions is None:
        langs = ", ".join(caption.lang for caption in post.captions)
        return [
            (
                "warning",
                "captions-not-sent",
                f"captions ({langs}) are not sent to {rules.name}, which takes no captions "
                "files for videos: the video goes there without them; say what is spoken "
                "in the video's alt text for its readers",
                post.captions[0].line,
            )
        ]
    return caption_findings(post.captions, rules.captions, rules.name)


def is_placeholder_alt(alt: str) -> bool:
    """True for an alt text that is a marked TODO (as `import` writes), not a description."""
    return alt.strip().upper().startswith("TODO")


def link_syntax_problem(uri: str) -> str | None:
    """Why `uri` is not a usable web address, or None when it is."""
    if any(ch.isspace() for ch in uri):
        return "contains whitespace"
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        return f"malformed address ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'}: is not http or https"
    host = parts.hostname
    if not host:
        return "has no host name"
    if port == 0:
        return "port 0 is not a port"
    if host.startswith("[") or ":" in host or re.fullmatch(r"[\d.]+", host):
        return None  # an IP literal
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return f"host name {host!r} is not a valid domain name"
    labels = ascii_host.rstrip(".").split(".")
    if len(ascii_host) > 253 or not all(_host_label().match(label) for label in labels):
        return f"host name {host!r} is not a valid domain name"
    return None


#: Problems about a name rather than a post: reported once per draft and platform.
_ONCE_PER_DRAFT: Final = frozenset({"mention-not-handle"})


def once_per_draft(problems: list[Problem]) -> list[Problem]:
    """Keep the first of each repeated per-name warning (the others' posts are listed in it)."""
    first: dict[tuple[str | None, str, str], int] = {}
    also: dict[int, list[int]] = {}
    kept: list[Problem] = []
    for problem in problems:
        if problem.code not in _ONCE_PER_DRAFT:
            kept.append(problem)
            continue
        key = (problem.platform, problem.code, problem.message)
        if key in first:
            if problem.post is not None:
                also[first[key]].append(problem.post)
            continue
        first[key] = len(kept)
        also[len(kept)] = []
        kept.append(problem)
    for index, posts in also.items():
        shown = [post for post in dict.fromkeys(posts) if post != kept[index].post]
        if shown:
            where = ", ".join(str(post) for post in shown)
            suffix = f" (also in post{'s' if len(shown) > 1 else ''} {where})"
            kept[index] = replace(kept[index], message=kept[index].message + suffix)
    return kept


def links_now(
    threads: Sequence[Thread], settings: Settings, *, link_checker: LinkChecker | None = None
) -> list[Problem]:
    """The link problems of planned `threads`, every link followed now (not from the day-old
    cache), a dead one as a warning: `run` re-checks a scheduled thread's links with it."""
    links = _follow_links(threads, settings, None, link_checker, cached=False)
    return link_problems(threads, links, network_down=network_seems_down(links), broken="warning")


def _follow_links(
    threads: Sequence[Thread],
    settings: Settings,
    progress: ProgressSink | None,
    checker: LinkChecker | None,
    *,
    cached: bool = True,
) -> Mapping[str, LinkResult]:
    urls = [
        facet.value
        for thread in threads
        for post in thread.posts
        for facet in post.facets
        if facet.kind == "link" and link_syntax_problem(facet.value) is None
    ]
    urls = list(dict.fromkeys(urls))
    if not urls:
        return {}
    if checker is not None:
        return checker(urls, progress)
    from threadpost.linkcheck import check_links

    cache_dir = settings.state_dir if cached else None
    return check_links(urls, cache_dir=cache_dir, progress=progress)


_TRANSPORT_FAILURES: Final = frozenset({"dns", "refused", "timeout", "tls", "error"})


def network_seems_down(links: Mapping[str, LinkResult]) -> bool:
    """True when links on two or more hosts were asked now and none got any answer.

    One unresolvable host is most likely a typo (an error worth reporting); every host
    failing at once is more likely a machine without a network.
    """
    fresh = [result for result in links.values() if not result.cached]
    hosts = {urlsplit(result.url).hostname for result in fresh}
    return len(hosts) >= 2 and all(result.outcome in _TRANSPORT_FAILURES for result in fresh)


def link_problems(
    threads: Iterable[Thread],
    links: Mapping[str, LinkResult],
    *,
    network_down: bool = False,
    broken: Severity = "error",
) -> list[Problem]:
    """A problem for every post whose link is dead, failing or redirected.

    With `network_down`, failures are warnings: they say nothing about the draft. `broken`
    is the severity of a dead link (404, no such host).
    """
    found: list[Problem] = []
    for thread in threads:
        for post in thread.posts:
            seen: set[str] = set()
            for facet in post.facets:
                result = links.get(facet.value)
                if facet.kind != "link" or result is None or facet.value in seen:
                    continue
                seen.add(facet.value)
                finding = _link_finding(result)
                if finding is not None:
                    severity, code, message = finding
                    if network_down or (code == "link-broken" and broken == "warning"):
                        severity = "warning"
                    found.append(
                        Problem(
                            severity, code, message, thread.platform, post.index, post.source_line
                        )
                    )
    return found


def _link_finding(result: LinkResult) -> tuple[Severity, str, str] | None:
    """Dead links are errors; failures that may pass (5xx, timeouts, refusals) are warnings."""
    url = result.url
    if result.ok:
        if result.redirected:
            return ("warning", "link-redirected", f"{url} redirects to {result.final_url}")
        return None
    status = result.status
    if result.outcome == "http" and status is not None:
        where = f" (after redirecting to {result.final_url})" if result.redirected else ""
        if status in (401, 403, 429) or status >= 500:
            return ("warning", "link-failing", f"{url}: {result.reason}{where}")
        return ("error", "link-broken", f"{url}: {result.reason}{where}")
    if result.outcome == "dns":
        return ("error", "link-broken", f"{url}: {result.reason}")
    return ("warning", "link-unreachable", f"{url}: {result.reason}")


def _mention_handles(threads: Iterable[Thread]) -> dict[PlatformName, list[str]]:
    """Per network, the distinct handles its rules want resolved (networks with none left out)."""
    wanted: dict[PlatformName, dict[str, None]] = {}
    for thread in threads:
        for handle in rules_for(thread.platform).mention_handles(thread):
            wanted.setdefault(thread.platform, {})[handle] = None
    return {platform: list(handles) for platform, handles in wanted.items()}


def _resolve(
    threads: Sequence[Thread], settings: Settings, resolver: HandleResolver | None
) -> Mapping[str, HandleResult]:
    """Each network's mentioned handles, resolved by that network (or by `resolver`)."""
    resolved: dict[str, HandleResult] = {}
    for platform, handles in _mention_handles(threads).items():
        if resolver is not None:
            resolved.update(resolver(handles))
        else:
            resolved.update(networks.NETWORKS[platform].resolve_handles(handles, settings))
    return resolved


def handle_problems(
    threads: Iterable[Thread], resolved: Mapping[str, HandleResult]
) -> list[Problem]:
    """A warning for every mention whose handle the network's rules had resolved
    (`NetworkRules.mention_handles`: Bluesky's) and that does not resolve to an account."""
    found: list[Problem] = []
    for thread in threads:
        rules = rules_for(thread.platform)
        asked = set(rules.mention_handles(thread))
        for post in thread.posts:
            for facet in post.facets:
                handle = facet.value.removeprefix("@")
                if facet.kind != "mention" or handle not in asked:
                    continue
                result = resolved.get(handle)
                if result is None or result.did is not None:
                    continue
                if result.missing:
                    message = (
                        f"@{result.handle} does not resolve to a {rules.name} account "
                        f"({result.reason}): it will be sent as plain text"
                    )
                else:
                    message = f"@{result.handle} could not be looked up: {result.reason}"
                found.append(
                    Problem(
                        "warning",
                        "mention-unresolved",
                        message,
                        thread.platform,
                        post.index,
                        post.source_line,
                    )
                )
    return found


def _ordered(problems: list[Problem]) -> list[Problem]:
    """Draft-wide first, then by platform (mastodon, bluesky) and post; stable otherwise."""

    order: dict[str, int] = {name: index for index, name in enumerate(PLATFORMS)}

    def key(problem: Problem) -> tuple[int, int]:
        return (order.get(problem.platform or "", -1), problem.post or 0)

    return sorted(problems, key=key)
