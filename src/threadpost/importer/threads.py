"""Archived tweets → self-threads → `ImportedThread`s. Pure.

A self-thread is a chain of the author's replies to their own tweets. Decisions:
- The author's id comes from account.js; without it, it is inferred: a reply to a tweet
  that is in the archive is a reply to the author (an archive holds only their tweets).
- A tweet with several self-replies continues with the earliest; each later one starts a
  thread of its own (a branch), its draft noting which tweet it answered.
- A chain whose first tweet replies to someone else is part of a conversation, not a
  thread: it is skipped (and listed), unless asked for by id (`--thread`). Imported, it
  loses the leading @names of the reply (a draft is a new thread, not a reply).
- Photos become images; videos and GIFs cannot be attached by threadpost, so their link
  to the original on X stays in the text (and is listed).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from threadpost.importer.archive import Account, Tweet
from threadpost.importer.model import (
    ImportedImage,
    ImportedPost,
    ImportedThread,
    Note,
    strip_numbering,
)

#: X's language codes that name no language (undetermined, media/hashtag/mention only...).
_NO_LANGUAGE: Final = frozenset({"und", "zxx", "qme", "qht", "qam", "qct", "qst", "qin"})
#: Deprecated codes X still writes, and their BCP 47 replacements.
_LEGACY_LANG: Final = {"in": "id", "iw": "he", "ji": "yi"}
_ENTITY: Final = re.compile(r"&(amp|lt|gt|quot|apos|#39);")
_ENTITY_TEXT: Final = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "#39": "'"}
#: X handles are letters, digits and `_` (15 at most today; older ones a little longer).
_HANDLE: Final = re.compile(r"^[A-Za-z0-9_]{1,50}$")
#: A BCP 47 tag's shape ("en", "pt-BR", "zh-Hant"): anything else is not a language.
_LANGUAGE_TAG: Final = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")
_LEADING_MENTIONS: Final = re.compile(r"^(?:\s*@\w{1,15})+\s*$")


@dataclass(frozen=True)
class Chain:
    """Tweets of one self-thread, in order."""

    tweets: tuple[Tweet, ...]
    #: The root replies to another person's tweet (a conversation, skipped by default).
    replies_to_other: bool = False
    #: The root is a later self-reply (a branch): the tweet it answers.
    branch_of: str | None = None

    @property
    def root(self) -> Tweet:
        return self.tweets[0]


def author_id(tweets: Sequence[Tweet], account: Account | None) -> str | None:
    """The archive's author: from account.js, else the user its self-replies answer."""
    if account is not None:
        return account.id
    ids = {tweet.id for tweet in tweets}
    answered = Counter(
        tweet.reply_to_user
        for tweet in tweets
        if tweet.reply_to_status in ids and tweet.reply_to_user is not None
    )
    return answered.most_common(1)[0][0] if answered else None


def self_threads(tweets: Sequence[Tweet], author: str | None) -> list[Chain]:
    """Every chain of self-replies (a lone tweet is a chain of one), oldest first."""
    by_id = {tweet.id: tweet for tweet in tweets}

    def is_self_reply(tweet: Tweet) -> bool:
        return (
            tweet.reply_to_status in by_id
            and author is not None
            and tweet.reply_to_user in (author, None)
        )

    children: dict[str, list[Tweet]] = defaultdict(list)
    for tweet in tweets:
        if is_self_reply(tweet):
            children[str(tweet.reply_to_status)].append(tweet)
    for replies in children.values():
        replies.sort(key=_order)
    continues = {replies[0].id for replies in children.values()}

    chains: list[Chain] = []
    for root in sorted(tweets, key=_order):
        if root.id in continues:
            continue
        chain = [root]
        while children.get(chain[-1].id):
            chain.append(children[chain[-1].id][0])
        branch_of = root.reply_to_status if is_self_reply(root) else None
        other = (
            root.reply_to_status is not None
            and branch_of is None
            and (author is None or root.reply_to_user != author)
        )
        chains.append(Chain(tuple(chain), replies_to_other=other, branch_of=branch_of))
    return chains


def _order(tweet: Tweet) -> tuple[object, int]:
    return (tweet.created_at, int(tweet.id) if tweet.id.isdigit() else 0)


@dataclass(frozen=True)
class Selection:
    """Chains chosen for import, and why the others were not."""

    chains: tuple[Chain, ...]
    notes: tuple[Note, ...]


