"""trailgate command line (filled in by the policy, server and demo issues)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print("usage: trailgate {serve,demo,policy} ...", file=sys.stderr)
    return 2 if not args else 2
