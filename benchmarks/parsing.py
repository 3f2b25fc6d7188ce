"""Measure message parsing and status-question resolution on the labelled dev sets.

Run from the repository root: ``python benchmarks/parsing.py [--eval-dir DIR]``.
Messages go through ``handlers.describe.describe`` — the same path as the chat and
``tapbot parse`` — and are compared field by field with ``parse_dev.jsonl``; a naive
baseline (the first number before a people word, ISO dates only, exact country names)
is measured beside it in the same run. Then ``status_dev.jsonl``: the share of status
questions resolved to their gold target.

Then ``benchmarks/data/parse_three_languages.jsonl``: 90 log messages, 30 each in
English, French and Spanish, written before the rules were tuned and split in two:
"tune" (looked at while writing the rules) and "unseen" (only measured). Each field is
reported per language and split, for tapbot and, in the same run, for the parser as it
was before issue 10 (commit BASELINE_COMMIT, unpacked from git into a temporary folder
and run in a subprocess, so that its figures are measured, not remembered).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from datetime import date
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pycountry  # noqa: E402

from handlers.describe import describe  # noqa: E402
from plan_data.loader import load_plan  # noqa: E402

FIELDS = ("countries", "start_date", "end_date", "participants", "women", "modality")
LOG_FIELDS = FIELDS + ("kind",)
THREE_LANGUAGES = REPO / "benchmarks" / "data" / "parse_three_languages.jsonl"
BASELINE_COMMIT = "8eb23ca"  # main when issue 10 began
_BASELINE_RUNNER = """
import json, sys
from datetime import date
from handlers.describe import describe
from plan_data.loader import load_plan
plan = load_plan()
texts = json.load(sys.stdin)
print(json.dumps([describe(t, plan, date.fromisoformat(sys.argv[1])) for t in texts]))
"""


def baseline_parse(texts: list[str]) -> list[dict] | None:
    """What the parser of BASELINE_COMMIT makes of each text, or None without git history."""
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", BASELINE_COMMIT, "handlers", "plan_data",
                                  "storage"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as baseline:
            baseline.extractall(tmp, filter="data")
        done = subprocess.run([sys.executable, "-c", _BASELINE_RUNNER, TODAY.isoformat()], cwd=tmp,
                              input=json.dumps(texts), capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def three_languages(plan) -> None:
    rows = [json.loads(line) for line in THREE_LANGUAGES.read_text().splitlines() if line.strip()]
    for row in rows:
        row["countries"] = row.pop("country")
    texts = [row["text"] for row in rows]
    results = {"tapbot": [describe(t, plan, TODAY) for t in texts]}
    old = baseline_parse(texts)
    if old is not None:
        results[f"before ({BASELINE_COMMIT})"] = old
    print(f"\n{THREE_LANGUAGES.name}: {len(rows)} messages, per-field accuracy by language and split")
    groups = defaultdict(list)
    for i, row in enumerate(rows):
        groups[(row["split"], row["lang"])].append(i)
    for name, parsed in results.items():
        print(f"\n{name}")
        header = [f"{split}/{lang}" for split, lang in sorted(groups)]
        print(f"{'field':<14}" + "".join(f"{h:>11}" for h in header) + f"{'all':>8}")
        for field in LOG_FIELDS + ("all fields",):
            cells = []
            for key in sorted(groups) + [None]:
                idx = groups[key] if key else range(len(rows))
                fields = LOG_FIELDS if field == "all fields" else (field,)
                hits = [all(same(f, parsed[i].get(f), rows[i][f]) for f in fields) for i in idx]
                cells.append(sum(hits) / len(hits))
            print(f"{field:<14}" + "".join(f"{c:>11.3f}" for c in cells[:-1]) + f"{cells[-1]:>8.3f}")
    misses = [(f, rows[i], results["tapbot"][i].get(f)) for i in range(len(rows)) for f in LOG_FIELDS
              if not same(f, results["tapbot"][i].get(f), rows[i][f])]
    print(f"\ntapbot misses ({len(misses)}):")
    for field, row, got in misses:
        print(f"  [{row['split']}/{row['lang']}] {field}: got {got!r}, gold {row[field]!r} | {row['text']}")
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

    began = time.perf_counter()
    describe("log warm-up workshop in Accra", plan, TODAY)  # loads the country names and the cities once
    print(f"first message (loads country names and GeoNames cities): {(time.perf_counter() - began) * 1000:.0f} ms\n")
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
        cells = [sum(same(field, got.get(field), row[field]) for got, row in zip(parsed, rows, strict=True)) / len(rows)
                 for parsed in results.values()]
        print(f"{field:<14}" + "".join(f"{c:>16.3f}" for c in cells))
    print(f"\ntapbot parse latency per message: p50 {percentile(latencies, 50):.2f} ms, "
          f"p99 {percentile(latencies, 99):.2f} ms")
    misses = [(field, row, got.get(field)) for got, row in zip(results["tapbot"], rows, strict=True) for field in FIELDS
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
    three_languages(plan)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
