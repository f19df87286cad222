"""Where a text may be broken into posts, and how good each place is (English and French).

A break is only ever made in a run of ordinary whitespace: the run is dropped and the text
before and after it become two posts. Each run is ranked:

    PARAGRAPH (a blank line) > LINE (a line break) > SENTENCE > CLAUSE (`,` `;` `:` dashes)
    > WORD (any other whitespace)

Some runs are not break points at all, so French typography stays whole: the space after
`«`/`‹` and before `»`/`›`/`?`/`!`/`:`/`;`/`%` (authors often type an ordinary space where
a non-breaking one belongs). Non-breaking spaces (U+00A0, U+2007, U+202F) and U+2060 are
never break points.

A sentence ends at `.`, `?`, `!`, `…`, `...` or `‽` (optionally followed by closing quotes or
brackets: `."`, `.»`, `.)`, `!»`) when the next word does not start with a lower-case letter,
unless the `.` ends an abbreviation (`M.`, `Dr.`, `av.`, `p.`, `e.g.`…) or an initial
(`J.`). A few abbreviations often end a sentence (`etc.`, `J.-C.`, months): after them a
sentence ends only when an upper-case letter follows. Decimals (`3.14`, `3,14`) hold no
whitespace, so they are never break points to begin with.

Chinese and Japanese put no spaces between words: as Unicode line breaking (UAX #14) allows,
a text may also be broken *between* two CJK characters (ideographs, kana, fullwidth forms and
CJK punctuation), dropping nothing (`end == next_start`). After `。` `！` `？` (and any closing
brackets after them) such a break ends a sentence, after `、` `，` `；` `：` a clause; any other
one ranks as a word break. The Japanese "kinsoku" rules of UAX #14 hold: never before a
closing bracket, `。` `、` small kana, `ー` or an iteration mark, never after an opening
bracket. A break is only made where both neighbours are CJK, so a Latin word, a URL or a
mention glued to CJK text stays whole, and a Latin run without spaces is never broken.

Thai, Lao, Khmer and Myanmar also write without spaces, but their word boundaries need a
dictionary: threadpost does not guess them. Such text breaks only at its spaces (a run too
long for a post without any space is reported as too long), and Korean, which spaces its
words, breaks at spaces like Latin text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache
from operator import itemgetter
from typing import Final, NamedTuple


class BreakKind(IntEnum):
    """How good a break point is; higher is better."""

    WORD = 1
    CLAUSE = 2
    SENTENCE = 3
    LINE = 4
    PARAGRAPH = 5


class Break(NamedTuple):
    """A run of whitespace at which the text may be split: text[end:next_start] is dropped.

    A named tuple rather than a frozen dataclass: a long text has one per word, and a tuple is
    made in a third of the time."""

    end: int  # code-point offset where the text before the break ends
    next_start: int  # code-point offset where the text after it starts
    kind: BreakKind


#: BreakKind by value, to make `Break`s from plain ints.
_KIND_OF: Final = (None, *BreakKind)


@dataclass(slots=True)
class BreakColumns:
    """Break points as three parallel lists, in order: `ends[i]`, `next_starts[i]` and
    `kinds[i]` (a `BreakKind` value, as a plain int) are `Break` i's fields.

    What a planner keeps for a long text. A `Break` per word (141,000 for a 1 MB essay) costs
    its making, and each stays tracked by the garbage collector (its kind, an enum member, is
    an object), so every collection during a plan walked all of them; three lists of ints are
    three objects. `Break`s are made only for a caller that iterates (`list(columns)`).
    """

    ends: list[int] = field(default_factory=list)
    next_starts: list[int] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, breaks: Iterable[Break]) -> BreakColumns:
        found = list(breaks)
        return cls(
            list(map(itemgetter(0), found)),
            list(map(itemgetter(1), found)),
            list(map(int, map(itemgetter(2), found))),
        )

    def __len__(self) -> int:
        return len(self.ends)

    def __iter__(self) -> Iterator[Break]:
        return map(Break, self.ends, self.next_starts, map(_KIND_OF.__getitem__, self.kinds))

    def append(self, end: int, next_start: int, kind: int) -> None:
        self.ends.append(end)
        self.next_starts.append(next_start)
        self.kinds.append(kind)

    def extend(self, other: BreakColumns) -> None:
        self.ends.extend(other.ends)
        self.next_starts.extend(other.next_starts)
        self.kinds.extend(other.kinds)


# Whitespace that may be dropped at a break: \s minus the non-breaking spaces. A class, not a
# look-ahead before each \s: a pattern whose branches start with a class lets `re` skip in C
# to the next place one can match, instead of trying the pattern at every character.
_BREAKABLE: Final = r"[^\S\u00a0\u2007\u202f]"
_BREAKABLE_RUN: Final = re.compile(_BREAKABLE + "+")
#: The same runs, but a lone space or tab between two letters or digits, by far the most
#: common run, is matched without a group: nothing before it ends a sentence or a clause and
#: nothing after it forbids a break, so it is a WORD break without looking further (none of
#: the marks below is a letter or a digit: tests/unit/test_sentences.py checks it). The
#: letter before is looked for behind the space, not ahead of it, for the reason above.
#: Two more kinds of lone space or tab before a letter or digit are told apart without
#: `classify_break`: after a clause mark (group 1, a CLAUSE break) and after a terminator
#: other than "." (group 2, a SENTENCE break unless the letter is lower case, then a WORD
#: break); no abbreviation ends in those marks. Group 3 is any other run.
_RUN_OR_PLAIN_GAP: Final = re.compile(
    r"[ \t](?=[^\W_])"
    r"(?:(?<=[^\W_][ \t])|(?<=[,;:、，；：､][ \t])()|(?<=[?!…‽。！？｡][ \t])())"
    r"|(" + _BREAKABLE_RUN.pattern + ")"
)

#: Never break right after these (the opening guillemet stays with its word).
_NO_BREAK_AFTER: Final = frozenset("«‹¿¡")
#: Never break right before these (French spacing: `mot ?`, `mot »`, `10 %`).
_NO_BREAK_BEFORE: Final = frozenset("»›?!:;%‰")
#: Closing marks that may follow the sentence's terminal punctuation.
_CLOSERS: Final = frozenset("\"'”’»›)]}\u00a0\u202f\u2007」』）］｝〕〉》】〙〗〟｣")
#: Opening marks that may precede the next sentence's first letter.
_OPENERS: Final = frozenset("\"'“‘«‹([{¿¡\u00a0\u202f\u2007")
_TERMINATORS: Final = frozenset("?!…‽。！？｡")
_CLAUSE_MARKS: Final = frozenset(",;:、，；：､")
_DASHES: Final = frozenset("—–-")

#: Abbreviations after which a sentence never ends (a name, number or word always follows).
_NEVER_END_WORDS: Final = """
    M. MM. Mme. Mmes. Mlle. Mlles. Mgr. Me. Pr. Dr. St. Ste. av. apr. p. pp. cf. env. ex. éd.
    fig. vol. chap. art. tél. bd. boul. ch. coll. dir. hab. sq. sqq. t. trad. v. vs. éds. Mr.
    Mrs. Ms. Mx. Prof. Sr. Gen. Gov. Sen. Rep. Rev. Capt. Lt. Col. Sgt. Hon. Fr. e.g. i.e. viz.
    approx. ca. c. esp. incl. Mt. Ft. Ave. Fig. Vol. Ch. Eq. Ref. Sec. Art. Ex. Op. pg. ed.
    eds.
