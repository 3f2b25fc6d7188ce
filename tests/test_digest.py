"""`digest …` replies, the schedule arithmetic, and a digest's content, which must agree with `status`."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from handlers.digest import (
    Schedule,
    Subscribe,
    current_period,
    last_period,
    parse_digest,
    resolve_zone,
    run_digest,
)
from handlers.digest_content import digest_data
from handlers.messages import Incoming, ReplyKind
from handlers.render import render_text
from handlers.status import Target, status_data
from storage import status as figures_db
from storage.activities import Actor, create_activity
from storage.models import ConversationRef, DigestDelivery, DigestSubscription

UTC = UTC
MONDAY = datetime(2025, 6, 16, 9, 30, tzinfo=UTC)  # 11:30 in Geneva, after that day's 09:00 run
ROOM = Incoming("digest", "amina", "console", "console")


def digest(ctx, args: str, now: datetime = MONDAY, incoming: Incoming = ROOM):
    with ctx.sessions() as session:
        reply = run_digest(session, ctx, incoming, args, now=now)
        if reply.kind is not ReplyKind.ERROR:
            session.commit()
    reply.text = render_text(reply)
    return reply


def add(ctx, title: str, day: date | None, codes: list[str] = (), countries: list[str] = ("GH",),
        participants: int | None = 20, women: int | None = 8, kind: str = "workshop", status: str = "done",
        created_at: datetime | None = None) -> int:
    """An activity as `log` would store it, with exactly the fields a test needs."""
    with ctx.sessions() as session:
        links = [(ctx.plan.id, ctx.plan.indicators[c].outcome, c, "explicit", None) for c in codes]
        activity = create_activity(
            session, Actor("amina", "Amina", "console"), conversation_id="console", raw_text=title,
            countries=list(countries), languages=[], links=links, title=title, kind=kind, start_date=day,
            end_date=day, participants=participants, women=women, status=status,
            **({"created_at": created_at} if created_at else {}))
        session.commit()
        return activity.id


def status_values(ctx, target: str) -> dict[str, int]:
    kind = "convention" if target in ctx.plan.conventions else "outcome"
    with ctx.sessions() as session:
        data = status_data(session, ctx.plan, Target(kind, target))
    return {row["code"]: row["value"] for row in data["indicators"]}


# --- time zones and schedules ---------------------------------------------------------------


def test_cities_people_say_map_to_their_zone():
    assert resolve_zone("Geneva") == "Europe/Zurich"  # there is no Europe/Geneva
    assert resolve_zone("Nairobi") == "Africa/Nairobi"
    assert resolve_zone("Panama") == "America/Panama"
    assert resolve_zone("europe/zurich") == "Europe/Zurich"
    assert resolve_zone("New York") == "America/New_York"
    assert resolve_zone("Dar es Salaam") == "Africa/Dar_es_Salaam"
    assert resolve_zone("Atlantis") is None


def test_a_weekly_period_is_the_week_before_the_run_in_the_subscriptions_zone():
    geneva = Schedule("weekly", 9, 0, "Europe/Zurich", weekday=0)
    period = last_period(geneva, MONDAY)
    assert (period.first_day, period.last_day) == (date(2025, 6, 9), date(2025, 6, 15))
    assert period.due == datetime(2025, 6, 16, 7, 0, tzinfo=UTC)  # 09:00 CEST
    just_before = last_period(geneva, datetime(2025, 6, 16, 6, 59, 59, tzinfo=UTC))
    assert just_before.first_day == date(2025, 6, 2)  # that Monday's run has not happened yet
    preview = current_period(geneva, MONDAY)
    assert (preview.first_day, preview.last_day) == (date(2025, 6, 16), date(2025, 6, 16))
    assert preview.due == datetime(2025, 6, 23, 7, 0, tzinfo=UTC)


def test_daily_runs_monday_to_friday_and_mondays_cover_the_weekend():
    daily = Schedule("daily", 8, 30, "Africa/Nairobi")
    monday = last_period(daily, datetime(2025, 6, 16, 6, 0, tzinfo=UTC))  # 09:00 in Nairobi
    assert (monday.first_day, monday.last_day) == (date(2025, 6, 13), date(2025, 6, 15))
    tuesday = last_period(daily, datetime(2025, 6, 17, 6, 0, tzinfo=UTC))
    assert (tuesday.first_day, tuesday.last_day) == (date(2025, 6, 16), date(2025, 6, 16))


def test_a_monthly_period_is_the_previous_month():
    monthly = Schedule("monthly", 10, 0, "America/Panama", day_of_month=1)
    period = last_period(monthly, datetime(2025, 7, 1, 15, 0, tzinfo=UTC))  # 10:00 in Panama (UTC-5)
    assert (period.first_day, period.last_day) == (date(2025, 6, 1), date(2025, 6, 30))


def test_parsing_the_subscription_forms(plan):
    assert parse_digest("weekly monday 09:00 Geneva", plan) == Subscribe(
        "weekly", 0, None, 9, 0, "Europe/Zurich", "Geneva", "")
    daily = parse_digest("daily 8:30am Nairobi SC", plan)
    assert ((daily.cadence, daily.hour, daily.minute, daily.zone, daily.scope)
            == ("daily", 8, 30, "Africa/Nairobi", "SC"))
    monthly = parse_digest("monthly on the 15th at 5 pm America/Panama", plan)
    assert (monthly.day_of_month, monthly.hour, monthly.zone) == (15, 17, "America/Panama")
    assert parse_digest("weekly Stockholm outcome 2", plan).scope == "SC2"
    stockholm = parse_digest("weekly Stockholm", plan)  # here a convention first, and the reply says so
    assert stockholm.scope == "SC" and stockholm.zone is None and "Europe/Stockholm" in stockholm.notes[0]


# --- the command ------------------------------------------------------------------------------


def test_subscribing_shows_the_zone_used_and_the_next_run(ctx):
    reply = digest(ctx, "weekly monday 09:00 Geneva")
    assert reply.kind is ReplyKind.DONE
    assert "Time zone: Europe/Zurich (for “Geneva”)" in reply.text
    assert "When: weekly, Mondays at 09:00" in reply.text
    assert "Covers: the whole plan" in reply.text
    assert "Next digest: Mon 23 June 2025, 09:00 Europe/Zurich (07:00 UTC)" in reply.text
    with ctx.sessions() as session:
        (subscription,) = session.query(DigestSubscription).all()
        assert (subscription.cadence, subscription.weekday, subscription.hour, subscription.timezone) == (
            "weekly", 0, 9, "Europe/Zurich")


def test_without_a_zone_the_conversations_own_zone_is_used_else_utc(ctx):
    teams = Incoming("digest weekly", "amina", "19:tap@thread.tacv2", "teams")
    with ctx.sessions() as session:
        session.add(ConversationRef(channel="teams", conversation_id="19:tap@thread.tacv2", reference={},
                                    timezone="Africa/Nairobi"))
        session.commit()
    assert "Africa/Nairobi (this conversation's time zone)" in digest(ctx, "weekly", incoming=teams).text
    plain = digest(ctx, "daily")
    assert "Time zone: UTC (no time zone given" in plain.text and "Geneva" in plain.text


def test_a_filter_by_convention_or_outcome(ctx):
    assert "Covers: SC · Stockholm Convention" in digest(ctx, "weekly SC").text
    assert "Covers: BC1 · " in digest(ctx, "weekly friday 16:00 Nairobi BC1").text
    refused = digest(ctx, "weekly SC2.I5")
    assert refused.kind is ReplyKind.ERROR and "`digest weekly SC2`" in refused.lines[0]


@pytest.mark.parametrize("args, says", [
    ("fortnightly at noon", "I don't know “fortnightly noon”"),
    ("weekly 25:00 Geneva", "“25:00” is not a time of day"),
    ("monthly 31st", "from the 1st to the 28th"),
    ("daily tuesday", "A daily digest has no weekday"),
    ("off Atlantis", "not a convention or an outcome"),
])
def test_bad_input_gets_a_friendly_reply_with_an_example(ctx, args, says):
    reply = digest(ctx, args)
    assert reply.kind is ReplyKind.ERROR
    assert says in reply.text
    assert "digest weekly monday 09:00 Geneva" in reply.text  # an example to copy
    assert "Traceback" not in reply.text


def test_through_dispatch_like_any_message(chat):
    reply = chat("digest weekly monday 09:00 Geneva")
    assert reply.kind is ReplyKind.DONE and "Europe/Zurich" in reply.text
    assert "Weekly, Mondays at 09:00 Europe/Zurich" in chat("digest list").text
    assert chat("digest off").kind is ReplyKind.DONE
    assert chat("digest list").title == "No digest in this conversation"


def test_list_shows_next_run_and_last_delivery_and_its_state(ctx):
    digest(ctx, "weekly monday 09:00 Geneva")
    assert "last: none yet" in digest(ctx, "list").text
    with ctx.sessions() as session:
        subscription = session.query(DigestSubscription).one()
        session.add(DigestDelivery(subscription_id=subscription.id, period_start=date(2025, 6, 2),
                                   period_end=date(2025, 6, 8), due_at=datetime(2025, 6, 9, 7, tzinfo=UTC),
                                   state="sent", attempts=1, sent_at=datetime(2025, 6, 9, 7, 0, 2, tzinfo=UTC)))
        failed = DigestDelivery(subscription_id=subscription.id, period_start=date(2025, 6, 9),
                                period_end=date(2025, 6, 15), due_at=datetime(2025, 6, 16, 7, tzinfo=UTC),
                                state="failed", attempts=2, last_error="Slack answered ratelimited",
                                next_attempt_at=datetime(2025, 6, 16, 7, 10, tzinfo=UTC))
        session.add(failed)
        session.commit()
    text = digest(ctx, "list").text
    assert "next: Mon 23 June 2025, 09:00 Europe/Zurich (07:00 UTC)" in text
    assert ("last: 9–15 June 2025: failed 2× (Slack answered ratelimited); "
            "next try Mon 16 June 2025, 09:10 Europe/Zurich (07:10 UTC)") in text
    with ctx.sessions() as session:
        row = session.get(DigestDelivery, failed.id)
        row.state, row.sent_at = "sent", datetime(2025, 6, 16, 7, 10, 3, tzinfo=UTC)
        session.commit()
    assert "last: 9–15 June 2025: sent Mon 16 June 2025, 09:10 Europe/Zurich (07:10 UTC)" in digest(ctx, "list").text


def test_off_stops_one_filter_or_all_and_a_new_subscription_resumes(ctx):
    digest(ctx, "weekly monday 09:00 Geneva")
    digest(ctx, "weekly SC")
    assert digest(ctx, "off SC").lines[0] == "No more digests here (SC)."
    assert "Stockholm" not in digest(ctx, "list").text
    assert digest(ctx, "off").kind is ReplyKind.DONE
    assert digest(ctx, "off").title == "This conversation has no digest"
    assert digest(ctx, "weekly monday 9am Geneva").title == "Weekly digest set for this conversation"
    assert "next: Mon 23 June 2025" in digest(ctx, "list").text


def test_changing_the_schedule_says_what_it_replaces(ctx):
    digest(ctx, "weekly monday 09:00 Geneva")
    same = digest(ctx, "weekly monday 09:00 Geneva")
    assert "already gets this digest" in same.text
    changed = digest(ctx, "monthly 10:00 Panama")
    assert "It replaces the digest weekly, Mondays at 09:00 Europe/Zurich." in changed.text
    with ctx.sessions() as session:
        assert session.query(DigestSubscription).count() == 1


def test_now_is_last_weeks_digest_and_preview_is_this_weeks_so_far(ctx):
    add(ctx, "Regional workshop on e-waste ESM", date(2025, 6, 12), ["BC2.I1"])
    add(ctx, "Webinar on PIC Circular", date(2025, 6, 16), ["RC2.I4"], kind="webinar")
    digest(ctx, "weekly monday 09:00 Geneva")
    now = digest(ctx, "now")
    assert now.title == "Weekly digest · 9–15 June 2025"
    assert "Regional workshop on e-waste ESM" in now.text and "Webinar on PIC" not in now.text
    preview = digest(ctx, "preview")
    assert preview.title == "Preview · Weekly digest · 16 June 2025 so far"
    assert "Webinar on PIC" in preview.text and "nothing was sent" in preview.text
    with ctx.sessions() as session:
        assert session.query(DigestDelivery).count() == 0  # neither touches the outbox


# --- content: the same figures as `status` ---------------------------------------------------------


def test_digest_figures_equal_status_before_and_after_the_period(ctx):
    # Earlier work, then a snapshot of `status`: the digest's "before" must equal it.
    add(ctx, "Training on POPs inventories", date(2024, 11, 5), ["SC2.I5"], countries=["KE"], participants=12)
    add(ctx, "PCB workshop", date(2025, 3, 3), ["SC2.I3"], countries=["GH", "TG"])
    before = status_values(ctx, "SC")
    # The week's work.
    add(ctx, "PCB follow-up workshop", date(2025, 6, 10), ["SC2.I3", "SC2.I5"], countries=["GH", "BJ"],
        participants=30, women=12)
    add(ctx, "Customs webinar", date(2025, 6, 13), ["SC2.I5"], countries=["NG"], participants=40, women=None,
        kind="webinar")
    add(ctx, "Planned workshop", date(2025, 6, 25), ["SC2.I3"], countries=["SN"], status="planned")
    after = status_values(ctx, "SC")

    with ctx.sessions() as session:
        data = digest_data(session, ctx.plan, "SC", date(2025, 6, 9), date(2025, 6, 15), date(2025, 6, 16))
        week = figures_db.totals(session, ctx.plan.id, since=date(2025, 6, 9), until=date(2025, 6, 15),
                                 outcome_codes=[o for o in ctx.plan.outcomes if o.startswith("SC")])
    assert data.values == after  # the same numbers `status SC` shows now
    moved = {m.code: (m.before, m.after) for m in data.moves}
    assert moved == {code: (before[code], after[code]) for code in after if before[code] != after[code]}
    assert moved["SC2.I3"] == (2, 3) and moved["SC2.I5"] == (12, 82)
    assert (data.totals.activities, data.totals.participants, data.totals.women) == (2, 70, 12)
    assert (week.activities, week.participants) == (2, 70)
    assert data.kinds == {"webinar": 1, "workshop": 1}
    assert list(data.touched) == ["SC2"] and data.conventions["SC"].activities == 2

    reply = digest(ctx, "now SC")
    assert "2 activities held" in reply.text and "70 participants" in reply.text
    assert "SC2.I3: 2 → 3" in reply.text and "SC2.I5: 12 → 82" in reply.text


def test_countries_newly_reached_are_first_ever_under_that_convention(ctx):
    add(ctx, "Basel workshop 2024", date(2024, 5, 2), ["BC1.I2"], countries=["GH"])
    add(ctx, "Basel workshop now", date(2025, 6, 11), ["BC1.I2"], countries=["GH", "TG"])  # Togo is new
    add(ctx, "Stockholm workshop now", date(2025, 6, 12), ["SC2.I3"], countries=["GH"])  # new under SC
    with ctx.sessions() as session:
        data = digest_data(session, ctx.plan, "", date(2025, 6, 9), date(2025, 6, 15), date(2025, 6, 16))
    assert data.newly_reached == {"BC": ["TG"], "RC": [], "SC": ["GH"], "CC": []}
    text = digest(ctx, "now").text
    assert "BC: Togo" in text and "SC: Ghana" in text


def test_gaps_and_what_is_coming_up(ctx):
    add(ctx, "Old Basel workshop", date(2024, 6, 1), ["BC1.I2"])
    add(ctx, "Recent Rotterdam webinar", date(2025, 5, 20), ["RC2.I4"], kind="webinar", women=None)
    add(ctx, "Meeting with no indicator", date(2025, 6, 10), [])
    add(ctx, "Workshop in two weeks", date(2025, 6, 30), ["SC2.I3"], status="planned")
    add(ctx, "Workshop in autumn", date(2025, 10, 1), ["SC2.I3"], status="planned")
    with ctx.sessions() as session:
        data = digest_data(session, ctx.plan, "", date(2025, 6, 9), date(2025, 6, 15), date(2025, 6, 16))
    assert "BC1.I2" in data.quiet and "RC2.I4" not in data.quiet
    assert len(data.quiet) == len(ctx.plan.indicators) - 1
    assert (data.gaps.unlinked, data.gaps.without_sex) == (1, 1)
    assert [a.title for a in data.coming_up] == ["Workshop in two weeks"]
    text = digest(ctx, "now").text
    assert "1 activity counts toward no indicator" in text
    assert "1 activity has no participants by sex" in text
    assert "Mon 30 Jun · Workshop in two weeks" in text and "autumn" not in text


def test_planned_activities_whose_date_has_passed_are_asked_about_until_confirmed(ctx, chat):
    passed = add(ctx, "Workshop planned for last week", date(2025, 6, 10), ["SC2.I3"], status="planned")
    add(ctx, "Workshop in two weeks", date(2025, 6, 30), ["SC2.I3"], status="planned")
    running = add(ctx, "Course running this week", date(2025, 6, 12), ["SC2.I3"], status="planned")
    with ctx.sessions() as session:  # 12-20 June: still going on the 16th
        from storage.models import Activity
        session.get(Activity, running).end_date = date(2025, 6, 20)
        session.commit()
    text = digest(ctx, "now").text
    assert f"1 planned activity should have taken place by now (#{passed})" in text
    assert "edit <id> status=done" in text
    assert status_values(ctx, "SC2")["SC2.I3"] == 0  # not counted while only planned

    assert chat(f"edit {passed} status=done").kind is ReplyKind.DONE  # the trainer confirms it was held
    assert "should have taken place" not in digest(ctx, "now").text
    assert status_values(ctx, "SC2")["SC2.I3"] == 1


def test_an_activity_logged_late_is_mentioned(ctx):
    add(ctx, "March workshop logged in June", date(2025, 3, 3), ["BC1.I2"],
        created_at=datetime(2025, 6, 11, 10, tzinfo=UTC))
    assert "Also logged in this period: 1 earlier activity" in digest(ctx, "now").text
