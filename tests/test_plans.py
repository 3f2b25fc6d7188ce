"""Two plans side by side, through dispatch on SQLite and PostgreSQL: each activity counts in its own plan."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date
from pathlib import Path

import pytest
from conftest import Chat

from handlers.context import Context
from handlers.matcher import match_indicators
from handlers.messages import ReplyKind
from handlers.status import Target, status_data
from plan_data.crosswalk import propose_file
from plan_data.importer import import_file
from plan_data.loader import load_plan, load_plans
from storage.db import make_session_factory

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = Path(__file__).with_name("data") / "tap-2026-2029-synthetic.txt"
DECEMBER_2026 = date(2026, 12, 1)


@pytest.fixture(scope="module")
def plan_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plans")
    new = folder / "tap-2026-2029.toml"
    import_file(SYNTHETIC, new)
    crosswalk = folder / "tap-2022-2025--tap-2026-2029.toml"
    propose_file(load_plan(), load_plan(new), crosswalk)
    return new, crosswalk


@pytest.fixture(scope="module")
def plans(plan_files):
    new, crosswalk = plan_files
    return load_plans(["bundled", new], [crosswalk])


@pytest.fixture
def two(engine, plans):
    return Context(sessions=make_session_factory(engine), plan=plans.current(DECEMBER_2026), plans=plans,
                   today=lambda: DECEMBER_2026)


def figures(ctx, plan_id, kind, code):
    with ctx.sessions() as session:
        data = status_data(session, ctx.plans.by_id[plan_id], Target(kind, code))
    return {row["code"]: row for row in data["indicators"]}


def test_the_current_plan_is_the_one_whose_period_holds_today(plans):
    assert plans.current(date(2024, 5, 1)).id == "tap-2022-2025"
    assert plans.current(DECEMBER_2026).id == "tap-2026-2029"
    assert plans.current(date(2031, 1, 1)).id == "tap-2026-2029"  # after every period: the latest
    assert plans.find("2022–2025").id == plans.find("tap-2022-2025").id == "tap-2022-2025"
    assert plans.find("2018-2021") is None


def test_each_activity_counts_in_the_plan_of_its_dates(two):
    chat = Chat(two)
    old = chat("log Training on NIP update for new POPs, Lusaka, Zambia, 3-5 June 2025, 25 participants SC1.I2")
    new = chat("log Training on NIP update for new POPs, Harare, Zimbabwe, 10-12 March 2026, 20 participants SC1.I1")
    assert old.kind is new.kind is ReplyKind.DONE, (old.text, new.text)
    assert figures(two, "tap-2022-2025", "outcome", "SC1")["SC1.I2"]["countries"] == ["ZM"]
    assert figures(two, "tap-2026-2029", "outcome", "SC1")["SC1.I1"]["countries"] == ["ZW"]
    # SC1.I1 of the old plan is another indicator: the 2026 activity is not counted there.
    assert figures(two, "tap-2022-2025", "indicator", "SC1.I1")["SC1.I1"]["activities"] == 0

    # Status answers for the current plan, and for another on request.
    current = chat("status SC1").text
    assert current.startswith("SC1 · National implementation plans are updated for newly listed")
    assert "Activities: 1" in current and "Last activity: 2026-03-12" in current and "Plan 2026-2029" in current
    older = chat("status SC1 in 2022-2025").text
    assert older.startswith("SC1 · Legal and institutional frameworks")
    assert "Activities: 1" in older and "Last activity: 2025-06-05" in older and "Plan 2022-2025" in older
    assert "BC3" in chat("plan BC3").text
    assert chat("plan BC3 in 2022-2025").kind is ReplyKind.ERROR


def test_an_old_code_on_a_new_activity_follows_the_crosswalk(two):
    chat = Chat(two)
    reply = chat("log Training of laboratory experts on POPs analysis, Nairobi, Kenya, 2-4 Feb 2026, "
                 "14 experts (6 women) SC2.I5")
    assert reply.kind is ReplyKind.DONE, reply.text
    assert "SC2.I5 is a code of an earlier plan: counted as SC2.I1 of 2026-2029" in reply.text
    assert figures(two, "tap-2026-2029", "indicator", "SC2.I1")["SC2.I1"]["value"] == 14
    assert figures(two, "tap-2022-2025", "indicator", "SC2.I5")["SC2.I5"]["value"] == 0

    chat("log Case study on BAT/BEP for open burning, Hanoi, Viet Nam, 9 May 2026, 30 participants")
    linked = chat("link 2 SC2.I4")  # the 2022-2025 code for case studies on BAT/BEP
    assert linked.kind is ReplyKind.DONE and "SC2.I2" in linked.title, linked.text
    assert chat("link 2 RC1.I2").kind is ReplyKind.ERROR  # no successor in the new plan: refused, said so


def test_a_code_of_another_plan_without_crosswalk_is_refused_and_quoted_back(two):
    chat = Chat(two)
    reply = chat("log Webinar on plastic waste amendments, online, 5 May 2024, 80 participants BC3.I1")
    assert reply.kind is ReplyKind.ERROR
    assert "BC3.I1 is not an indicator of the plan 2022-2025" in reply.text
    assert "> Webinar on plastic waste amendments, online, 5 May 2024" in reply.text


def test_an_activity_no_plan_covers_is_kept_and_says_so(two):
    chat = Chat(two)
    reply = chat("log Workshop on PCB inventories, Dakar, Senegal, 4 May 2019, 30 participants")
    assert reply.kind is ReplyKind.DONE
    assert "No loaded plan covers 4 May 2019" in reply.text and "out of period" in reply.text
    assert "Workshop on PCB inventories" in chat("show 1").text
    chat("log Workshop on PCB inventories, Accra, Ghana, 4 May 2024, 30 participants")
    listed = chat("list outside plans")
    assert "no loaded plan covers (2022-2025, 2026-2029)" in listed.title
    assert [row[0] for row in listed.table.rows] == ["#1"]


def test_plan_use_is_the_conversations_choice_kept_in_the_database(two):
    chat = Chat(two)
    chat("log Training on NIP update for new POPs, Lusaka, Zambia, 3-5 June 2025, 25 participants SC1.I2")
    assert "2026-2029" in chat("plan use").title
    assert chat("plan use 2040-2043").kind is ReplyKind.ERROR
    assert chat("plan use 2022-2025").kind is ReplyKind.DONE
    assert "Plan 2022-2025" in chat("status SC1").text
    # Another process (its own memory) answers the same; another conversation keeps the current plan.
    other = Context(sessions=make_session_factory(two.engine), plan=two.plan, plans=two.plans, today=two.today)
    assert "Plan 2022-2025" in Chat(other)("status SC1").text
    from handlers.dispatch import dispatch
    from handlers.messages import Incoming
    elsewhere = dispatch(Incoming(text="status SC1", user_id="u", user_name="u", conversation_id="C2",
                                  channel="slack"), two)
    assert "Plan 2026-2029" in "\n".join(elsewhere.context)
    # Undated logs go to the conversation's plan; dated ones to the plan of their dates.
    assert "SC1.I2" in chat("log Meeting on NIP updates SC1.I2").text


def test_cli_status_names_the_plan(plan_files, tmp_path):
    new, crosswalk = plan_files
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "TAPBOT_PLANS": f"bundled,{new}",
           "TAPBOT_CROSSWALKS": str(crosswalk)}

    def tapbot(*args):
        result = subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env,
                                cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--user", "amina"], env=env, cwd=ROOT, text=True,
                   input="log Training on NIP update, Lusaka, Zambia, 3-5 June 2025, 25 participants SC1.I2\n",
                   capture_output=True, check=True, timeout=120)
    old = json.loads(tapbot("status", "--json", "SC1", "--plan", "2022-2025"))
    assert old["plan"] == "tap-2022-2025"
    assert {r["code"]: r["countries"] for r in old["indicators"]}["SC1.I2"] == ["ZM"]
    current = json.loads(tapbot("status", "--json", "BC3"))
    assert current["plan"] == "tap-2026-2029" and [r["code"] for r in current["indicators"]] == ["BC3.I1", "BC3.I2"]


# Messages for the synthetic plan, which has no hand-written keywords: its own texts must do.
SYNTHETIC_LOGS = [
    ("Workshop for customs and port officers on spotting illegal waste shipments, Mombasa, 40 participants", "BC1.I2"),
    ("Pilot on take-back of old phones and laptops for recycling, Kigali", "BC3.I2"),
    ("Support to prepare the national hazardous waste inventory of Bhutan", "BC2.I1"),
    ("Webinar on putting the plastic waste amendments into practice, 120 participants", "BC3.I1"),
    ("Training of farmers and extension workers on safe pesticide use and alternatives, 60 people", "RC2.I2"),
    ("Help for DNAs to submit import responses for Annex III chemicals", "RC1.I1"),
    ("Reporting of poisoning incidents from hazardous pesticide formulations, Senegal", "RC2.I1"),
    ("Lab training on POPs analysis in core matrices for 12 chemists", "SC2.I1"),
    ("Regional dialogue between scientists and policy makers on chemicals, Bangkok", "CC3.I2"),
    ("Gender mainstreaming in the national chemicals and waste strategy of Peru", "CC3.I1"),
    ("Funding for regional centres to run chemicals and waste projects", "CC2.I1"),
    ("Updating the NIP for newly listed POPs, Ecuador", "SC1.I1"),
]


def test_a_plan_without_keywords_matches_from_its_own_texts(plans):
    plan = plans.by_id["tap-2026-2029"]
    assert not any(i.keywords for i in plan.indicators.values())
    ranked = [[m.code for m in match_indicators(text, plan)] for text, _ in SYNTHETIC_LOGS]
    top1 = sum(codes[:1] == [want] for codes, (_, want) in zip(ranked, SYNTHETIC_LOGS, strict=True))
    top3 = sum(want in codes[:3] for codes, (_, want) in zip(ranked, SYNTHETIC_LOGS, strict=True))
    print(f"synthetic plan, no keywords: top-1 {top1}/{len(SYNTHETIC_LOGS)}, top-3 {top3}/{len(SYNTHETIC_LOGS)}")
    assert top3 >= 10 and top1 >= 7, (top1, top3, ranked)


def test_digest_subscriptions_name_their_plan_and_never_follow_another(two, caplog):
    import logging
    from datetime import datetime, timedelta

    from bot.scheduler import DigestSender
    from storage.models import DigestDelivery, DigestSubscription

    chat = Chat(two)
    assert chat("digest weekly monday 09:00 Geneva BC3").kind is ReplyKind.DONE  # BC3 exists in 2026-2029 only
    chat("plan use 2022-2025")
    assert chat("digest weekly monday 09:00 Geneva SC2").kind is ReplyKind.DONE
    with two.sessions() as session:
        plans_of = {s.scope: s.plan_id for s in session.query(DigestSubscription)}
    assert plans_of == {"BC3": "tap-2026-2029", "SC2": "tap-2022-2025"}
    listed = chat("digest list").text
    assert "BC3 · Plastic waste and electronic waste" in listed and "(plan 2026-2029)" in listed
    assert "SC2 · Strengthened capacities of Parties to address technical issues" in listed  # the old plan's SC2

    # The same database served with the 2022-2025 plan alone: BC3 is nowhere, and nothing crashes.
    alone = Context(sessions=two.sessions, plan=two.plans.by_id["tap-2022-2025"], today=two.today)
    only_old = Chat(alone)
    listed = only_old("digest list")
    assert listed.kind is not ReplyKind.ERROR
    assert "not sent: its plan tap-2026-2029 is not loaded any more" in listed.text
    now = only_old("digest now")  # its first subscription is the BC3 one
    assert now.kind is ReplyKind.ERROR and "cannot be made" in now.text

    with two.sessions() as session:
        bc3 = session.query(DigestSubscription).filter_by(scope="BC3").one().id
        sc2 = session.query(DigestSubscription).filter_by(scope="SC2").one().id
    sent = []
    sender = DigestSender(alone, lambda destination, reply: sent.append(reply), worker="w1")
    later = datetime.now(UTC) + timedelta(days=8)
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        assert sender.run_subscription(bc3, later) is None
    assert "skipped: its plan tap-2026-2029 is not loaded any more" in caplog.text
    assert sender.run_subscription(sc2, later).state == "sent"  # the other subscription still goes out
    assert len(sent) == 1
    with two.sessions() as session:
        assert [d.subscription_id for d in session.query(DigestDelivery)] == [sc2]  # no row for the skipped one


def test_links_made_before_the_new_plan_was_loaded_follow_the_crosswalk(two):
    from handlers.plans import carry_links
    from storage.activities import Actor

    alone = Context(sessions=two.sessions, plan=two.plans.by_id["tap-2022-2025"], today=two.today)
    logged = Chat(alone)("log Training of laboratory experts on POPs analysis, Nairobi, Kenya, 2-4 Feb 2026, "
                         "14 experts SC2.I5")
    assert "SC2.I5" in logged.text and "out of period" in logged.text
    Chat(alone)("log Regional workshop on PCB, Accra, Ghana, 12-14 March 2024, 30 participants SC2.I5")
    with two.sessions() as session:
        changed = carry_links(session, two.plans, Actor("admin", "Admin", "console"))
        session.commit()
    assert changed == [(1, ["SC2.I5"], ["SC2.I1"])]  # the 2024 activity stays in its own plan
    assert figures(two, "tap-2026-2029", "indicator", "SC2.I1")["SC2.I1"]["value"] == 14
    assert figures(two, "tap-2022-2025", "indicator", "SC2.I5")["SC2.I5"]["activities"] == 1
    with two.sessions() as session:
        assert carry_links(session, two.plans, Actor("admin", "Admin", "console")) == []  # nothing left to carry


def test_a_log_form_counts_in_the_plan_of_its_dates(two):
    from handlers.forms import submit_log_form
    from handlers.messages import Incoming

    values = {"title": "Regional workshop on PCB management", "kind": "workshop", "start_date": "2024-03-12",
              "end_date": "2024-03-14", "countries": "Ghana", "participants": "30", "women": "12",
              "indicators": "SC2.I3"}
    incoming = Incoming(text="", user_id="amina", user_name="Amina", conversation_id="C1", channel="slack",
                        event_key="form-1")
    reply = submit_log_form(incoming, values, two)
    assert reply.kind is ReplyKind.DONE, reply
    assert figures(two, "tap-2022-2025", "indicator", "SC2.I3")["SC2.I3"]["activities"] == 1


def test_a_log_form_naming_no_indicator_of_the_plan_says_which_to_use(plan):
    from handlers.forms import read_log_form

    values = {"title": "National workshop on mercury inventories", "kind": "workshop", "start_date": "2024-05-02",
              "countries": "Kenya", "participants": "20", "indicators": "ZZ9.I9"}
    errors = read_log_form(values, plan, DECEMBER_2026)
    assert set(errors) == {"indicators"}
    assert "ZZ9.I9 is not an indicator of the plan" in errors["indicators"]
    assert any(code in errors["indicators"] for code in plan.indicators)  # an example taken from the plan


@pytest.mark.parametrize("question", ["SC2 in 2022-2025", "SC2 under the 2022–2025 plan", "SC2 for tap-2022-2025",
                                      "SC2 en 2022-2025", "SC2 du plan 2022-2025", "how is SC2 doing in 2022-2025?"])
def test_a_question_names_its_plan_in_several_ways(plans, question):
    from handlers.plans import split_plan

    plan, rest = split_plan(question, plans)
    assert plan.id == "tap-2022-2025" and "SC2" in rest and "2022" not in rest


def test_a_question_about_a_year_is_not_a_plan(plans):
    from handlers.plans import split_plan

    assert split_plan("Ghana in 2024", plans) == (None, "Ghana in 2024")


def test_plans_that_overlap_or_repeat_are_refused(plan_files, tmp_path):
    from plan_data.loader import PlanError

    new, _ = plan_files
    overlapping = tmp_path / "overlap.toml"
    overlapping.write_text(new.read_text().replace("start_year = 2026", "start_year = 2025").replace(
        'id = "tap-2026-2029"', 'id = "tap-2025-2029"'))
    with pytest.raises(PlanError, match="overlaps plan tap-2022-2025"):
        load_plans(["bundled", overlapping])
    with pytest.raises(PlanError, match="loaded twice"):
        load_plans(["bundled", "bundled"])


def test_an_edit_moving_the_dates_into_the_next_plan_carries_the_links_or_says_they_stay(two):
    chat = Chat(two)
    chat("log Training of laboratory experts on POPs analysis, Nairobi, Kenya, 2-4 Feb 2025, 14 experts SC2.I5")
    moved = chat("edit 1 dates=2-4 Feb 2026")
    assert moved.kind is ReplyKind.DONE, moved.text
    assert "Its dates are now in the plan 2026-2029: SC2.I5 → SC2.I1 (by the crosswalk)." in moved.text
    assert figures(two, "tap-2026-2029", "indicator", "SC2.I1")["SC2.I1"]["value"] == 14
    assert figures(two, "tap-2022-2025", "indicator", "SC2.I5")["SC2.I5"]["activities"] == 0
    # No successor for this code: the link stays where it was, and the reply says how to relink.
    chat("log Workshop on the PIC procedure, Accra, Ghana, 5 May 2024, 20 participants RC1.I2")
    stayed = chat("edit 2 date=6 May 2026").text
    assert "RC1.I2 stays linked in its former plan and does not count in 2026-2029" in stayed
    assert "unlink 2 RC1.I2 and link 2 <code of 2026-2029>" in stayed
    # Dates within the same plan move nothing and say nothing of plans.
    same = chat("edit 1 dates=5-6 Feb 2026")
    assert same.kind is ReplyKind.DONE and "now in the plan" not in same.text and "former plan" not in same.text


def test_the_edit_form_and_parse_use_the_activitys_own_plan(two):
    from handlers.describe import describe
    from handlers.forms import activity_values, form_plan, submit_edit_form
    from handlers.messages import Incoming
    from storage.models import Activity

    # Read as logging it would: a 2024 log against 2022-2025, though 2026-2029 is current.
    got = describe("log Regional workshop on BAT/BEP organised by BCRC-Senegal, Dakar, Senegal, 12 May 2024, "
                   "30 participants, 2 case studies published SC2.I4", two.plan, DECEMBER_2026, two.plans)
    assert got["plan"] == "tap-2022-2025" and got["indicators"] == ["SC2.I4"] and got["problems"] == []
    assert (got["products"], got["product_kind"], got["host"]) == (2, "case_study", None)
    assert got["centre"] is not None
    online = describe("log Webinar hosted from Geneva, Switzerland, 4 June 2024, online, participants from Ghana",
                      two.plan, DECEMBER_2026, two.plans)
    assert online["host"] == "CH"

    chat = Chat(two)
    chat("log Regional workshop on PCB management, Accra, Ghana, 12 May 2024, 30 participants SC2.I3")
    values = activity_values(two, 1)
    assert values["plan"] == "tap-2022-2025" and values["indicators"] == ["SC2.I3"]
    assert form_plan(two, values).id == "tap-2022-2025"
    with two.sessions() as session:
        author = session.get(Activity, 1).user_id
    incoming = Incoming(text="", user_id=author, user_name="Amina", conversation_id="C1", channel="slack",
                        event_key="edit-form-1")
    reply = submit_edit_form(incoming, 1, values | {"participants": "32"}, two)
    assert not isinstance(reply, dict) and reply.kind is ReplyKind.DONE, reply
    assert figures(two, "tap-2022-2025", "indicator", "SC2.I3")["SC2.I3"]["participants"] == 32
