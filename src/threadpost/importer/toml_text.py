"""Values written into a draft's TOML front matter, escaped so that they read back
exactly (`tomllib.loads` gives the same string) and can never start a key of their own."""

from __future__ import annotations

from typing import Final

_NAMED_ESCAPES: Final = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
#: Line breaks outside TOML's own (NEL, LS, PS): legal raw, escaped so no tool splits there.
_ESCAPED_SEPARATORS: Final = frozenset("\x85\u2028\u2029")


def without_lone_surrogates(text: str) -> str:
    """`text` with unpaired UTF-16 halves (from `\\ud83d` in an archive's JSON) as U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def toml_string(value: str) -> str:
    """`value` as a TOML basic string: quotes, backslashes, every control character escaped."""
    out = ['"']
    for char in without_lone_surrogates(value):
        if char in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[char])
        elif char < " " or char == "\x7f" or "\x80" <= char < "\xa0" or char in _ESCAPED_SEPARATORS:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def toml_comment(text: str) -> str:
    """`text` as one `# ...` comment line: no line break or control character survives."""
    clean = without_lone_surrogates(text)
    return "# " + "".join(
        " "
        if char < " " or char == "\x7f" or "\x80" <= char < "\xa0" or char in _ESCAPED_SEPARATORS
        else char
        for char in clean
    )
