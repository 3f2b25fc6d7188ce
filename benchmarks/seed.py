"""Fill a tapbot database with many plausible activities, fast, for benchmarks.

``seed(engine, n, plan, seed=1)`` adds ``n`` activities to a migrated database
(empty or not) with Core bulk inserts: each table's rows go in as one
executemany per batch of activities, with their ids given, so nothing is read
back. The data is random but shaped like the real log: kinds, modalities and
dates 2022-2025, 1-6 UN countries each (the host first), head counts with and
without women, languages, 1-2 indicator links with their outcome, a few
attendee lists, and some planned, cancelled or deleted activities that the
figures must leave out. The same ``seed`` gives the same rows.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from sqlalchemy import Connection, Engine, func, insert, select, text

from plan_data.countries import all_countries
from plan_data.loader import Plan
from storage.models import Activity, ActivityCountry, ActivityLanguage, Attendee, IndicatorLink

BATCH = 20_000  # activities per executemany round; their links, countries… go with them

KINDS = ("workshop", "training", "webinar", "online_course", "meeting", "pilot_project",
         "guidance_launch", "other")
KIND_WEIGHTS = (30, 15, 15, 5, 15, 8, 5, 7)
KIND_WORDS = {"workshop": "Workshop", "training": "Training", "webinar": "Webinar",
              "online_course": "Online course", "meeting": "Meeting", "pilot_project": "Pilot project",
              "guidance_launch": "Launch of guidance", "other": "Activity"}
TOPICS = ("illegal traffic of hazardous wastes", "e-waste inventories", "POPs in products",
          "national implementation plans", "PIC procedure", "plastic waste amendments",
          "customs enforcement", "pesticide registration", "mercury-added products",
          "gender mainstreaming in chemicals management", "DDT alternatives", "PCB elimination")
ORGANISERS = (None, "Secretariat", "BCRC Senegal", "BCRC Nigeria", "BCRC South Africa", "BCRC Egypt",
              "BCRC China", "BCRC Indonesia", "BCRC Iran", "BCRC Slovakia", "BCRC Russian Federation",
              "BCRC Argentina", "BCRC Uruguay", "BCRC Trinidad and Tobago", "SCRC Brazil", "SCRC Mexico",
              "SCRC Panama", "SCRC India", "SCRC Kenya", "SCRC Algeria", "SCRC Czech Republic",
              "SCRC Spain", "FAO", "UNEP Chemicals and Health Branch", "UNITAR")
LANGUAGES = ("en", "fr", "es", "ar", "ru", "zh")
LANGUAGE_WEIGHTS = (60, 15, 15, 4, 3, 3)
CHANNELS = ("slack", "teams", "terminal")
COUNTRY_COUNT_WEIGHTS = (50, 20, 12, 8, 6, 4)  # 1 to 6 countries
FIRST_DAY = date(2022, 1, 1)
DAYS = (date(2025, 12, 31) - FIRST_DAY).days + 1


@dataclass(frozen=True)
class SeedStats:
    activities: int
    countries: int
    languages: int
    links: int
    attendees: int
    seconds: float


def seed(engine: Engine, n: int, plan: Plan, seed: int = 1, batch: int = BATCH) -> SeedStats:
    """Add ``n`` random activities (with their countries, languages, links, attendees)."""
    rng = random.Random(seed)
    codes = [c.code for c in all_countries()]
    names = {c.code: c.name for c in all_countries()}
    indicators = [(i.code, i.outcome) for i in plan.indicators.values()]
    users = [(f"U{rng.randrange(16**8):08X}", f"Trainer {k + 1}") for k in range(60)]
    totals = dict.fromkeys(("activities", "countries", "languages", "links", "attendees"), 0)
    started = time.perf_counter()
    with engine.connect() as conn:
        next_id = {model: (conn.scalar(select(func.max(model.id))) or 0) + 1
                   for model in (Activity, IndicatorLink, Attendee)}
        for first in range(0, n, batch):
            rows = _batch(rng, min(batch, n - first), next_id, plan.id, codes, names, indicators, users)
            for model, key in ((Activity, "activities"), (ActivityCountry, "countries"),
                               (ActivityLanguage, "languages"), (IndicatorLink, "links"), (Attendee, "attendees")):
                _insert(conn, model, rows[key])
                totals[key] += len(rows[key])
            conn.commit()
        if conn.dialect.name == "postgresql":
            # The ids were given, so the sequences never moved: move them past the rows,
            # or the next activity logged the ordinary way would collide.
            for model in next_id:
                table = model.__tablename__
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
            conn.commit()
    return SeedStats(**totals, seconds=time.perf_counter() - started)


def _insert(conn: Connection, model, rows: list[dict]) -> None:
    if rows:
        # A list of parameter sets makes one DBAPI executemany (pipelined on psycopg 3).
        conn.execute(insert(model), rows)


def _batch(rng: random.Random, n: int, next_id: dict, plan_id: str, codes: list[str], names: dict[str, str],
           indicators: list[tuple[str, str]], users: list[tuple[str, str]]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {k: [] for k in ("activities", "countries", "languages", "links", "attendees")}
    kinds = rng.choices(KINDS, KIND_WEIGHTS, k=n)
    country_counts = rng.choices(range(1, 7), COUNTRY_COUNT_WEIGHTS, k=n)
    for kind, n_countries in zip(kinds, country_counts, strict=True):
        activity_id = next_id[Activity]
        next_id[Activity] += 1
        countries = rng.sample(codes, n_countries)
        start = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        end = start + timedelta(days=rng.randrange(1, 5)) if rng.random() < 0.5 else None
        created = datetime.combine(end or start, clock(rng.randrange(7, 19), rng.randrange(60)), UTC)
        modality = ("online" if kind in ("webinar", "online_course")
                    else rng.choice(("in_person", "in_person", "hybrid", "online", None)))
        participants, women = _head_counts(rng, kind)
        attendee_count, attendee_women = 0, None
        if rng.random() < 0.03:  # a few activities come with an attendee list
            attendee_count, attendee_women = _attendees(rng, out["attendees"], next_id, activity_id, countries, codes)
            if rng.random() < 0.5:  # and then often no stated total: figures fall back on the list
                participants = women = None
        roll = rng.random()
        status = "planned" if roll < 0.04 else "cancelled" if roll < 0.07 else "done"
        user_id, user_name = rng.choice(users)
        title = f"{KIND_WORDS[kind]} on {rng.choice(TOPICS)} in {names[countries[0]]}"
        out["activities"].append({
            "id": activity_id, "title": title, "kind": kind, "modality": modality,
            "start_date": start, "end_date": end,
            "city": None, "country": countries[0] if modality != "online" else None,
            "organiser": rng.choice(ORGANISERS),
            "participants": participants, "women": women,
            "men": participants - women if participants is not None and women is not None else None,
            "attendee_count": attendee_count, "attendee_women": attendee_women,
            "status": status,
            "raw_text": f"log {title}, {start.isoformat()}, {participants or 'some'} participants",
            "channel": rng.choice(CHANNELS), "conversation_id": f"C{activity_id % 500:06d}",
            "user_id": user_id, "user_name": user_name,
            "created_at": created, "updated_at": created,
            "deleted_at": created + timedelta(days=3) if rng.random() < 0.02 else None,
        })
        out["countries"].extend({"activity_id": activity_id, "country": c, "position": k}
                                for k, c in enumerate(countries))
        languages = {rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]}
        if rng.random() < 0.2:
            languages.add(rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0])
        out["languages"].extend({"activity_id": activity_id, "language": lang} for lang in sorted(languages))
        for code, outcome in rng.sample(indicators, 1 if rng.random() < 0.7 else 2):
            method = rng.choice(("explicit", "fuzzy", "confirmed"))
            out["links"].append({
                "id": next_id[IndicatorLink], "activity_id": activity_id, "plan_id": plan_id,
                "indicator_code": code, "outcome_code": outcome, "method": method,
                "score": round(rng.uniform(0.6, 1.0), 3) if method == "fuzzy" else None,
                "created_by": user_id, "created_at": created,
            })
            next_id[IndicatorLink] += 1
    return out


def _head_counts(rng: random.Random, kind: str) -> tuple[int | None, int | None]:
    if kind in ("guidance_launch", "other") and rng.random() < 0.6 or rng.random() < 0.1:
        return None, None
    participants = max(1, int(rng.lognormvariate(3.2, 0.8)))  # median ~25, a long tail of big webinars
    women = round(participants * rng.uniform(0.15, 0.7)) if rng.random() < 0.7 else None
    return participants, women


def _attendees(rng: random.Random, rows: list[dict], next_id: dict, activity_id: int,
               countries: list[str], codes: list[str]) -> tuple[int, int | None]:
    count = women = 0
    known = True
    for _ in range(rng.randrange(1, 5)):
        n = rng.randrange(1, 16)
        sex = rng.choice(("female", "female", "male", "male", None))
        # Mostly from the activity's countries; now and then from one not listed on it.
        country = rng.choice(countries) if rng.random() < 0.8 else rng.choice(codes + [None])
        rows.append({"id": next_id[Attendee], "activity_id": activity_id, "name": None,
                     "organisation": None, "country": country, "sex": sex, "role": None, "count": n,
                     "created_at": datetime(2025, 1, 1, tzinfo=UTC)})
        next_id[Attendee] += 1
        count += n
        women += n if sex == "female" else 0
        known = known and sex is not None
    # As storage.activities keeps it: women from the list only when every sex is known.
    return count, women if known else None