"""
_NEVER_END: Final = frozenset(_NEVER_END_WORDS.split())
#: Abbreviations that often end a sentence too: a sentence ends after them only when the
#: next word starts with an upper-case letter.
_MAY_END_WORDS: Final = """
    etc. J.-C. Jr. Inc. Ltd. Co. Corp. Bros. a.m. p.m. janv. févr. fév. avr. juil. sept. oct.
    nov. déc. Jan. Feb. Mar. Apr. Jun. Jul. Aug. Sep. Sept. Oct. Nov. Dec. ibid. cit. al. U.S.
    U.K. U.N. E.U.
"""
_MAY_END: Final = frozenset(_MAY_END_WORDS.split())
_NEVER_END_FOLDED: Final = frozenset(word.lower() for word in _NEVER_END if word.islower())
_MAY_END_FOLDED: Final = frozenset(word.lower() for word in _MAY_END)
#: Longest token examined before a `.` (abbreviations are short; this keeps scans bounded).
_MAX_TOKEN: Final = 24
_INITIAL: Final = re.compile(r"^(?:[^\W\d_]\.(?:-?[^\W\d_]\.)*)$")

# CJK characters between which UAX #14 allows a break (class ID and CJK punctuation):
# radicals, CJK symbols, kana, bopomofo, ideographs (BMP and planes 2-3), compatibility
# ideographs, fullwidth forms and halfwidth katakana. Hangul is left out: Korean uses spaces.
_CJK_RANGES: Final = (
    "\u2e80-\u2fdf\u3001-\u303f\u3041-\u3096\u309b-\u30ff\u3105-\u312f\u31a0-\u31bf"
    "\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff9d"
    "\U00020000-\U0003134f"
)
#: Opening brackets: no break after them.
_CJK_OPENERS: Final = "「『（［｛〔〈《【〘〖〝｢“‘"
#: No break before these: closing brackets, sentence and clause punctuation, small kana,
#: the prolonged sound mark, iteration marks, middle dots and ellipses (UAX #14 CL, EX, IS,
#: NS, IN; strict Japanese rules).
_CJK_NO_BREAK_BEFORE: Final = (
    "」』）］｝〕〉》】〙〗〟｣”’。、，．！？：；｡､・…‥〜～"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    "ーゝゞヽヾ々〻゛゜ｰｧｨｩｪｫｬｭｮｯ\uff9e\uff9f"
)


@cache
def _cjk_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(any CJK character, a place between two where a break is allowed), compiled on the
    first break search: their classes span the ideograph planes, ≈7 ms to compile, which a
    command that plans nothing (`run` with nothing due, `status`) does not spend."""
    return re.compile(f"[{_CJK_RANGES}]"), re.compile(
        f"(?<=[{_CJK_RANGES}”’…‥])(?<![{re.escape(_CJK_OPENERS)}])"
        f"(?=[{_CJK_RANGES}“‘])(?![{re.escape(_CJK_NO_BREAK_BEFORE)}])"
    )