def select_chains(
    chains: Sequence[Chain],
    *,
    since: date | None = None,
    until: date | None = None,
    min_posts: int = 2,
    thread_id: str | None = None,
) -> Selection:
    """Apply the filters. `thread_id` (any tweet of the chain) chooses one chain, whatever
    the other filters say."""
    if thread_id is not None:
        chosen = [chain for chain in chains if any(t.id == thread_id for t in chain.tweets)]
        return Selection(tuple(chosen), ())
    picked: list[Chain] = []
    notes: list[Note] = []
    short = early = late = 0
    for chain in chains:
        day = chain.root.created_at.date()
        if len(chain.tweets) < min_posts:
            short += 1
        elif since is not None and day < since:
            early += 1
        elif until is not None and day > until:
            late += 1
        elif chain.replies_to_other:
            whom = chain.root.reply_to_screen_name
            notes.append(
                Note(
                    "reply-to-other",
                    f"thread {chain.root.id} ({len(chain.tweets)} tweets, "
                    f"{day.isoformat()}) starts as a reply to "
                    f"{'@' + whom if whom else 'someone else'}: not imported "
                    f"(import it anyway with --thread {chain.root.id})",
                    chain.root.id,
                )
            )
        else:
            picked.append(chain)
    if short:
        what = "single tweets" if min_posts == 2 else f"threads of fewer than {min_posts} tweets"
        notes.append(Note("too-short", f"{short} {what} (--min-posts {min_posts})"))
    if early:
        notes.append(Note("before-since", f"{early} threads before {since}"))
    if late:
        notes.append(Note("after-until", f"{late} threads after {until}"))
    return Selection(tuple(picked), tuple(notes))


def status_url(tweet_id: str, screen_name: str | None) -> str:
    """The original tweet's address (by `/i/`, which X redirects, when the name is odd)."""
    return f"https://x.com/{_screen_name(screen_name) or 'i'}/status/{tweet_id}"


def _screen_name(name: str | None) -> str | None:
    """`name` if it is shaped like an X handle, else None: it goes into the draft."""
    return name if name is not None and _HANDLE.match(name) else None


def chain_thread(
    chain: Chain, account: Account | None, media_names: Collection[str]
) -> tuple[ImportedThread, list[Note]]:
    """One chain as an `ImportedThread` (and what could not come along)."""
    notes: list[Note] = []
    posts: list[ImportedPost] = []
    for tweet in chain.tweets:
        post, lost = tweet_post(tweet, len(posts) + 1, media_names)
        notes += lost
        if post.text or post.images:
            posts.append(post)
    root = chain.root
    name = account.screen_name if account else None
    when = root.created_at.strftime("%Y-%m-%d %H:%M UTC")
    comments = [f"Imported from X/Twitter: {status_url(root.id, name)}", f"Posted {when}"]
    if chain.branch_of:
        comments.append(f"Continues {status_url(chain.branch_of, name)}")
    if chain.replies_to_other:
        whom = _screen_name(root.reply_to_screen_name)
        comments.append(f"Was a reply to {'@' + whom if whom else 'another account'}")
    return (
        ImportedThread(
            posts=tuple(posts),
            comments=tuple(comments),
            lang=thread_lang(tweet.lang for tweet in chain.tweets),
            created=root.created_at,
            source_id=root.id,
        ),
        notes,
    )


def thread_lang(langs: Iterable[str | None]) -> str | None:
    """The most common language of the tweets ("und" and X's other non-languages ignored)."""
    counted = Counter(
        _LEGACY_LANG.get(lang, lang)
        for lang in langs
        if lang and lang not in _NO_LANGUAGE and _LANGUAGE_TAG.match(lang)
    )
    return counted.most_common(1)[0][0] if counted else None


def tweet_post(
    tweet: Tweet, index: int, media_names: Collection[str]
) -> tuple[ImportedPost, list[Note]]:
    """A tweet's text as the author meant it, and its photos; `index` is its position."""
    text = tweet.full_text
    start = tweet.display_start
    if start and _LEADING_MENTIONS.match(text[:start]):
        text = text[start:]
    notes: list[Note] = []
    images: list[ImportedImage] = []
    media_links: dict[str, str] = {}
    for item in tweet.media:
        name = item.file_name(tweet.id)
        if item.kind == "photo" and name in media_names:
            images.append(ImportedImage(name, item.alt.strip() if item.alt else None))
            continue
        link = item.expanded_url or item.media_url
        if item.tco:
            media_links[item.tco] = link
        kind = "photo" if item.kind == "photo" else "video"
        reason = (
            "is not in the archive's tweets_media folder"
            if item.kind == "photo"
            else f"is a {item.kind.replace('_', ' ')}, which threadpost cannot attach"
        )
        notes.append(
            Note(kind, f"tweet {tweet.id}: {name} {reason}; linked instead: {link}", tweet.id)
        )
    for item in tweet.media:
        if item.tco and item.tco not in media_links:
            # The self-link to the tweet's own photos: they are attached instead.
            text = re.sub(rf"\s*{re.escape(item.tco)}(?=\s*$)", "", text)
            text = text.replace(item.tco, "")
    for tco, link in media_links.items():
        text = text.replace(tco, link)
    for tco, expanded in tweet.urls:
        text = text.replace(tco, expanded)
    text = _ENTITY.sub(lambda match: _ENTITY_TEXT[match.group(1)], text)
    text = strip_numbering(text.strip(), index)
    return ImportedPost(text=text, images=tuple(images)), notes
