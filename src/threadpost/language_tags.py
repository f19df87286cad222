"""Whether a string is a language tag (BCP 47): the draft's `lang` and each captions
file's language (the Bluesky lexicon's `format: language`)."""

from __future__ import annotations

import re
from functools import cache
from typing import Final

#: BCP-47 (RFC 5646) language tag syntax: language[-extlang][-script][-region][-variant]*
#: [-extension]*[-privateuse], or a private-use tag alone. The 4-8 letter primary languages
#: the grammar reserves are left out: no registered language uses them, and a word such
#: as "english" is far more likely a mistake than a tag.
_BCP47: Final = r"""^(?:
        [a-z]{2,3}(?:-[a-z]{3}){0,3}
        (?:-[a-z]{4})?
        (?:-(?:[a-z]{2}|\d{3}))?
        (?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*
        (?:-[\da-wyz](?:-[a-z\d]{2,8})+)*
        (?:-x(?:-[a-z\d]{1,8})+)?
      | x(?:-[a-z\d]{1,8})+
    )$"""


@cache
def _bcp47() -> re.Pattern[str]:
    """Compiled by the first tag checked (~1.7 ms a thread without `lang` never spends)."""
    return re.compile(_BCP47, re.IGNORECASE | re.VERBOSE)


def is_language_tag(text: str) -> bool:
    """Whether `text` is a BCP 47 tag such as "en", "fr" or "pt-BR"."""
    return _bcp47().match(text) is not None
