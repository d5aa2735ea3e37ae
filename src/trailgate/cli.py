"""trailgate command line: ``trailgate demo | policy check | policy simulate``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


def _demo(args: argparse.Namespace) -> int:
    if args.offline:
        if args.serve or args.data_dir is not None or args.port is not None:
            print("trailgate: demo --offline takes no --serve, --data-dir or --port",
                  file=sys.stderr)
            return 2
        from .policy_demo import run_offline

        return run_offline()
    from .demo import run

    return run(serve=args.serve, data_dir=args.data_dir, port=args.port)


def _serve(args: argparse.Namespace) -> int:
    from .app import serve
    from .config import ConfigError, Settings

    try:
        settings = Settings.build(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            region=args.region,
            delivery_interval=args.delivery_interval,
            digest_interval=args.digest_interval,
        )
    except ConfigError as err:
        print(f"trailgate: {err}", file=sys.stderr)
        return 2
    serve(settings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trailgate",
        description="AWS IAM, STS, S3, CloudTrail and Organizations on one local endpoint.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run the seed scenario end to end")
    demo.add_argument("--offline", action="store_true",
                      help="only answer the scenario's questions with the policy engine")
    demo.add_argument("--serve", action="store_true",
                      help="keep the server running afterwards (Ctrl-C stops it)")
    demo.add_argument("--data-dir", default=None,
                      help="an empty or new directory for the server (default: a temporary one)")
    demo.add_argument("--port", type=int, default=None, help="default: a free port")
    demo.set_defaults(func=_demo)
    serve = sub.add_parser("serve", help="serve IAM, STS, S3, CloudTrail and Organizations")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4566)
    serve.add_argument("--data-dir", default="data")
    serve.add_argument("--region", default="us-east-1")
    serve.add_argument("--delivery-interval", type=float, default=300.0)
    serve.add_argument("--digest-interval", type=float, default=3600.0)
    serve.set_defaults(func=_serve)
    from .cli_policy import add_policy_commands

    add_policy_commands(sub)
    from .cli_trail import add_trail_commands

    add_trail_commands(sub)
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
