"""Measure reading, matching and question routing on the held-out sets of benchmarks/holdout/.

Run from the repository root: ``python benchmarks/holdout.py``.

The held-out messages were written apart from the people who tuned the readers, the matcher
and the question router, and nobody tuned on them: they are the nearest thing here to the
messages tapbot meets in use. Everything goes through the paths the chat and ``tapbot parse``
use (``handlers.describe.describe``, ``handlers.matcher.match_indicators``), with no team
history. Per language:
- parse.jsonl: per-field exact match (countries as a set) and every field right, as typed (the
  message must first be recognised as a log) and sent as `log <message>` (reading alone);
- match.jsonl: top-1 and top-3 (any gold code);
- questions.jsonl: command, target and period all right (off-topic lines must not get a target).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from handlers.describe import describe  # noqa: E402
from handlers.matcher import match_indicators  # noqa: E402
from plan_data.loader import load_plan  # noqa: E402

PARSE_TODAY = date(2025, 6, 16)  # the day the log messages were written on
QUESTION_TODAY = date(2026, 12, 1)  # the day the questions were asked on
FIELDS = ("countries", "start_date", "end_date", "participants", "women", "modality", "kind", "countries_stated")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _table(title: str, columns: list[str], rows: dict[str, list[float]], counts: dict[str, int]) -> None:
    print(f"\n{title}")
    print("  " + "lang".ljust(6) + "n".rjust(4) + "".join(c.rjust(max(10, len(c) + 2)) for c in columns))
    for lang in sorted(rows):
        print("  " + lang.ljust(6) + str(counts[lang]).rjust(4)
              + "".join(f"{v:.3f}".rjust(max(10, len(c) + 2)) for c, v in zip(columns, rows[lang], strict=True)))


def parsing(plan, rows: list[dict], show: bool, prefix: str = "") -> None:
    right: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        got = describe(prefix + row["text"], plan, PARSE_TODAY)
        lang = row["lang"]
        counts[lang] += 1
        counts["all"] += 1
        wrong = []
        for name in FIELDS:
            gold = row.get("country") if name == "countries" else row.get(name)
            value = got.get(name)
            same = sorted(value or []) == sorted(gold or []) if name == "countries" else value == gold
            if not same:
                wrong.append(f"{name}: {value!r} ≠ {gold!r}")
            for key in (lang, "all"):
                right[key][name] += same
        for key in (lang, "all"):
            right[key]["every field"] += not wrong
        if show and wrong:
            print(f"  ✗ {row['text']}\n      " + "; ".join(wrong))
    columns = [*FIELDS, "every field"]
    _table(f"Reading logs (parse.jsonl), {'sent as `log <message>`' if prefix else 'as typed, no command word'}",
           columns,
           {lang: [right[lang][c] / counts[lang] for c in columns] for lang in counts}, counts)


def matching(plan, rows: list[dict], show: bool) -> None:
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        ranked = [m.code for m in match_indicators(row["text"], plan, limit=3)]
        top1 = bool(ranked) and ranked[0] in row["gold"]
        top3 = any(code in row["gold"] for code in ranked)
        for key in (row["lang"], "all"):
            counts[key] += 1
            hits[key][0] += top1
            hits[key][1] += top3
        if show and not top1:
            print(f"  ✗ {row['text']}\n      ranked {ranked}, gold {row['gold']}")
    _table("Matching indicators, no team history (match.jsonl)", ["top-1", "top-3"],
           {lang: [hits[lang][0] / counts[lang], hits[lang][1] / counts[lang]] for lang in counts}, counts)


def questions(plan, rows: list[dict], show: bool) -> None:
    right: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        got = describe(row["text"], plan, QUESTION_TODAY)
        if row["command"] == "none":  # off topic: no target, whatever the command word
            ok = got.get("target") is None and got.get("command") != "log"
        else:
            ok = (got.get("command"), got.get("target"), got.get("period")) == (
                row["command"], row["target"], row["period"])
        for key in (row["lang"], "all"):
            counts[key] += 1
            right[key] += ok
        if show and not ok:
            print(f"  ✗ {row['text']}\n      got {got.get('command')} {got.get('target')} {got.get('period')}, "
                  f"gold {row['command']} {row['target']} {row['period']}")
    _table("Routing questions (questions.jsonl)", ["routed right"],
           {lang: [right[lang] / counts[lang]] for lang in counts}, counts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=REPO / "benchmarks" / "holdout")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    plan = load_plan()
    parsing(plan, _lines(args.dir / "parse.jsonl"), args.show_misses)
    parsing(plan, _lines(args.dir / "parse.jsonl"), args.show_misses, prefix="log ")
    matching(plan, _lines(args.dir / "match.jsonl"), args.show_misses)
    questions(plan, _lines(args.dir / "questions.jsonl"), args.show_misses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
