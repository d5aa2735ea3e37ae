"""The results of ``trailgate validate-logs`` (:mod:`.validate`): one line per digest and log
file in the AWS CLI's wording, the gaps in the digest chain, the problems found by the checks
beyond the AWS CLI, and the whole :class:`Report` with its JSON form and summary counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .logcheck import VALID


@dataclass
class DigestResult:
    bucket: str
    key: str
    message: str  # "valid" or "INVALID: ..."
    start: str | None = None
    end: str | None = None
    log_files: int = 0

    @property
    def valid(self) -> bool:
        return self.message == VALID

    def line(self) -> str:
        return f"Digest file\ts3://{self.bucket}/{self.key}\t{self.message}"


@dataclass
class LogResult:
    bucket: str
    key: str
    message: str
    digest: str  # key of the digest listing it
    size: int = 0  # uncompressed bytes
    records: int = 0

    @property
    def valid(self) -> bool:
        return self.message == VALID

    def line(self) -> str:
        return f"Log file\ts3://{self.bucket}/{self.key}\t{self.message}"


@dataclass
class Gap:
    """No digest covers ``[start, end)``: logging or validation was off, or digests are gone."""

    start: str
    end: str

    def line(self) -> str:
        return f"No log files were delivered by CloudTrail between {self.start} and {self.end}"


@dataclass
class Report:
    trail_arn: str
    requested_start: str
    requested_end: str
    digests: list[DigestResult] = field(default_factory=list)
    logs: list[LogResult] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # checks beyond the AWS CLI's
    found_start: str | None = None
    found_end: str | None = None
    seconds: float = 0.0

    @property
    def valid(self) -> bool:
        """True only when at least one digest was found and everything checked is valid."""
        return (
            bool(self.digests)
            and all(d.valid for d in self.digests)
            and all(g.valid for g in self.logs)
            and not self.problems
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["valid"] = self.valid
        out["summary"] = {
            "digestFiles": _counts(self.digests),
            "logFiles": _counts(self.logs),
            "records": sum(g.records for g in self.logs),
            "uncompressedBytes": sum(g.size for g in self.logs),
        }
        return out


def _counts(items: Iterable[DigestResult | LogResult]) -> dict[str, int]:
    seq = list(items)
    good = sum(1 for i in seq if i.valid)
    return {"total": len(seq), "valid": good, "invalid": len(seq) - good}
