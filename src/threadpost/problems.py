"""Problems found in a draft or a planned thread: what `check` reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding. `platform`/`post` are None when it concerns the whole draft."""

    severity: Severity
    code: str  # stable, kebab-case: "too-long", "missing-alt", "link-unreachable", ...
    message: str
    platform: str | None = None
    post: int | None = None  # 1-based index in that platform's planned thread
    line: int | None = None  # line in the draft file, where known

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "platform": self.platform,
            "post": self.post,
            "line": self.line,
            "code": self.code,
            "message": self.message,
        }
