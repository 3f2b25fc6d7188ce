"""Measure how questions are routed: command (status or gaps), target and period, per language.

Run from the repository root: ``python benchmarks/questions.py [--baseline REV] [--eval-dir DIR]``.
Questions go through ``handlers.describe.describe`` — the path of the chat and ``tapbot parse`` —
and are right only when command, target and period all equal the gold ones of
``benchmarks/data/questions.jsonl``. The same questions are routed by the code of git
revision REV (default ``main``: the routing before this work) in the same run. Questions
marked ``tune`` were looked at while tuning; ``unseen`` ones were not. Then the shared
``status_dev.jsonl``: the share of status questions resolved to their gold target.

Then ``benchmarks/data/routing.jsonl``: chat messages of every sort (verb-less logs, questions with no
question word, off-topic lines, a few commands), each right when routed to its command — a log to
``log``; a question with its target and period; an off-topic line (``none``) to the honest answer
(no command, or a question about nothing in the plan).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import types
from collections import defaultdict
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from handlers.describe import describe  # noqa: E402
from plan_data.loader import load_plan  # noqa: E402

DATA = REPO / "benchmarks" / "data" / "questions.jsonl"
ROUTING = REPO / "benchmarks" / "data" / "routing.jsonl"
TODAY = date(2025, 6, 16)  # "last year" in the gold periods is 2024
BASELINE_MODULES = ("matcher", "questions", "status", "parse")  # what routed a question before; loaded in this order


def baseline_router(revision: str):
    """A function text → route, from the parse, matcher and status modules of a git revision."""
    package = types.ModuleType("baseline")
    package.__path__ = []
    sys.modules["baseline"] = package
    modules = {}
    for name in BASELINE_MODULES:
        source = subprocess.run(["git", "show", f"{revision}:handlers/{name}.py"], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout
        for imported in BASELINE_MODULES:  # the revision's own modules, not today's
            source = source.replace(f"from handlers.{imported} import", f"from baseline.{imported} import")
        spec = importlib.util.spec_from_loader(f"baseline.{name}", loader=None)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        exec(compile(source, f"{revision}:handlers/{name}.py", "exec"), module.__dict__)
        modules[name] = module

    def route(text: str, plan) -> dict:
        command = modules["parse"].parse_command(text)
        name = type(command).__name__
        if name != "Status":
            routed = {"Log": "log", "UsageError": None, "ListActivities": "list"}.get(name, name.lower())
            return {"command": routed, "target": None, "period": None}
        target = modules["status"].resolve_target(command.target, plan)
        return {"command": "status", "target": target.code if target else None, "period": None}

    route.parse = modules["parse"].parse_command
    return route


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git revision whose routing is measured beside")
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    plan = load_plan()
    try:
        baseline = baseline_router(args.baseline)
    except (subprocess.CalledProcessError, Exception) as error:  # no such revision, or its code no longer loads
        print(f"baseline {args.baseline!r} not measured: {error}")
        baseline = None

    questions = load(DATA)
    right: dict[tuple, list[bool]] = defaultdict(list)
    for q in questions:
        gold = (q["command"], q["target"], q["period"])
        got = describe(q["text"], plan, TODAY)
        ours = (got.get("command"), got.get("target"), got.get("period"))
        if ours != gold and args.show_misses:
            print(f"  miss [{q['lang']} {q['split']}] {q['text']!r}: {ours} ≠ {gold}")
        for split in (q["split"], "all"):
            right[("now", q["lang"], split)].append(ours == gold)
            right[("now", "all", split)].append(ours == gold)
            if baseline:
                old = baseline(q["text"], plan)
                right[("before", q["lang"], split)].append((old["command"], old["target"], old["period"]) == gold)
                right[("before", "all", split)].append((old["command"], old["target"], old["period"]) == gold)

    print(f"Questions routed right (command, target and period), {len(questions)} questions, today {TODAY}:")
    _print_splits(right, args.baseline if baseline else None)

    status_dev = args.eval_dir / "status_dev.jsonl"
    if status_dev.exists():
        rows = load(status_dev)
        ours = sum(describe(r["text"], plan, TODAY).get("target") == r["gold"] for r in rows)
        line = f"status_dev.jsonl: {ours}/{len(rows)} = {ours / len(rows):.2f} targets right"
        if baseline:
            old = sum(baseline(r["text"], plan)["target"] == r["gold"] for r in rows)
            line += f" ({args.baseline}: {old}/{len(rows)} = {old / len(rows):.2f})"
        print(line)
    routing(plan, baseline, args)
    return 0


def routed_right(got: dict, gold: dict) -> bool:
    if gold["command"] == "none":  # the honest answer: not a command, or a question about nothing in the plan
        return got.get("command") is None or (got.get("command") in ("status", "gaps") and got.get("target") is None)
    if gold["command"] in ("status", "gaps"):
        return (got.get("command"), got.get("target"), got.get("period")) == (
            gold["command"], gold["target"], gold["period"])
    return got.get("command") == gold["command"]


def routing(plan, baseline, args) -> None:
    rows = load(ROUTING)
    right: dict[tuple, list[bool]] = defaultdict(list)
    for row in rows:
        got = describe(row["text"], plan, TODAY)
        ok = routed_right(got, row)
        if not ok and args.show_misses:
            print(f"  miss [{row['lang']} {row['split']}] {row['text']!r}: "
                  f"{(got.get('command'), got.get('target'), got.get('period'))} ≠ {row['command'], row['target']}")
        for lang in (row["lang"], "all"):
            for split in (row["split"], "all"):
                right[("now", lang, split)].append(ok)
                if baseline:
                    old = baseline(row["text"], plan)
                    right[("before", lang, split)].append(routed_right(old, row))
    print(f"\nChat messages routed right (routing.jsonl: logs, questions, off-topic), {len(rows)} messages:")
    _print_splits(right, args.baseline if baseline else None)
    reports_routed_to_log(baseline_parse=baseline.parse if baseline else None)


REPORTS = (REPO / "benchmarks" / "data" / "match_trilingual.jsonl", REPO.parent / "shared" / "eval" / "match_dev.jsonl")


def reports_routed_to_log(baseline_parse) -> None:
    """Activity reports labelled for matching, typed without "log": the share that is logged."""
    from handlers.parse import Log, parse_command
    for path in REPORTS:
        if not path.exists():
            continue
        texts = [re.sub(r"^\s*log\s+", "", row["text"], flags=re.I) for row in load(path)]
        ours = sum(isinstance(parse_command(t), Log) for t in texts)
        line = f"{path.name}: {ours}/{len(texts)} = {ours / len(texts):.2f} reports typed without 'log' are logged"
        if baseline_parse:
            old = sum(type(baseline_parse(t)).__name__ == "Log" for t in texts)
            line += f" ({old}/{len(texts)} = {old / len(texts):.2f} before)"
        print(line)



def _print_splits(right: dict, baseline_label: str | None) -> None:
    """Share routed right per split and language, now and (with a baseline) before."""
    print(f"{'':8}{'split':8}" + "".join(f"{lang:>14}" for lang in ("en", "fr", "es", "all")))
    for who in ("now", "before") if baseline_label else ("now",):
        label = "now" if who == "now" else baseline_label
        for split in ("tune", "unseen", "all"):
            cells = []
            for lang in ("en", "fr", "es", "all"):
                hits = right[(who, lang, split)]
                cells.append(f"{sum(hits) / len(hits):.2f} ({sum(hits)}/{len(hits)})" if hits else "–")
            print(f"{label:8}{split:8}" + "".join(f"{c:>14}" for c in cells))

if __name__ == "__main__":
    sys.exit(main())
