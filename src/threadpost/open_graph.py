"""A page's `<head>` → its meta tags (OpenGraph, Twitter card, description) and title.

Apart from `linkcard` so that `html.parser` is imported only when a page is read.
"""

from __future__ import annotations

from html.parser import HTMLParser


class _MetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self._in_title = False
        self._title: list[str] = []
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = {name.lower(): value or "" for name, value in attrs}
            key = (values.get("property") or values.get("name") or "").strip().lower()
            content = values.get("content")
            if key and content is not None and key not in self.meta:
                self.meta[key] = content.strip()
        elif tag == "title":
            self._in_title = True
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)

    def result(self) -> dict[str, str]:
        meta = dict(self.meta)
        title = "".join(self._title).strip()
        if title:
            meta.setdefault("title", title)
        return meta


def meta_tags(html: str) -> dict[str, str]:
    """`<meta property|name=… content=…>` values (keys lower-cased, first wins) and `title`."""
    parser = _MetaParser()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:  # HTMLParser on badly broken markup
        pass
    return parser.result()