def _holds_cjk(text: str, first: int, last: int) -> bool:
    """Whether text[first:last] has a CJK character."""
    return _cjk_patterns()[0].search(text, first, last) is not None


_CJK_SENTENCE_END: Final = frozenset("。！？｡")
_CJK_CLAUSE_END: Final = frozenset("、，；：､")
#: What may end the text before a sentence or clause break (the marks or a closer after them).
_CJK_MARKED: Final = _CJK_SENTENCE_END | _CJK_CLAUSE_END | _CLOSERS


def break_opportunities(text: str, first: int = 0, last: int | None = None) -> list[Break]:
    """Every place `text` may be split, in order, ranked by `BreakKind`.

    Runs of whitespace at the very start or end of the text are not break points. `first`,
    `last`: only the breaks of text[first:last], a paragraph (from the end of a blank line or
    the text's start to the start of one or the text's end), as they are in the whole text
    and as `break_opportunities(text[first:last])` would find them, moved by `first`.
    """
    return list(break_columns(text, first, last))


def break_columns(text: str, first: int = 0, last: int | None = None) -> BreakColumns:
    """`break_opportunities(text, first, last)` as `BreakColumns` (no object per break)."""
    ends: list[int] = []
    next_starts: list[int] = []
    kinds: list[int] = []
    # Bound methods and plain ints: this loop runs once per word of the text.
    add_end, add_start, add_kind = ends.append, next_starts.append, kinds.append
    length = len(text)
    if last is None:
        last = length
    word, clause, sentence = int(BreakKind.WORD), int(BreakKind.CLAUSE), int(BreakKind.SENTENCE)
    for match in _RUN_OR_PLAIN_GAP.finditer(text, first, last):
        start, end = match.span()
        group = match.lastindex
        if group is None:  # a plain gap between two letters or digits
            kind = word
        elif group == 1:  # after a clause mark
            kind = clause
        elif group == 2:  # after "?", "!"...: a sentence ends unless a lower-case word follows
            kind = word if text[end].islower() else sentence
        elif start == 0 or end == length:
            continue
        else:
            ranked = classify_break(text, start, end)
            if ranked is None:
                continue
            kind = int(ranked)
        add_end(start)
        add_start(end)
        add_kind(kind)
    if not _holds_cjk(text, first, last):
        return BreakColumns(ends, next_starts, kinds)
    # Breaks between CJK characters never touch whitespace: merge the two ordered lists (no
    # two breaks share an end: a CJK break's end is a CJK character, a run's is whitespace).
    cjk = cjk_break_offsets(text, first, last)
    cjk_kinds = [int(classify_cjk_break(text, at)) for at in cjk]
    if not ends:
        return BreakColumns(cjk, list(cjk), cjk_kinds)
    merged = sorted(zip(ends + cjk, next_starts + cjk, kinds + cjk_kinds, strict=True))
    return BreakColumns(
        list(map(itemgetter(0), merged)),
        list(map(itemgetter(1), merged)),
        list(map(itemgetter(2), merged)),
    )


