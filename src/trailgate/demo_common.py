"""What the modules of ``trailgate demo`` (:mod:`trailgate.demo`) share: its constants, the
error that stops it, the keys, users and summary rows it works with, and its progress output."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from . import scenario as sc

HOST: Final = "127.0.0.1"
REGION: Final = sc.REGION
BUCKET: Final = sc.BUCKET
DELIVERY_INTERVAL: Final = 2
DIGEST_INTERVAL: Final = 10
WAIT_LIMIT: Final = 60.0
"""Seconds the demo waits for the server, for log delivery and for digests."""
CONSOLE_PATH: Final = "/console/"
VALIDATE_MODULE: Final = "trailgate.trail.validate"
NO_VALIDATOR: Final = "digest validation not available in this build"
SKIPPED: Final = "skipped"
ORG_ROLE: Final = "OrganizationAccountAccessRole"
PARTIES: Final = ("Admin", "D", "E", "R")
ALLOWED, REFUSED = "allowed", "refused"


class DemoError(Exception):
    """A step could not be carried out (the message says which and why)."""


@dataclass
class Keys:
    key: str
    secret: str
    token: str | None = None


@dataclass
class Row:
    """One line of the summary table."""

    who: str
    what: str
    expected: str
    actual: str
    detail: str = ""

    @property
    def status(self) -> str:
        if self.actual == SKIPPED:
            return SKIPPED
        return "ok" if self.actual == self.expected else "DIFFERS"


@dataclass
class User:
    party: str
    account: str
    name: str
    keys: Keys
    password: str
    role: str | None = None  # the role in Admin this user may assume


def say(text: str = "") -> None:
    print(text, flush=True)


# -- progress -------------------------------------------------------------------------------------


def wait_for(label: str, pending: Callable[[], list[str]], limit: float = WAIT_LIMIT) -> float:
    """Poll ``pending`` (what is still missing) every 0.5 s until it is empty, printing a dot
    per poll and each item as it arrives on stderr; returns the seconds waited."""
    began = time.monotonic()
    sys.stderr.write(f"  {label} ")
    sys.stderr.flush()
    missing = pending()
    while missing:
        if time.monotonic() - began > limit:
            sys.stderr.write(" timed out\n")
            raise DemoError(f"{label}: still missing after {limit:.0f} s: {', '.join(missing)}")
        time.sleep(0.5)
        now_missing = pending()
        arrived = [m for m in missing if m not in now_missing]
        sys.stderr.write("." + "".join(f" {m} " for m in arrived))
        sys.stderr.flush()
        missing = now_missing
    took = time.monotonic() - began
    sys.stderr.write(f" done ({took:.1f} s)\n")
    sys.stderr.flush()
    return took
