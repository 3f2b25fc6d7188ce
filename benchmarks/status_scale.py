"""Measure `status` at scale: grouped SQL (storage/status.py) against adding up in Python.

Run from the repository root:
``python benchmarks/status_scale.py [--activities 1000000] [--database-url URL]``.
Seeds N activities (benchmarks/seed.py) into a fresh database: an SQLite file in
a temporary directory by default; for a PostgreSQL URL, a schema of its own that
is created here and dropped at the end. Then times ``status_data`` (the figures
behind ``tapbot status --json``) for an outcome, a convention, an indicator and a
country, and beside it a naive baseline for the outcome that loads the linked
activities' rows into Python and adds them up there; the two must give the same
figures. Each path runs in a process of its own, so that its peak memory (VmHWM:
that process's ru_maxrss) is its own. A SQLite ``--database-url`` is kept, and
``--activities 0`` times it again without seeding more.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import Connection, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.seed import seed  # noqa: E402
from handlers.status import Target, figures_of, indicator_json, status_data  # noqa: E402
from plan_data.loader import Plan, load_plan  # noqa: E402
from storage.db import make_engine, make_session_factory, normalise_url, upgrade  # noqa: E402
from storage.models import Activity, ActivityCountry, ActivityLanguage, Attendee, IndicatorLink  # noqa: E402
from storage.status import KindFigures, LinkedFigures  # noqa: E402

TARGETS = {"SC2": "outcome", "BC": "convention", "CC1.I3": "indicator", "GH": "country"}
BASELINE_TARGET = "SC2"


# --- the naive baseline ---------------------------------------------------------

def naive_status(conn: Connection, plan: Plan, code: str) -> dict:
    """status_data for an outcome or convention, from rows added up in Python."""
    codes = [i.code for i in plan.indicators_of(code)]
    linked = select(IndicatorLink.activity_id).where(
        IndicatorLink.plan_id == plan.id, IndicatorLink.indicator_code.in_(codes))
    links = conn.execute(select(IndicatorLink.indicator_code, IndicatorLink.activity_id).where(
        IndicatorLink.plan_id == plan.id, IndicatorLink.indicator_code.in_(codes))).all()
    activities = {row.id: row for row in conn.execute(select(Activity.__table__).where(Activity.id.in_(linked)))}
    places: dict[int, set[str]] = defaultdict(set)
    for activity_id, country, role in conn.execute(
            select(ActivityCountry.activity_id, ActivityCountry.country, ActivityCountry.role)
            .where(ActivityCountry.activity_id.in_(linked))):
        if not (role == "host" and activities[activity_id].modality == "online"):
            places[activity_id].add(country)
    for activity_id, country in conn.execute(
            select(Attendee.activity_id, Attendee.country).where(Attendee.activity_id.in_(linked))):
        if country is not None:
            places[activity_id].add(country)
    languages: dict[int, set[str]] = defaultdict(set)
    for activity_id, language in conn.execute(
            select(ActivityLanguage.activity_id, ActivityLanguage.language)
            .where(ActivityLanguage.activity_id.in_(linked))):
        languages[activity_id].add(language)

    per_indicator: dict[str, list] = {c: [] for c in codes}
    for indicator_code, activity_id in links:
        row = activities[activity_id]
        if row.deleted_at is None and row.status == "done":
            per_indicator[indicator_code].append(row)
    indicators = [indicator_json(plan, c, figures_of(plan, c, _group(plan, per_indicator[c], places, languages)))
                  for c in codes]
    return {"target": code, "kind": TARGETS[code], "plan": plan.id, "indicators": indicators}


def _group(plan: Plan, rows: list, places: dict[int, set[str]], languages: dict[int, set[str]]) -> LinkedFigures:
    """The linked activities' figures by kind and product, added up row by row in Python."""
    linked = LinkedFigures()
    groups: dict[tuple, KindFigures] = {}
    for row in sorted(rows, key=lambda r: r.id):
        if row.start_date is None:
            linked.undated.append(row.id)
            continue
        held = row.end_date or row.start_date
        if row.start_date < plan.start or held > plan.end:
            linked.outside_period.append(row.id)
            continue
        g = groups.setdefault((row.kind, row.product_kind), KindFigures(kind=row.kind, product_kind=row.product_kind))
        listed_only = row.participants is None and row.attendee_count > 0
        total = row.participants if row.participants is not None else (row.attendee_count or None)
        if total is None and row.women is not None and row.men is not None:
            total = row.women + row.men
        women = row.women if row.women is not None else (row.attendee_women if listed_only else None)
        men = row.men if row.men is not None else (row.attendee_men if listed_only else None)
        if total is not None:
            women, men = (women if women is not None else (total - men if men is not None else None),
                          men if men is not None else (total - women if women is not None else None))
        else:
            women = men = None
        g.activities += 1
        g.participants += total or 0
        if women is not None:
            g.women = (g.women or 0) + women
        if men is not None:
            g.men = (g.men or 0) + men
        if women is not None or men is not None:
            g.participants_with_sex += (women or 0) + (men or 0)
        g.products += row.products or 0
        if row.centre:
            g.centres.add(row.centre)
        g.languages |= languages.get(row.id, set())
        g.last_date = max(filter(None, (g.last_date, held)))
        for country in places.get(row.id, set()):
            g.reached[country] = max(held, g.reached.get(country, held))
    linked.groups = list(groups.values())
    return linked


