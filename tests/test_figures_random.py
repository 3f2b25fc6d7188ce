"""Figures against a naive recomputation in plain Python after random logs, edits, deletes,
attendee lists and undos; and status and digest agreeing on the same random data."""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.digest_content import digest_data
from handlers.status import Target, status_data
from plan_data.parties import bundled_parties
from storage.activities import (
    Actor,
    add_attendees,
    create_activity,
    delete_activity,
    edit_activity,
    last_undoable,
    undo,
)
from storage.models import Activity

# One indicator per rule: Parties of one convention, cross-cutting Parties, kinds, products,
# participants, regional centres.
CODES = ["RC2.I4", "CC1.I5", "CC1.I3", "SC2.I4", "SC2.I5", "CC2.I2"]
COUNTRIES = ["GH", "TG", "US", "VA", "NU", "CK", "CH", "EU", "SN"]
KINDS = ["workshop", "training", "webinar", "meeting", "online_course"]
CENTRES = ["bcrc-senegal", "bcrc-china", "scrc-spain", None]
ACTOR = Actor("amina", "Amina", "console")


def _some_date(rng: random.Random) -> date | None:
    return None if rng.random() < 0.1 else date(2020, 1, 1) + timedelta(days=rng.randrange(365 * 7))


def _random_fields(rng: random.Random) -> dict:
    participants = rng.choice([None, rng.randrange(0, 60)])
    women = men = None
    if rng.random() < 0.7:
        cap = participants if participants is not None else 30
        women = rng.choice([None, rng.randrange(0, cap + 1)])
        men = rng.choice([None, rng.randrange(0, cap - (women or 0) + 1)])
    start = _some_date(rng)
    return {"kind": rng.choice(KINDS), "modality": rng.choice([None, "online", "in_person"]), "start_date": start,
            "end_date": start and start + timedelta(days=rng.randrange(3)), "participants": participants,
            "women": women, "men": men, "products": rng.choice([None, 1, 2, 3]),
            "product_kind": rng.choice([None, "case_study", "guidance"]), "centre": rng.choice(CENTRES),
            "status": rng.choice(["done"] * 5 + ["planned"])}


def _scramble(ctx, rng: random.Random, steps: int) -> None:
    plan = ctx.plan
    for _ in range(steps):
        with ctx.sessions() as session:
            ids = list(session.scalars(select(Activity.id).where(Activity.deleted_at.is_(None))))
            action = rng.random()
            if action < 0.45 or not ids:
                codes = rng.sample(CODES, rng.randrange(1, 3))
                countries = rng.sample(COUNTRIES, rng.randrange(0, 4))
                create_activity(session, ACTOR, conversation_id="c", raw_text="random", countries=countries,
                                languages=[], links=[(plan.id, plan.indicators[c].outcome, c, "explicit", None)
                                                     for c in codes],
                                host=rng.choice([None, *countries]), title="random", **_random_fields(rng))
            else:
                activity = session.get(Activity, rng.choice(ids))
                if action < 0.65:
                    fields = _random_fields(rng)
                    edit_activity(session, ACTOR, activity, {k: fields[k] for k in rng.sample(sorted(fields), 3)})
                elif action < 0.75:
                    delete_activity(session, ACTOR, activity)
                elif action < 0.9:
                    add_attendees(session, ACTOR, activity, [
                        {"name": None, "organisation": None, "country": rng.choice([None, *COUNTRIES]),
                         "sex": rng.choice([None, "female", "male"]), "role": None, "count": rng.randrange(1, 6)}
                        for _ in range(rng.randrange(1, 3))])
                else:
                    entry = last_undoable(session, ACTOR.user_id)
                    if entry is not None:
                        undo(session, ACTOR, entry)
            session.commit()


def _naive(ctx) -> dict[str, dict]:
    """Each rule written out plainly, one activity at a time."""
    plan, parties = ctx.plan, bundled_parties()
    with ctx.sessions() as session:
        activities = list(session.scalars(select(Activity).options(
            selectinload(Activity.links), selectinload(Activity.countries), selectinload(Activity.attendees))))
        result = {}
        for code in CODES:
            indicator = plan.indicators[code]
            convention = plan.convention_of(code)
            value = n = people = 0
            women = men = None
            sexed = 0
            reached: dict[str, date] = {}
            centres, products = set(), 0
            for a in activities:
                linked = [link.indicator_code for link in a.links]
                if a.deleted_at is not None or a.status != "done" or code not in linked:
                    continue
                if a.start_date is None or a.start_date < plan.start or (a.end_date or a.start_date) > plan.end:
                    continue
                if indicator.kinds and a.kind not in indicator.kinds:
                    continue
                if indicator.product and a.product_kind != indicator.product:
                    continue
                n += 1
                listed = sum(x.count for x in a.attendees)
                total = a.participants if a.participants is not None else (listed or None)
                if total is None and a.women is not None and a.men is not None:
                    total = a.women + a.men
                people += total or 0
                if total is not None:
                    all_known = all(x.sex for x in a.attendees)
                    from_list = a.participants is None and listed > 0 and all_known
                    w = a.women if a.women is not None else (
                        sum(x.count for x in a.attendees if x.sex == "female") if from_list else None)
                    m = a.men if a.men is not None else (
                        sum(x.count for x in a.attendees if x.sex == "male") if from_list else None)
                    w, m = (w if w is not None else (total - m if m is not None else None),
                            m if m is not None else (total - w if w is not None else None))
                    if w is not None:
                        women = (women or 0) + w
                    if m is not None:
                        men = (men or 0) + m
                    if w is not None or m is not None:
                        sexed += (w or 0) + (m or 0)
                held = a.end_date or a.start_date
                countries = {c.country for c in a.countries if not (c.role == "host" and a.modality == "online")}
                countries |= {x.country for x in a.attendees if x.country}
                for c in countries:
                    reached[c] = max(held, reached.get(c, held))
                if a.centre:
                    centres.add(a.centre)
                products += a.products or 0
            value = {"parties": sum(parties.was_party(convention, c, d) for c, d in reached.items()),
                     "trainings": n, "products": products, "participants": people,
                     "regional_centres": len(centres)}[indicator.measure]
            result[code] = {"value": value, "activities": n, "participants": people, "women": women, "men": men,
                            "sex_not_stated": max(people - sexed, 0), "countries": sorted(reached)}
        return result


def _reported(ctx) -> dict[str, dict]:
    keys = ("value", "activities", "participants", "women", "men", "sex_not_stated", "countries")
    with ctx.sessions() as session:
        out = {}
        for code in CODES:
            row = status_data(session, ctx.plan, Target("indicator", code))["indicators"][0]
            out[code] = {k: row[k] for k in keys}
        return out


def test_figures_equal_a_naive_recomputation_after_random_changes(ctx):
    rng = random.Random(20261201)
    for _ in range(6):
        _scramble(ctx, rng, 12)
        assert _reported(ctx) == _naive(ctx)


def test_status_and_digest_agree_on_random_data(ctx):
    rng = random.Random(11)
    _scramble(ctx, rng, 40)
    with ctx.sessions() as session:
        status = {code: status_data(session, ctx.plan, Target("indicator", code))["indicators"][0] for code in CODES}
        digest = digest_data(session, ctx.plan, "", date(2025, 12, 1), date(2025, 12, 31), date(2025, 12, 31))
    assert {code: digest.values[code] for code in CODES} == {code: status[code]["value"] for code in CODES}
    left_out = {i for row in status.values() for i in row["undated"]}
    assert set(digest.undated) >= left_out  # every indicator's undated ones, in status and digest alike
