"""`with` support for objects that hold something open until `close()` (a zip file, ...).

Written once here rather than as the same `__enter__`/`__exit__` pair in every class
(issue 11), together with the other half of that care: a constructor that fails halfway
closes what it had already opened.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import TracebackType
from typing import Self


class Closing:
    """A base class: `with obj:` returns `obj` and calls `obj.close()` however the block
    ends. Subclasses define `close()` (safe to call twice)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def closed_on_error(self) -> Iterator[None]:
        """Around the rest of a constructor, once something is open: if it raises, close
        (nobody else will: the caller never gets the object) and raise it."""
        try:
            yield
        except BaseException:
            self.close()
            raise