# --- workers: one path per process, so that its peak memory is that path's -------

def work(url: str, path: str, code: str, repeats: int) -> dict:
    """Time one path on one target; the first call (cold caches) is kept apart."""
    plan = load_plan()
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        session.execute(text("SELECT 1"))  # connected, dialect set up: the floor is imports and a connection
    floor_kb = _memory_kb("VmRSS")
    times, data = [], None
    for _ in range(repeats + 1):
        with factory() as session:
            started = time.perf_counter()
            if path == "sql":
                data = status_data(session, plan, Target(TARGETS[code], code))
            else:
                data = naive_status(session.connection(), plan, code)
            times.append(time.perf_counter() - started)
    peak_kb = _memory_kb("VmHWM")
    return {"first": times[0], "times": times[1:], "floor_kb": floor_kb, "peak_kb": peak_kb, "data": data}


def _memory_kb(field: str) -> int:
    # VmHWM is this process's peak RSS, like ru_maxrss; but ru_maxrss survives exec on
    # Linux, so a worker forked from the seeding parent would report the parent's peak.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_worker(url: str, path: str, code: str, repeats: int) -> dict:
    # The URL goes in on stdin: a password in it would show in `ps` as an argument.
    out = subprocess.run(
        [sys.executable, __file__, "--worker", path, code, "--repeats", str(repeats)],
        input=url, check=True, capture_output=True, text=True, cwd=REPO,
    )
    return json.loads(out.stdout)


# --- databases ------------------------------------------------------------------