#: What a line or paragraph break holds (see `_count_newlines`).
_NEWLINE: Final = re.compile("[\n\r\u2028\u2029]")
#: Whitespace that is never a break (`_BREAKABLE` is any other whitespace).
_NOT_BREAKABLE: Final = frozenset("\u00a0\u2007\u202f")


def paragraph_breaks(text: str) -> list[Break]:
    """The PARAGRAPH breaks of `break_opportunities(text)` alone, without looking at the
    other runs (a planner needs the rest only inside paragraphs too long for one post)."""
    length = len(text)
    paragraph = BreakKind.PARAGRAPH
    found: list[Break] = []
    end = 0
    for match in _NEWLINE.finditer(text):
        at = match.start()
        if at < end:
            continue  # in the run just looked at
        # The whole run of breakable whitespace around the line break (`\s` is isspace()).
        start = at
        while start > 0 and text[start - 1].isspace() and text[start - 1] not in _NOT_BREAKABLE:
            start -= 1
        end = at + 1
        while end < length and text[end].isspace() and text[end] not in _NOT_BREAKABLE:
            end += 1
        if start > 0 and end < length and _count_newlines(text, start, end) >= 2:
            found.append(Break(start, end, paragraph))
    return found


def cjk_break_offsets(text: str, first: int = 0, last: int | None = None) -> list[int]:
    """Offsets between two CJK characters where UAX #14 allows a break (nothing dropped);
    those inside text[first:last] (a paragraph: whitespace or nothing either side of it)."""
    last = len(text) if last is None else last
    breaks = _cjk_patterns()[1]
    return [match.start() for match in breaks.finditer(text, first, last) if match.start() > 0]


def classify_cjk_break(text: str, at: int) -> BreakKind:
    """Rank a break between CJK characters: after `。！？` a sentence, after `、，；：` a clause."""
    if text[at - 1] not in _CJK_MARKED:
        return BreakKind.WORD  # between two ideographs or kana: the common case, kept cheap
    last = _last_significant(text, at)
    if last is not None:
        if text[last] in _CJK_SENTENCE_END:
            # 「はい。」と言った: a quotation followed by a particle goes on with the sentence.
            quoted = last < at - 1 and "\u3041" <= text[at] <= "\u3096"
            return BreakKind.CLAUSE if quoted else BreakKind.SENTENCE
        if text[last] in _CJK_CLAUSE_END:
            return BreakKind.CLAUSE
    return BreakKind.WORD


