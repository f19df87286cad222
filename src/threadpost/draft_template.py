"""The draft `threadpost new` starts from, and telling when a draft still holds its text.

A line break inside a paragraph is kept as a line break in the post, so the template
writes each paragraph on one line. An unedited template must not go out by mistake:
`check` reports each post still holding the template's words as an error.
"""

from __future__ import annotations

import functools
import json
from string import Template
from typing import Final

from threadpost.draft import Draft, parse_draft
from threadpost.package_data import read_text

TEMPLATE_FILE: Final = "new-draft.md"


def render_template(title: str) -> str:
    """The template with `title` (any text: written as a TOML basic string)."""
    template = read_text(f"templates/{TEMPLATE_FILE}")
    # json.dumps gives a valid TOML basic string for any title (quotes, backslashes).
    return Template(template).substitute(title=json.dumps(title, ensure_ascii=False))


@functools.cache
def _template_texts() -> frozenset[str]:
    parsed = parse_draft(render_template("template").encode(), TEMPLATE_FILE)
    return frozenset(_normal(post.text) for post in parsed.posts)


def unedited_posts(draft: Draft) -> list[int]:
    """The indexes of the draft's posts that still hold the template's text."""
    texts = _template_texts()
    return [post.index for post in draft.posts if _normal(post.text) in texts]


def _normal(text: str) -> str:
    return " ".join(text.split())
