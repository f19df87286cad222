"""Pass rates of the conformance corpora, collected during the run and printed in pytest's
terminal summary (so every run, CI included, shows them without -s)."""

from __future__ import annotations

PASS_RATES: list[tuple[str, int, int]] = []


def record_pass_rate(corpus: str, passed: int, total: int) -> None:
    """Remember one corpus's result for the summary."""
    PASS_RATES.append((corpus, passed, total))
