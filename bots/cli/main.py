"""``threadline``: run, validate, shell, test, actions, forget, followup, agents, train, nlu-test, migrate-store,
messenger setup, import rasa, version.

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


def _workers(value: str) -> int:
    try:
        workers = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 1 <= workers <= 64:
        raise argparse.ArgumentTypeError(f"{workers} workers: give 1 to 64")
    return workers


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="threadline", description="Customer-chat bots, one thread across channels.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="serve the bot over HTTP")
    run.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")
    run.add_argument("--host", help="address to listen on (default: server.host from the config)")
    run.add_argument("--port", type=_port, help="port to listen on (default: server.port from the config)")
    run.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="worker processes sharing the port (default: server.workers from the config, 1); more "
        "than one needs a PostgreSQL or Redis store",
    )
    run.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # set for the workers of --workers

    validate = commands.add_parser("validate", help="check a bot folder and report every problem")
    validate.add_argument("bot_dir", nargs="?", type=Path, help="bot folder (default: bot from the config)")
    validate.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")

    shell = commands.add_parser("shell", help="chat with the bot in the terminal")
    shell.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")
    shell.add_argument("--sender", default="shell-user", help="who you are to the bot (default: shell-user)")

    actions = commands.add_parser("actions", help="list the custom actions and the flows that call them")
    actions.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")

    forget = commands.add_parser(
        "forget",
        help="export a customer's thread, or delete everything about it",
        description="A customer's data request: export everything about their thread (its events, state and "
        "linked identities) as JSON, and with --delete, delete it for good. By default this asks the "
        "running server (its admin API, with server.admin_token from the config).",
    )
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--thread", metavar="ID", help="the thread's id")
    who.add_argument(
        "--channel",
        metavar="C",
        help="find the thread by a channel identity (with --user-id), e.g. --channel messenger --user-id PSID",
    )
    forget.add_argument("--user-id", metavar="U", help="the customer's id on --channel")
    forget.add_argument("--export", type=Path, metavar="FILE", help="write the export here (default: stdout)")
    forget.add_argument(
        "--delete",
        action="store_true",
        help="delete the thread, its identities and their pending webhook items after exporting "
        "them to --export FILE (required, so nothing is lost by accident)",
    )
    forget.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")
    forget.add_argument(
        "--server", metavar="URL", help="the running server (default: http://server.host:server.port from the config)"
    )
    forget.add_argument(
        "--direct",
        action="store_true",
        help="open the store from the config instead of asking the server; ONLY SAFE WHILE THE "
        "SERVER IS STOPPED (a running server caches threads and would bring them back)",
    )

    followup = commands.add_parser(
        "followup",
        help="send a flow or message to the threads a condition selects (only people who talked to you)",
        description="A proactive follow-up through the running server: only threads whose customer talked to the "
        "business, never opted-out ones, each through the channel allowed right now (Messenger inside "
        "its 24-hour window or with a message tag, otherwise the website: live, or on the next visit).",
    )
    followup.add_argument("--name", required=True, help="the campaign's name: a thread gets each campaign once")
    followup.add_argument(
        "--when",
        required=True,
        metavar="CONDITION",
        help="which threads, e.g. \"count('product_viewed', sku='TR2', within_days=2) > 0 and count('purchase') == 0\"",
    )
    what = followup.add_mutually_exclusive_group(required=True)
    what.add_argument("--flow", help="a flow of the bot to run on each thread")
    what.add_argument("--text", help='a message; a JSON object gives one per language: \'{"en": ..., "de": ...}\'')
    followup.add_argument("--dry-run", action="store_true", help="list who would get what and why others are skipped")
    followup.add_argument(
        "--rate", type=float, default=60, metavar="PER_MINUTE", help="at most this many sends a minute (default 60)"
    )
    followup.add_argument("--limit", type=int, help="at most this many sends")
    followup.add_argument(
        "--tag",
        help="Messenger message tag for a text after the 24-hour window (a flow's own message_tag is used for flows)",
    )
    followup.add_argument("--json", action="store_true", help="print the full report as JSON")
    followup.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")
    followup.add_argument(
        "--server", metavar="URL", help="the running server (default: http://server.host:server.port from the config)"
    )

    train = commands.add_parser(
        "train",
        help="train the NLU and save the model `run` loads (run also trains at start when the examples changed)",
    )
    train.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")

    nlu = commands.add_parser("nlu-test", help="accuracy and macro-F1 of the NLU, per language and per intent")
    nlu.add_argument(
        "--data",
        type=Path,
        metavar="FILE",
        help="test examples: the bot's YAML nlu format or JSON Lines {text, intent, lang?} "
        "(default: cross-validate the training examples)",
    )
    nlu.add_argument("--train", type=Path, metavar="FILE", help="train on these examples instead of the bot's")
    nlu.add_argument(
        "--out",
        type=Path,
        default=Path("nlu-report"),
        help="where the confusion matrix PNG and the errors file go (default: nlu-report)",
    )
    nlu.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    nlu.add_argument("--json", action="store_true", help="print the report as one JSON object")
    nlu.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")

    migrate = commands.add_parser(
        "migrate-store",
        help="copy every thread to another store (e.g. SQLite -> PostgreSQL) and verify the copy",
        description="Copies every thread (snapshot, event log, identities, merge records) and every unprocessed "
        "webhook item from one store to another, then checks that both have the same counts. Stop the "
        "servers first. An interrupted run can be started again: copied threads are skipped.",
    )
    migrate.add_argument(
        "--to",
        required=True,
        metavar="URL",
        dest="target",
        help="the new store, e.g. postgresql://user:pass@db/threadline or redis://cache:6379/0",
    )
    migrate.add_argument("--from", metavar="URL", dest="source", help="the old store (default: store from the config)")
    migrate.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")

    messenger = commands.add_parser("messenger", help="set up the Facebook Page for Messenger")
    messenger_commands = messenger.add_subparsers(dest="messenger_command", required=True, metavar="COMMAND")
    setup = messenger_commands.add_parser(
        "setup",
        help="set the Page's Get Started button, greeting, menu, ice breakers and whitelisted domains",
        description="Builds the Page's Messenger profile from the bot's texts and connectors.messenger (Get "
        "Started payload, a greeting per locale, persistent menu, ice breakers, whitelisted domains), reads "
        "the Page's current profile, shows what changes, then sets only what differs.",
    )
    setup.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")
    setup.add_argument("--dry-run", action="store_true", help="show what would change and send nothing")

    test = commands.add_parser(
        "test",
        help="run conversation tests (and Rasa end-to-end test stories) through the real pipeline",
        description="Plays each test's customer messages, button presses, events and channel switches through "
        "the same pipeline the server uses, on a throwaway store, and checks the replies, slots, intent, flow "
        "and hand-off after each step. Exit code: 0 all passed, 1 a test failed, 2 bad test files or config.",
    )
    test.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="test files or folders (default: conversations/ next to the config file)",
    )
    test.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")
    test.add_argument("--json", action="store_true", help="print the results as one JSON object")
    test.add_argument("-v", "--verbose", action="store_true", help="show every step, not only those of failed tests")

    agents = commands.add_parser("agents", help="the agent inbox's accounts: add, list, remove, passwd")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True, metavar="ACTION")
    for action, help_text in (
        ("add", "add an agent (asks the password)"),
        ("list", "list the agents and their roles"),
        ("remove", "remove an agent; their sessions end"),
        ("passwd", "set an agent's password; their sessions end"),
    ):
        sub = agent_commands.add_parser(action, help=help_text)
        if action != "list":
            sub.add_argument("name", help="the agent's name (a-z, 0-9, '.', '_', '-')")
        if action == "add":
            sub.add_argument("--role", choices=("agent", "admin"), default="agent", help="default: agent")
        if action in ("add", "passwd"):
            sub.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        sub.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.yaml)")

    commands.add_parser("version", help="print the version")
    imports = commands.add_parser("import", help="convert another framework's bot into a Threadline bot folder")
    import_kinds = imports.add_subparsers(dest="import_kind", required=True, metavar="KIND")
    rasa = import_kinds.add_parser(
        "rasa",
        help="a Rasa 3.x project",
        description="Converts a Rasa 3.x project (domain, data/, config.yml, endpoints.yml) into DIR: config.yaml, "
        "the bot folder bot/ (its actions/ links to the project's, called unchanged) and IMPORT_REPORT.md, which "
        "lists everything not converted with its Rasa file and line.",
    )
    rasa.add_argument("path", type=Path, help="the Rasa project's folder")
    rasa.add_argument("--out", type=Path, help="where to write (default: <project>-threadline beside the project)")
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

            return run(args.config, args.host, args.port, workers=args.workers, reuse_port=args.reuse_port)
        if args.command == "actions":
            from bots.cli.actions import list_actions

            return list_actions(args.config)
        if args.command == "forget":
            from bots.cli.forget import forget

            return forget(
                args.config,
                thread_id=args.thread,
                channel=args.channel,
                user_id=args.user_id,
                export_path=args.export,
                delete=args.delete,
                server=args.server,
                direct=args.direct,
            )
        if args.command == "followup":
            from bots.cli.followup import followup

            return followup(
                args.config,
                name=args.name,
                when=args.when,
                flow=args.flow,
                text=args.text,
                dry_run=args.dry_run,
                rate_per_minute=args.rate,
                limit=args.limit,
                tag=args.tag,
                server=args.server,
                as_json=args.json,
            )
        if args.command == "train":
            from bots.cli.train import train_command

            return train_command(args.config)
        if args.command == "nlu-test":
            from bots.cli.nlu_test import nlu_test

            return nlu_test(
                args.config, data=args.data, train=args.train, out=args.out, as_json=args.json, folds=args.folds
            )
        if args.command == "agents":
            from bots.cli.agents import agents

            return agents(
                args.config,
                args.agents_command,
                name=getattr(args, "name", ""),
                role=getattr(args, "role", "agent"),
                password_stdin=getattr(args, "password_stdin", False),
            )
        if args.command == "migrate-store":
            from bots.cli.migrate_store import migrate_store

            return migrate_store(args.config, source_url=args.source, target_url=args.target)
        if args.command == "messenger":
            from bots.cli.messenger_setup import messenger_setup

            return messenger_setup(args.config, dry_run=args.dry_run)
        if args.command == "test":
            from bots.cli.conversation_test import conversation_test

            return conversation_test(args.config, args.paths, as_json=args.json, verbose=args.verbose)
        if args.command == "import":
            from bots.cli.import_rasa import import_rasa_command

            return import_rasa_command(args.path, args.out)
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
