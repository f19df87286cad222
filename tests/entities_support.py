"""What every detected entity list must satisfy, whichever network's rules found it."""

from __future__ import annotations

import itertools

from threadpost.text.entities import Entity


def check_entities(text: str, entities: list[Entity]) -> None:
    """Each entity's text is where its code-point and UTF-8 offsets say; in order, disjoint."""
    encoded = text.encode("utf-8")
    for entity in entities:
        assert entity.text == text[entity.start : entity.end]
        assert encoded[entity.byte_start : entity.byte_end].decode("utf-8") == entity.text
    for a, b in itertools.pairwise(entities):
        assert a.end <= b.start
