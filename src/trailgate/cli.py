"""trailgate command line: ``trailgate demo | policy check | policy simulate``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


def _demo(args: argparse.Namespace) -> int:
    from .policy_demo import run_offline

    return run_offline()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trailgate",
        description="AWS IAM, STS, S3, CloudTrail and Organizations on one local endpoint.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run the seed scenario end to end")
    demo.set_defaults(func=_demo)
    from .cli_policy import add_policy_commands

    add_policy_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