@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """The URL to benchmark: a temporary SQLite file, the given SQLite URL, or a
    fresh schema in the given PostgreSQL database (dropped afterwards)."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="tapbot-status-") as tmp:
            yield f"sqlite:///{tmp}/status_scale.db"
        return
    url = normalise_url(url)
    if not url.startswith("postgresql"):
        yield url
        return
    schema = f"bench_status_{secrets.token_hex(4)}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


SEEDED_TABLES = ("activities", "activity_countries", "activity_languages", "indicator_links", "attendees")


def prepare(url: str, n: int, plan: Plan, seed_value: int) -> int:
    """Migrate, seed and (PostgreSQL) vacuum the database; the number of activities in it."""
    engine = make_engine(url)
    upgrade(engine)
    dialect = engine.dialect.name
    if n:
        stats = seed(engine, n, plan, seed=seed_value)
        rows = stats.activities + stats.countries + stats.languages + stats.links + stats.attendees
        print(f"{dialect}: seeded {stats.activities:,} activities ({stats.countries:,} countries, "
              f"{stats.languages:,} languages, {stats.links:,} indicator links, {stats.attendees:,} attendee "
              f"rows) in {stats.seconds:.1f} s, {rows / stats.seconds:,.0f} rows/s")
    if dialect == "postgresql":
        # What autovacuum does to freshly loaded tables (statistics, visibility map) before
        # anyone asks; only this schema's tables. SQLite gets no ANALYZE: tapbot never runs one.
        started = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM (ANALYZE) {', '.join(SEEDED_TABLES)}"))
        print(f"postgresql: VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s")
    with engine.connect() as conn:
        held = conn.scalar(select(func.count(Activity.id)))
    engine.dispose()
    return held


def time_targets(url: str, repeats: int) -> dict[str, dict]:
    print(f"{'target':8} {'kind':11} {'cold':>10} {'p50':>10} {'p99':>10} {'peak RSS':>10} {'query adds':>11}")
    results = {}
    for code, kind in TARGETS.items():
        r = results[code] = run_worker(url, "sql", code, repeats)
        print(f"{code:8} {kind:11} {ms(r['first']):>10} {ms(statistics.median(r['times'])):>10} "
              f"{ms(percentile(r['times'], 99)):>10} {mb(r['peak_kb']):>10} {mb(r['peak_kb'] - r['floor_kb']):>11}")
    return results


def compare_with_naive(url: str, fast: dict, repeats: int) -> None:
    """Time the naive baseline, print the ratios, and fail unless both give the same figures."""
    naive = run_worker(url, "naive", BASELINE_TARGET, repeats)
    sql_p50, naive_p50 = statistics.median(fast["times"]), statistics.median(naive["times"])
    print(f"\nnaive {BASELINE_TARGET} (rows into Python, added up there): cold {ms(naive['first'])}, "
          f"p50 {ms(naive_p50)}, p99 {ms(percentile(naive['times'], 99))}, "
          f"peak RSS {mb(naive['peak_kb'])} (query adds {mb(naive['peak_kb'] - naive['floor_kb'])})")
    growth = (fast["peak_kb"] - fast["floor_kb"]) / max(1, naive["peak_kb"] - naive["floor_kb"])
    print(f"SQL/naive for {BASELINE_TARGET}: p50 {sql_p50 / naive_p50:.3f} (naive is {naive_p50 / sql_p50:.1f}x "
          f"slower), peak RSS {fast['peak_kb'] / naive['peak_kb']:.2f}, what the query adds {growth:.2f}")
    if fast["data"] != naive["data"]:
        for got, want in zip(fast["data"]["indicators"], naive["data"]["indicators"], strict=True):
            if got != want:
                print(f"  differs: {got['code']}: sql {got} naive {want}")
        raise AssertionError(f"status_data and the naive baseline disagree on {BASELINE_TARGET}")
    print(f"figures equal: {len(fast['data']['indicators'])} indicators of {BASELINE_TARGET}, e.g. "
          + ", ".join(f"{i['code']}={i['value']} {i['unit']}" for i in fast["data"]["indicators"][:3]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=1_000_000, help="activities to seed (default 10^6)")
    parser.add_argument("--database-url", help="default: an SQLite file in a temporary directory")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per target, after one cold run")
    parser.add_argument("--naive-repeats", type=int, default=3, help="timed runs of the naive baseline")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", nargs=2, metavar=("PATH", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(work(sys.stdin.read().strip(), *args.worker, args.repeats), default=str))
        return 0

    plan = load_plan()
    with database(args.database_url) as url:
        held = prepare(url, args.activities, plan, args.seed)
        dialect = make_url(url).get_backend_name()
        # The machine may be shared: the load says how much the times below can be trusted.
        print(f"\nstatus_data on {held:,} activities, {dialect}: {args.repeats} timed runs after a cold one, "
              f"each path in a process of its own (load average {os.getloadavg()[0]:.1f})")
        sql = time_targets(url, args.repeats)
        compare_with_naive(url, sql[BASELINE_TARGET], args.naive_repeats)
        print(f"(load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
