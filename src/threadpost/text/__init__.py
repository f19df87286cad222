"""The pure text core: graphemes, entities, counting, splitting. No I/O, no network imports."""
