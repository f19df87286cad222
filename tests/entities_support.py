"""What every detected entity list must satisfy, whichever network's rules found it."""

from __future__ import annotations

import itertools

from threadpost.text.entities import Entity


def check_entities(text: str, entities: list[Entity], *, disjoint: bool = True) -> None:
    """Each entity's text is where its code-point and UTF-8 offsets say; sorted by start, and
    disjoint unless the network's reference keeps overlapping detections (Bluesky's does)."""
    encoded = text.encode("utf-8")
    for entity in entities:
        assert entity.text == text[entity.start : entity.end]
        assert encoded[entity.byte_start : entity.byte_end].decode("utf-8") == entity.text
    for a, b in itertools.pairwise(entities):
        assert a.start <= b.start
        if disjoint:
            assert a.end <= b.start
