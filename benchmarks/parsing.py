"""Measure message parsing and status-question resolution on the labelled dev set.

Run from the repository root: ``python benchmarks/parsing.py [--eval-dir DIR]``.
Messages go through ``handlers.describe.describe`` — the same path as the chat and
``tapbot parse`` — and are compared field by field with ``parse_dev.jsonl``; a naive
baseline (the first number before a people word, ISO dates only, exact country names)
is measured beside it in the same run. Then ``status_dev.jsonl``: the share of status
questions resolved to their gold target.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pycountry  # noqa: E402

from handlers.describe import describe  # noqa: E402
from plan_data.loader import load_plan  # noqa: E402

FIELDS = ("countries", "start_date", "end_date", "participants", "women", "modality")
TODAY = date(2025, 6, 16)  # the dev set's messages are all in the past of this day


def naive(text: str) -> dict:
    iso = re.findall(r"\d{4}-\d{2}-\d{2}", text)
    people = re.search(r"(\d+)\s+(?:participants|people|ppl)", text)
    women = re.search(r"(\d+)\s+women", text)
    countries = [c.alpha_2 for c in pycountry.countries if re.search(rf"\b{re.escape(c.name)}\b", text)]
    modality = "online" if "online" in text.lower() else "in_person" if "in person" in text.lower() else None
    return {"countries": countries, "start_date": iso[0] if iso else None, "end_date": iso[-1] if iso else None,
            "participants": int(people.group(1)) if people else None,
            "women": int(women.group(1)) if women else None, "modality": modality}


def same(field: str, got, gold) -> bool:
    return set(got or []) == set(gold or []) if field == "countries" else got == gold


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    args = parser.parse_args(argv)
    plan = load_plan()
    rows = [json.loads(line) for line in (args.eval_dir / "parse_dev.jsonl").read_text().splitlines() if line.strip()]
    for row in rows:
        row["countries"] = row.pop("country")

    describe("warm-up", plan, TODAY)
    results = {"naive baseline": [], "tapbot": []}
    latencies = []
    for row in rows:
        results["naive baseline"].append(naive(row["text"]))
        start = time.perf_counter()
        results["tapbot"].append(describe(row["text"], plan, TODAY))
        latencies.append((time.perf_counter() - start) * 1000)

    print(f"parse_dev.jsonl: {len(rows)} messages, per-field accuracy\n")
    print(f"{'field':<14}" + "".join(f"{name:>16}" for name in results))
    for field in FIELDS:
        cells = [sum(same(field, got.get(field), row[field]) for got, row in zip(parsed, rows)) / len(rows)
                 for parsed in results.values()]
        print(f"{field:<14}" + "".join(f"{c:>16.3f}" for c in cells))
    print(f"\ntapbot parse latency per message: p50 {percentile(latencies, 50):.2f} ms, "
          f"p99 {percentile(latencies, 99):.2f} ms")
    misses = [(field, row, got.get(field)) for got, row in zip(results["tapbot"], rows) for field in FIELDS
              if not same(field, got.get(field), row[field])]
    print(f"\ntapbot misses ({len(misses)}):")
    for field, row, got in misses:
        print(f"  {field}: got {got!r}, gold {row[field]!r} | {row['text']}")

    status_rows = [json.loads(line) for line in (args.eval_dir / "status_dev.jsonl").read_text().splitlines()
                   if line.strip()]
    resolved = [(row, describe(row["text"], plan, TODAY)) for row in status_rows]
    hits = sum(got.get("command") == "status" and got.get("target") == row["gold"] for row, got in resolved)
    print(f"\nstatus_dev.jsonl: {hits}/{len(status_rows)} = {hits / len(status_rows):.3f} resolved to the gold target")
    for row, got in resolved:
        if got.get("target") != row["gold"]:
            print(f"  gold {row['gold']}, got {got.get('target')} | {row['text']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