def classify_break(text: str, start: int, end: int) -> BreakKind | None:
    """Rank the whitespace run text[start:end] (None: it must not be broken)."""
    newlines = 0 if end - start == 1 and text[start] in " \t" else _count_newlines(text, start, end)
    if newlines >= 2:
        return BreakKind.PARAGRAPH
    if newlines == 1:
        return BreakKind.LINE
    before, after = text[start - 1], text[end]
    if before in _NO_BREAK_AFTER or after in _NO_BREAK_BEFORE:
        return None
    if is_sentence_end(text, start, end):
        return BreakKind.SENTENCE
    last = _last_significant(text, start)
    if last is not None and (text[last] in _CLAUSE_MARKS or _is_spaced_dash(text, last)):
        return BreakKind.CLAUSE
    return BreakKind.WORD


def is_sentence_end(text: str, start: int, end: int) -> bool:
    """Does a sentence end before the whitespace run text[start:end]?"""
    last = _last_significant(text, start)
    if last is None:
        return False
    mark = text[last]
    if mark == "." and not text.endswith("..", 0, last):  # a period, not an ellipsis
        token = _token_before(text, last + 1)
        if token in _MAY_END or token.lower() in _MAY_END_FOLDED:
            return _next_letter_is_upper(text, end)
        if token in _NEVER_END or token.lower() in _NEVER_END_FOLDED or _is_initial(token):
            return False
    elif mark not in _TERMINATORS:
        return False
    return not _next_letter_is_lower(text, end)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split `text` into sentences: (start, end) code-point spans, whitespace between left out.

    Paragraph and line breaks also end a sentence (a title line, a list item).
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for brk in break_opportunities(text):
        if brk.kind >= BreakKind.SENTENCE:
            spans.append((start, brk.end))
            start = brk.next_start
    if start < len(text) or not spans:
        spans.append((start, len(text)))
    return spans


def _count_newlines(text: str, start: int, end: int) -> int:
    run = text[start:end]
    # \r\n is one line break; a lone \r, \v, \f or a line/paragraph separator counts too.
    return (
        run.count("\n")
        + run.count("\r")
        - run.count("\r\n")
        + run.count("\u2028")
        + (2 * run.count("\u2029"))
    )


def _last_significant(text: str, start: int) -> int | None:
    """Index of the last character before `start` that is not a closing quote or bracket."""
    index = start - 1
    floor = max(0, start - 8)
    while index >= floor and (
        text[index] in _CLOSERS or (text[index] == " " and text[index + 1] in "»›")
    ):
        index -= 1
    return index if index >= 0 else None


def _is_spaced_dash(text: str, index: int) -> bool:
    """A dash that is a word of its own (` — `, ` – `, ` - `) or glued after a word (`mot—`)."""
    if text[index] not in _DASHES:
        return False
    if text[index] != "-":
        return True
    return index == 0 or text[index - 1].isspace()


def _token_before(text: str, end: int) -> str:
    """The whitespace-delimited token ending at `end`, opening quotes/brackets removed."""
    start = end
    floor = max(0, end - _MAX_TOKEN)
    while start > floor and not text[start - 1].isspace():
        start -= 1
    token = text[start:end]
    return token.lstrip("\"'“‘«‹([{¿¡")


def _is_initial(token: str) -> bool:
    """J., J.-P., J.R.R.: followed by a name, not by a new sentence."""
    return bool(token[:1].isupper() and len(token) <= 8 and _INITIAL.match(token))


def _first_letter_after(text: str, end: int) -> str | None:
    index = end
    limit = min(len(text), end + 8)
    while index < limit and (
        text[index] in _OPENERS or (text[index] == " " and index > end and text[index - 1] in "«‹")
    ):
        index += 1
    return text[index] if index < len(text) else None


def _next_letter_is_lower(text: str, end: int) -> bool:
    char = _first_letter_after(text, end)
    return char is not None and char.islower()


def _next_letter_is_upper(text: str, end: int) -> bool:
    char = _first_letter_after(text, end)
    return char is not None and char.isupper()
