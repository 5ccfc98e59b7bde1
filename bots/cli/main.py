"""``threadline``: run, validate, shell, actions, version.

Every user mistake (bad config, broken flow file) ends with a clear message
on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import bots
from bots.errors import UserError

DEFAULT_CONFIG = Path("config.yaml")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="threadline", description="Customer-chat bots, one thread across channels.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="serve the bot over HTTP")
    run.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")
    run.add_argument("--host", help="address to listen on (default: server.host from the config)")
    run.add_argument("--port", type=_port, help="port to listen on (default: server.port from the config)")

    validate = commands.add_parser("validate", help="check a bot folder and report every problem")
    validate.add_argument("bot_dir", nargs="?", type=Path, help="bot folder (default: bot from the config)")
    validate.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")

    shell = commands.add_parser("shell", help="chat with the bot in the terminal")
    shell.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")
    shell.add_argument("--sender", default="shell-user", help="who you are to the bot (default: shell-user)")

    actions = commands.add_parser("actions", help="list the custom actions and the flows that call them")
    actions.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")

    commands.add_parser("version", help="print the version")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("rasa_sdk").setLevel(logging.WARNING)  # one line per registered action otherwise
    try:
        if args.command == "version":
            print(f"threadline {bots.__version__}")
            return 0
        if args.command == "validate":
            from bots.cli.validate import validate

            return validate(args.config, args.bot_dir)
        if args.command == "run":
            from bots.cli.run import run

            return run(args.config, args.host, args.port)
        if args.command == "actions":
            from bots.cli.actions import list_actions

            return list_actions(args.config)
        if args.command == "shell":
            from bots.cli.shell import shell

            return shell(args.config, args.sender)
    except UserError as exc:
        print(f"threadline: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
