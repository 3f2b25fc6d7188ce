"""`tapbot`: the one entry point. Subcommands that print --json keep a stable shape."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import date
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

    status = sub.add_parser("status", help="figures for the plan, a convention, outcome, indicator, country or region")
    status.add_argument("--json", action="store_true")
    status.add_argument("--plan", help="the plan's id or period (default: the plan whose period holds today)")
    status.add_argument("--from", dest="since", type=date.fromisoformat, help="first day counted (YYYY-MM-DD)")
    status.add_argument("--to", dest="until", type=date.fromisoformat, help="last day counted (YYYY-MM-DD)")
    status.add_argument("target", nargs="*",
                        help="PLAN, a convention, outcome or indicator code, a country, region:AFR, or a question")
    status.set_defaults(run=_status)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(run=_db_upgrade)

    plan = sub.add_parser("plan", help="the plan as data")
    plan_sub = plan.add_subparsers(dest="plan_command", required=True)
    show = plan_sub.add_parser("show", help="print the plan or one item")
    show.add_argument("code", nargs="?")
    show.add_argument("--json", action="store_true")
    show.add_argument("--plan", help="the plan's id or period (default: the current plan)")
    show.set_defaults(run=_plan_show)
    validate = plan_sub.add_parser("validate", help="check a plan file")
    validate.add_argument("file", type=Path)
    validate.set_defaults(run=_plan_validate)
    importer = plan_sub.add_parser("import", help="a plan document (.txt or .docx) → a plan file to review")
    importer.add_argument("document", type=Path)
    importer.add_argument("--out", type=Path, required=True)
    importer.add_argument("--id", help="the plan's id (default: tap-START-END)")
    importer.set_defaults(run=_plan_import)
    carry = plan_sub.add_parser("carry",
                                help="move links of activities held in a newer plan's period along the crosswalks")
    carry.set_defaults(run=_plan_carry)
    crosswalk = plan_sub.add_parser("crosswalk", help="propose old code → new codes between two plan files")
    crosswalk.add_argument("old", help="a plan file, or bundled")
    crosswalk.add_argument("new", help="a plan file")
    crosswalk.add_argument("--out", type=Path, required=True)
    crosswalk.set_defaults(run=_plan_crosswalk)

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
    from handlers.matcher import match_indicators, team_examples

    ctx = _context()  # the team's confirmed links are in the database
    many = args.text == ["-"]
    with ctx.sessions() as session:
        for text in _messages(args.text):
            examples = team_examples(session, ctx.plan)
            _print_json([{"code": m.code, "score": round(m.score, 1), "text": m.text}
                         for m in match_indicators(text, ctx.plan, limit=10, examples=examples)], many)
    return 0


def _parse(args) -> int:
    from handlers.context import utc_today
    from handlers.describe import describe

    plans, plan = _loaded_plans()
    many = args.text == ["-"]
    for text in _messages(args.text):
        _print_json(describe(text, plan, utc_today(), plans), many)
    return 0


def _status(args) -> int:
    from dataclasses import replace

    from handlers.context import utc_today
    from handlers.questions import Period, read_question
    from handlers.status import status_data

    ctx = _context()
    plan = _chosen_plan(ctx.plans, ctx.plan, args.plan)
    text = " ".join(args.target)
    question = read_question("" if text.upper() == "PLAN" else text, plan, utc_today())
    target = question.target
    if target is None:
        print(json.dumps({"error": f"no plan item, convention, country or region matches “{text}”"}), file=sys.stderr)
        return 2
    if args.since or args.until:  # --from/--to say the period; else the question's own ("Basel in 2023")
        question = replace(question, period=Period(args.since, args.until))
    with ctx.sessions() as session:
        if args.json:
            _print_json(status_data(session, plan, target, question.period), False)
        else:
            from handlers.render import render_text
            from handlers.status import render_question

            print(render_text(render_question(session, plan, question)))
    return 0


def _db_upgrade(_args) -> int:
    from storage.db import make_engine, upgrade

    upgrade(make_engine(load_settings().database_url))
    print("database is up to date")
    return 0


def _chosen_plan(plans, current, name: str | None):
    """The plan `--plan` names, else the current one; an unknown name ends the command."""
    if not name:
        return current
    plan = plans.find(name)
    if plan is None:
        known = ", ".join(f"{p.id} ({p.period})" for p in plans)
        raise SystemExit(f"tapbot: no loaded plan “{name}”; loaded: {known}")
    return plan


def _loaded_plans():
    from handlers.context import utc_today
    from plan_data.loader import load_plans

    settings = load_settings()
    plans = load_plans(settings.plan_files, settings.crosswalk_files)
    return plans, plans.current(utc_today())


def _plan_show(args) -> int:
    plans, current = _loaded_plans()
    plan = _chosen_plan(plans, current, args.plan)
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
        if (resolved and resolved not in (outcome.code, outcome.convention)
                and not resolved.startswith(outcome.code + ".")):
            continue
        outcomes.append({
            "code": outcome.code, "convention": outcome.convention, "text": outcome.statement,
            "outputs": [{"code": o.code, "text": o.text} for o in plan.outputs.values() if o.outcome == outcome.code],
            "indicators": [{"code": i.code, "text": i.text, "output": i.output, "measure": str(i.measure),
                            "unit": i.unit} for i in plan.indicators_of(outcome.code)],
        })
    return {"plan": plan.id, "title": plan.title, "outcomes": outcomes}


def _plan_validate(args) -> int:
    from plan_data.loader import PlanError, validate_file

    try:
        plan = validate_file(args.file)
    except PlanError as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 1
    print(f"{args.file}: plan {plan.id} ({plan.period}) is valid — {len(plan.conventions)} conventions, "
          f"{len(plan.outcomes)} outcomes, {len(plan.outputs)} outputs, {len(plan.indicators)} indicators")
    to_review = [i.code for i in plan.indicators.values() if i.measure_to_review]
    if to_review:
        print(f"{len(to_review)} measures proposed from the wording still to review "
              f"(set measure_to_review = false once checked): {', '.join(to_review)}")
    return 0


def _plan_import(args) -> int:
    from plan_data.importer import import_file
    from plan_data.loader import PlanError

    try:
        data = import_file(args.document, args.out, args.id)
    except PlanError as error:
        print(f"{args.document}: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: plan {data['plan']['id']} ({data['plan']['start_year']}–{data['plan']['end_year']}), "
          f"{len(data['outcomes'])} outcomes, {len(data['indicators'])} indicators. Review it, check it with "
          f"`tapbot plan validate {args.out}`, then add it to TAPBOT_PLANS.")
    return 0


def _plan_carry(_args) -> int:
    from handlers.plans import carry_links
    from storage.activities import Actor

    ctx = _context()
    with ctx.sessions() as session:
        changed = carry_links(session, ctx.plans, Actor("tapbot", "tapbot plan carry", "console"))
        session.commit()
    for activity_id, old, new in changed:
        print(f"#{activity_id}: {', '.join(old)} → {', '.join(new)}")
    print(f"{len(changed)} activities now counted in the plan of their dates")
    return 0


def _plan_crosswalk(args) -> int:
    from plan_data.crosswalk import propose_file
    from plan_data.loader import BUNDLED, PlanError, load_plan

    try:
        old = load_plan(None if args.old == BUNDLED else args.old)
        new = load_plan(None if args.new == BUNDLED else args.new)
        crosswalk = propose_file(old, new, args.out)
    except PlanError as error:
        print(f"tapbot: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {len(crosswalk.links)} of {len(old.indicators)} indicators of {old.id} carried "
          f"to {new.id}, proposed from text similarity. Review it before use.")
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
