"""Measure indicator matching on the labelled dev set (status questions: benchmarks/parsing.py).

Run from the repository root: ``python benchmarks/matching.py [--eval-dir DIR]``.
Compares a baseline (rapidfuzz token_set_ratio against the indicator text alone)
with tapbot's matcher: top-1, top-3, MRR and per-message latency, then the
misses.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rapidfuzz import fuzz  # noqa: E402

from handlers.matcher import AUTO_LINK_CONFIDENCE, confidence, match_indicators  # noqa: E402
from plan_data.loader import Plan, load_plan  # noqa: E402


def baseline(text: str, plan: Plan, limit: int = 5) -> list[str]:
    scored = [(fuzz.token_set_ratio(text, ind.text), code) for code, ind in plan.indicators.items()]
    scored.sort(key=lambda s: -s[0])  # stable: ties stay in plan order
    return [code for _, code in scored[:limit]]


def tapbot(text: str, plan: Plan, limit: int = 5) -> list[str]:
    return [m.code for m in match_indicators(text, plan, limit)]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run_ranker(rank, rows: list[dict], plan: Plan, repeats: int) -> dict:
    rank("", plan)  # build per-plan indexes outside the timing
    top1 = top3 = rr = 0.0
    latencies: list[float] = []
    cold: list[float] = []  # first sight of each message: typo corrections not cached yet
    misses = []
    for row in rows:
        t0 = time.perf_counter()
        rank(row["text"], plan, 10)
        cold.append((time.perf_counter() - t0) * 1000)
        for _ in range(repeats):
            t0 = time.perf_counter()
            ranked = rank(row["text"], plan, 10)
            latencies.append((time.perf_counter() - t0) * 1000)
        hit = next((k for k, code in enumerate(ranked) if code in row["gold"]), None)
        top1 += hit == 0
        top3 += hit is not None and hit < 3
        rr += 1 / (hit + 1) if hit is not None else 0
        if hit != 0:
            misses.append((row, ranked[:3]))
    n = len(rows)
    return {
        "top1": top1 / n, "top3": top3 / n, "mrr": rr / n,
        "p50": statistics.median(latencies), "p99": percentile(latencies, 99),
        "cold_p99": percentile(cold, 99), "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    ap.add_argument("--plan", type=Path, default=None, help="plan file (default: the bundled plan)")
    ap.add_argument("--repeats", type=int, default=20, help="timed runs per message")
    args = ap.parse_args(argv)

    plan = load_plan(args.plan)
    rows = read_jsonl(args.eval_dir / "match_dev.jsonl")
    # Each ranker gets its own freshly loaded plan, so no cache is shared between them.
    results = {"baseline": run_ranker(baseline, rows, load_plan(args.plan), args.repeats),
               "tapbot": run_ranker(tapbot, rows, load_plan(args.plan), args.repeats)}

    print(f"match_dev.jsonl: {len(rows)} messages, plan {plan.id}")
    print(f"{'ranker':10} {'top-1':>6} {'top-3':>6} {'MRR':>6} {'p50 ms':>8} {'p99 ms':>8} {'cold p99':>9}")
    for name, r in results.items():
        print(f"{name:10} {r['top1']:6.3f} {r['top3']:6.3f} {r['mrr']:6.3f} "
              f"{r['p50']:8.3f} {r['p99']:8.3f} {r['cold_p99']:9.3f}")
    print(f"(latency per message over {args.repeats} timed runs each; cold = first run of each message)")

    for name, r in results.items():
        print(f"\n{name} misses at top-1 ({len(r['misses'])}):")
        for row, top in r["misses"]:
            print(f"  #{row.get('id')}: gold {','.join(row['gold'])} got {','.join(top)} | {row['text'][:90]}")

    # How well confidence separates right from wrong top-1s, to set AUTO_LINK_CONFIDENCE.
    print(f"\nconfidence of tapbot's top-1 (AUTO_LINK_CONFIDENCE = {AUTO_LINK_CONFIDENCE}):")
    confs = []
    for row in rows:
        matches = match_indicators(row["text"], plan)
        top = matches[0].code
        confs.append((confidence(matches), top in row["gold"], top == row["gold"][0]))
    auto = [(ok, primary) for c, ok, primary in confs if c > AUTO_LINK_CONFIDENCE]
    wrong = max((c for c, ok, _ in confs if not ok), default=None)
    not_primary = max((c for c, _, primary in confs if not primary), default=None)
    print(f"  linked without asking: {len(auto)}/{len(confs)}; of those in gold {sum(a for a, _ in auto)}, "
          f"the primary gold {sum(p for _, p in auto)}")
    print(f"  highest confidence of a top-1 not in gold: {wrong if wrong is not None else '-'}; "
          f"not the primary gold: {not_primary if not_primary is not None else '-'}")

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
