"""TIDs: format, round trip, ordering (the PDS rejects post rkeys that are not TIDs)."""

from __future__ import annotations

import itertools
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadpost.platforms.bluesky.records import (
    TID_CLOCK,
    TidClock,
    is_tid,
    tid_from_parts,
    tid_parts,
)

TID_SYNTAX = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")

micros = st.integers(min_value=0, max_value=(1 << 53) - 1)
clock_ids = st.integers(min_value=0, max_value=1023)


def test_known_values() -> None:
    assert tid_from_parts(0, 0) == "2222222222222"
    assert tid_from_parts(0, 1) == "2222222222223"
    assert tid_from_parts((1 << 53) - 1, 1023) == "bzzzzzzzzzzzz"  # 63 bits used of 65
    # The example of the atproto spec decodes to a 2023 timestamp and back.
    stamp, clock = tid_parts("3jzfcijpj2z2a")
    assert 2023 <= time.gmtime(stamp / 1e6).tm_year <= 2024
    assert tid_from_parts(stamp, clock) == "3jzfcijpj2z2a"


@given(micros, clock_ids)
def test_round_trip_and_syntax(stamp: int, clock: int) -> None:
    tid = tid_from_parts(stamp, clock)
    assert TID_SYNTAX.match(tid)
    assert is_tid(tid)
    assert tid_parts(tid) == (stamp, clock)


@given(micros, clock_ids, micros, clock_ids)
def test_string_order_is_time_order(a: int, ca: int, b: int, cb: int) -> None:
    assert (tid_from_parts(a, ca) < tid_from_parts(b, cb)) == ((a, ca) < (b, cb))


@pytest.mark.parametrize(
    "text",
    ["", "3jzfcijpj2z2", "3jzfcijpj2z2aa", "3JZFCIJPJ2Z2A", "kzzzzzzzzzzzz", "3jzfcijpj2z21"],
)
def test_not_tids(text: str) -> None:
    assert not is_tid(text)
    with pytest.raises(ValueError):
        tid_parts(text)


def test_out_of_range_parts() -> None:
    with pytest.raises(ValueError):
        tid_from_parts(1 << 53, 0)
    with pytest.raises(ValueError):
        tid_from_parts(0, 1024)


def test_clock_is_strictly_increasing_and_current() -> None:
    clock = TidClock(clock_id=5)
    before = time.time_ns() // 1000
    tids = clock.next_tids(50) + clock.next_tids(50) + [clock.next_tids(1)[0] for _ in range(50)]
    assert tids == sorted(tids) and len(set(tids)) == len(tids)
    stamps = [tid_parts(tid) for tid in tids]
    assert all(cid == 5 for _, cid in stamps)
    assert stamps[0][0] >= before
    assert all(b[0] > a[0] for a, b in itertools.pairwise(stamps))


def test_process_clock_has_a_valid_id() -> None:
    assert 0 <= TID_CLOCK.clock_id < 1024
    assert all(is_tid(tid) for tid in TID_CLOCK.next_tids(3))
