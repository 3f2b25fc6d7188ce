"""`tapbot`: the one entry point. Subcommands that print --json keep a stable shape."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from bot.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.command in ("serve", "scheduler") else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args) or 0
    except ConfigError as error:
        print(f"tapbot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (e.g. `head`) stopped reading: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tapbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--user", help="who speaks (default: your login name)")
    chat.set_defaults(run=_chat)

    serve = sub.add_parser("serve", help="the HTTP server for Slack and Teams")
    serve.add_argument("--host", help="default: $HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: $PORT or 3978")
    serve.add_argument("--with-scheduler", action="store_true", help="also send scheduled digests (one machine)")
    serve.set_defaults(run=_serve)

    scheduler = sub.add_parser("scheduler", help="the process that sends scheduled digests")
    scheduler.add_argument("--once", action="store_true", help="send what is due now, print it, and exit")
    scheduler.set_defaults(run=_scheduler)

    package = sub.add_parser("teams-package", help="write the Teams app package (manifest and icons, zipped)")
    package.add_argument("--out", type=Path, default=Path("tapbot-teams.zip"))
    package.set_defaults(run=_teams_package)

    for name, helptext in (("match", "ranked indicators for free text"),
                           ("parse", "what a message would do, without doing it")):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("--json", action="store_true", help="JSON output (the default)")
        cmd.add_argument("text", nargs="+", help="the text, or - to read one message per line from stdin")
        cmd.set_defaults(run=_match if name == "match" else _parse)

    status = sub.add_parser("status", help="figures for a convention, outcome, indicator or country")
    status.add_argument("--json", action="store_true")
    status.add_argument("target", nargs="+")
    status.set_defaults(run=_status)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(run=_db_upgrade)

    plan = sub.add_parser("plan", help="the plan as data")
    plan_sub = plan.add_subparsers(dest="plan_command", required=True)
    show = plan_sub.add_parser("show", help="print the plan or one item")
    show.add_argument("code", nargs="?")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_plan_show)
    validate = plan_sub.add_parser("validate", help="check a plan file")
    validate.add_argument("file", type=Path)
    validate.set_defaults(run=_plan_validate)

    parties = sub.add_parser("parties", help="the Parties file: its source, date and counts")
    parties.add_argument("--json", action="store_true")
    parties.set_defaults(run=_parties)

    export = sub.add_parser("export", help="activities and the indicator table as CSV or Excel")
    export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(run=_export)
    return parser


def _context():
    from bot.app import build_context

    return build_context(load_settings())


def _chat(args) -> int:
    from bot.console import run_chat

    run_chat(_context(), args.user)
    return 0


def _serve(args) -> int:
    from bot.app import build_context
    from bot.server import serve

    settings = load_settings()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = settings.model_copy(update=overrides)
    settings.check_for_serving()
    serve(settings, build_context(settings), with_scheduler=args.with_scheduler)
    return 0


def _scheduler(args) -> int:
    from bot.scheduler import run_scheduler

    settings = load_settings()
    return run_scheduler(settings, once=args.once)


def _teams_package(args) -> int:
    from bot.teams_package import write_package

    path = write_package(load_settings(), args.out)
    print(f"wrote {path}")
    return 0


def _messages(words: list[str]):
    if words == ["-"]:
        return (line.rstrip("\n") for line in sys.stdin if line.strip())
    return iter([" ".join(words)])


def _print_json(value, many: bool) -> None:
    print(json.dumps(value, ensure_ascii=False) if many else json.dumps(value, ensure_ascii=False, indent=2))


def _match(args) -> int:
    from handlers.matcher import match_indicators
    from plan_data.loader import load_plan

    plan = load_plan(load_settings().tapbot_plan)
    many = args.text == ["-"]
    for text in _messages(args.text):
        _print_json([{"code": m.code, "score": round(m.score, 1), "text": m.text}
                     for m in match_indicators(text, plan, limit=10)], many)
    return 0


def _parse(args) -> int:
    from handlers.context import utc_today
    from handlers.describe import describe
    from plan_data.loader import load_plan

    plan = load_plan(load_settings().tapbot_plan)
    many = args.text == ["-"]
    for text in _messages(args.text):
        _print_json(describe(text, plan, utc_today()), many)
    return 0


def _status(args) -> int:
    from handlers.status import resolve_target, status_data

    ctx = _context()
    text = " ".join(args.target)
    target = resolve_target(text, ctx.plan)
    if target is None:
        print(json.dumps({"error": f"no plan item, convention or country matches “{text}”"}), file=sys.stderr)
        return 2
    with ctx.sessions() as session:
        if args.json:
            _print_json(status_data(session, ctx.plan, target), False)
        else:
            from handlers.render import render_text
            from handlers.status import run_status

            print(render_text(run_status(session, ctx.plan, text)))
    return 0


def _db_upgrade(_args) -> int:
    from storage.db import make_engine, upgrade

    upgrade(make_engine(load_settings().database_url))
    print("database is up to date")
    return 0


def _plan_show(args) -> int:
    from plan_data.loader import load_plan

    plan = load_plan(load_settings().tapbot_plan)
    if args.json:
        _print_json(_plan_json(plan, args.code), False)
        return 0
    from handlers.help import run_plan
    from handlers.render import render_text

    print(render_text(run_plan(plan, args.code or "")))
    return 0


def _plan_json(plan, code: str | None) -> dict:
    resolved = plan.resolve(code) if code else None
    if code and resolved is None:
        raise SystemExit(f"tapbot: “{code}” is not a code of the plan")
    outcomes = []
    for outcome in plan.outcomes.values():
        if resolved and resolved not in (outcome.code, outcome.convention) and not resolved.startswith(outcome.code + "."):
            continue
        outcomes.append({
            "code": outcome.code, "convention": outcome.convention, "text": outcome.statement,
            "outputs": [{"code": o.code, "text": o.text} for o in plan.outputs.values() if o.outcome == outcome.code],
            "indicators": [{"code": i.code, "text": i.text, "output": i.output, "measure": str(i.measure), "unit": i.unit}
                           for i in plan.indicators_of(outcome.code)],
        })
    return {"plan": plan.id, "title": plan.title, "outcomes": outcomes}


def _plan_validate(args) -> int:
    from plan_data.loader import PlanError, validate_file

    try:
        plan = validate_file(args.file)
    except PlanError as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 1
    print(f"{args.file}: plan {plan.id} is valid — {len(plan.outcomes)} outcomes, "
          f"{len(plan.outputs)} outputs, {len(plan.indicators)} indicators")
    return 0


def _parties(args) -> int:
    from plan_data.parties import DEFAULT_PARTIES_PATH, PartiesError, load_parties

    try:
        parties = load_parties()
    except PartiesError as error:
        print(f"tapbot: {DEFAULT_PARTIES_PATH}: {error}", file=sys.stderr)
        return 1
    counts = {code: parties.count(code) for code in parties.since}
    if args.json:
        _print_json({"source": parties.source, "as_of": parties.as_of.isoformat(), "file": str(DEFAULT_PARTIES_PATH),
                     "parties": counts}, False)
        return 0
    print(f"Source: {parties.source}")
    print(f"As of: {parties.as_of.isoformat()}  (edit {DEFAULT_PARTIES_PATH} to update)")
    for code, n in counts.items():
        print(f"{parties.names[code]}: {n} Parties")
    return 0


def _export(args) -> int:
    from bot.export import export

    for path in export(_context(), args.format, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
