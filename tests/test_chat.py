"""A trainer's session, end to end through dispatch, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import re

from conftest import Chat

from handlers.messages import ReplyKind
from handlers.render import render_text
from handlers.status import Target, status_data
from storage.models import Activity, Attendee, AuditEntry

WORKSHOPS = [
    "log Regional workshop on PCB ESM, Accra, Ghana, 12-14 March 2024, in person, "
    "35 participants (14 women) from Ghana, Togo and Benin SC2.I3",
    "log GMP training on POPs sampling and analysis, Nairobi, Kenya, 2-4 April 2024, 12 experts (5 women) SC2.I5",
    "log National workshop on legal frameworks for hazardous waste control, Accra, Ghana, 5 Oct 2023, "
    "20 participants (9 women) BC1.I2",
]


def log_three(chat):
    replies = [chat(message) for message in WORKSHOPS]
    assert [r.kind for r in replies] == [ReplyKind.DONE] * 3, [r.text for r in replies]
    assert [r.activity_id for r in replies] == [1, 2, 3]
    return replies


def figures(ctx, kind, code):
    with ctx.sessions() as session:
        data = status_data(session, ctx.plan, Target(kind, code))
    return {row["code"]: row for row in data.get("indicators", [])} or data


def test_log_replies_with_what_it_understood(chat):
    reply = chat(WORKSHOPS[0])
    assert reply.title.startswith("Logged #1 · Regional workshop on PCB ESM")
    text = reply.text
    assert "12 Mar 2024 – 14 Mar 2024" in text
    assert "Ghana, Togo, Benin" in text
    assert "35 (14 women, 40%)" in text
    assert "SC2.I3" in text
    assert any(a.command == "undo 1" for a in reply.actions)


def test_three_workshops_and_attendees_give_the_right_figures(chat, ctx):
    log_three(chat)
    reply = chat("attendees 1 add Kofi Mensah; EPA Ghana; Ghana; M; customs officer\n"
                 "Ama Owusu; EPA Ghana; Ghana; F; NIP focal point")
    assert reply.kind is ReplyKind.DONE and "Added 2 attendees to #1" in reply.title
    reply = chat("attendees 3 4 from Nigeria, 2 from Togo")
    assert reply.kind is ReplyKind.DONE and "Added 6 attendees to #3" in reply.title

    sc2 = figures(ctx, "outcome", "SC2")
    assert sc2["SC2.I3"]["value"] == 3 and sc2["SC2.I3"]["countries"] == ["BJ", "GH", "TG"]
    assert sc2["SC2.I3"]["participants"] == 35 and sc2["SC2.I3"]["women"] == 14
    assert sc2["SC2.I5"]["value"] == 12  # experts trained: a sum of participants, not a count of Parties
    assert sc2["SC2.I5"]["countries"] == ["KE"]
    assert sc2["SC2.I1"]["value"] == 0 and sc2["SC2.I1"]["activities"] == 0

    bc1 = figures(ctx, "outcome", "BC1")
    assert bc1["BC1.I2"]["value"] == 3  # Ghana, plus Nigeria and Togo through the attendees
    assert bc1["BC1.I2"]["countries"] == ["GH", "NG", "TG"]

    ghana = figures(ctx, "country", "GH")
    assert ghana["activities"] == 2 and ghana["participants"] == 55
    by_convention = {c["code"]: c for c in ghana["conventions"]}
    assert by_convention["SC"]["activities"] == 1 and by_convention["BC"]["activities"] == 1
    assert by_convention["RC"]["activities"] == 0

    text = chat("status SC2").text
    assert "SC2 · Strengthened capacities of Parties" in text
    assert re.search(r"SC2.I3\s+3 Parties\s+1\s+35\s+40%\s+3", text)
    assert re.search(r"SC2.I5\s+12 experts trained", text)
    assert "40%" in text  # 14 of 35 women
    text = chat("status of Basel outcome 1").text
    assert text.startswith("BC1 · Increased capacities of Parties to implement control procedures")
    assert re.search(r"BC1.I2\s+3 Parties", text)
    text = chat("status Ghana").text
    assert text.startswith("Ghana")
    assert "Activities: 2" in text and "Participants in them: 55" in text


def test_convention_status_counts_each_activity_once(chat, ctx):
    log_three(chat)
    chat("link 1 SC2.I1")  # one activity, two indicators of SC2
    text = chat("status Stockholm").text
    assert "Activities: 2" in text  # not 3
    assert "SC2" in text and "SC1" in text


def test_incomplete_log_is_stored_and_says_what_is_missing(chat, ctx):
    reply = chat("log meeting with the customs people about illegal traffic")
    assert reply.kind is ReplyKind.DONE
    assert "Still missing" in reply.text
    assert "the date" in reply.text and "the country" in reply.text
    with ctx.sessions() as session:
        assert session.query(Activity).count() == 1


def test_unclear_match_offers_the_top_three_to_pick(chat, ctx):
    reply = chat("log meeting with partners, 3 May 2024, Kenya")
    links = [a for a in reply.actions if a.command.startswith("link 1 ")]
    assert len(links) == 3 and "Which indicator" in reply.text
    picked = chat(links[0].command)
    assert picked.kind is ReplyKind.DONE
    code = links[0].command.split()[-1]
    with ctx.sessions() as session:
        activity = session.get(Activity, 1)
        assert [(link.indicator_code, link.method) for link in activity.links] == [(code, "confirmed")]


def test_a_clear_match_links_by_itself_and_confirming_it_can_be_undone(chat, ctx):
    reply = chat("log workshop on BAT/BEP for UPOPs reduction, 3 May 2024, Kenya, 20 participants")
    assert "SC2.I4 (suggested)" in reply.text
    assert chat("link 1 SC2.I4").kind is ReplyKind.DONE
    with ctx.sessions() as session:
        links = session.get(Activity, 1).links
        assert [(link.indicator_code, link.method) for link in links] == [("SC2.I4", "confirmed")]
    assert chat("undo").title.startswith("Undone: linking #1")
    with ctx.sessions() as session:
        activity = session.get(Activity, 1)
        assert activity.deleted_at is None  # the activity stays; only the confirmation is undone
        assert [(link.indicator_code, link.method) for link in activity.links] == [("SC2.I4", "fuzzy")]


def test_undo_never_overwrites_a_later_change_by_someone_else(chat, ctx):
    log_three(chat)
    chat("edit 3 participants=50")
    assert chat.as_user("admin")("edit 3 women=40").kind is ReplyKind.DONE
    reply = chat("undo")
    assert reply.kind is ReplyKind.ERROR and "admin changed #3 after you" in reply.text
    assert figures(ctx, "indicator", "BC1.I2")["BC1.I2"]["participants"] == 50
    assert chat("undo twelve").kind is ReplyKind.ERROR  # not an id: nothing is undone
    assert figures(ctx, "indicator", "BC1.I2")["BC1.I2"]["participants"] == 50


def test_women_share_uses_complete_records_only(chat, ctx):
    chat("log workshop, Accra, Ghana, 3 May 2024, 14 women attended BC1.I2")  # no total
    chat("log workshop, Lomé, Togo, 4 May 2024, 10 participants (5 women) BC1.I2")
    chat("log workshop, Lagos, Nigeria, 5 May 2024 BC1.I2")
    chat("attendees 3 10 from Nigeria")  # sexes unknown: not zero women
    row = figures(ctx, "indicator", "BC1.I2")["BC1.I2"]
    # 14 women of no stated total are not set against anyone else's participants: only Lomé
    # reported sex (5 women, 5 men of 10); Lagos' 10 attendees are "not reported", not 0 women.
    assert (row["women"], row["men"], row["participants"], row["sex_not_stated"]) == (5, 5, 20, 10)
    assert ("women 50% of the 10 participants whose sex was reported (5 women, 5 men); 10 not reported"
            in chat("status BC1.I2").text)


def test_regional_centres_count_regional_centres_only(chat, ctx):
    chat("log web portal update by BCRC-Caribbean, 3 May 2024 CC2.I3")
    chat("log web portal update by SCRC Kenya, 4 May 2024 CC2.I3")
    chat("log web portal review with FAO, 5 May 2024 CC2.I3")  # no update recorded: not what CC2.I3 counts
    row = figures(ctx, "indicator", "CC2.I3")["CC2.I3"]
    assert row["activities"] == 2 and row["value"] == 2
    assert "Linked but not counted — no portal updates recorded (1)" in chat("status CC2.I3").text


def test_status_of_an_output_reports_its_indicator(chat):
    log_three(chat)
    reply = chat("status SC2.O5")
    assert reply.title.startswith("SC2.I5 · status") and "12 experts trained" in reply.text


def test_chatter_is_not_logged(chat, ctx):
    for message in ("thanks, see you at 3pm", "I will send the 2 reports tomorrow", "Delegates from 5 countries met",
                    "ok thanks, will do"):
        assert chat(message).kind in (ReplyKind.ERROR, ReplyKind.HELP), message
    with ctx.sessions() as session:
        assert session.query(Activity).count() == 0


def test_contradictions_are_refused_and_quoted_back(chat, ctx):
    cases = {
        "log workshop in Accra, Ghana, 14-12 March 2024, 20 participants": "before",
        "log workshop in Accra, Ghana, 12 March 2024, 20 participants (25 women)": "women",
        "log workshop in Accra, Ghana, 31 Feb 2024, 20 participants": "Feb",
        "log workshop in Accra, country: Wakanda, 12 March 2024": "Wakanda",
        "log workshop in Accra, Ghana, 12 March 2024, SC9.I1": "SC9.I1",
        "log workshop in Accra, Ghana, 12 March 2024, 2147483648 participants": "the most is 1,000,000",
    }
    for message, clue in cases.items():
        reply = chat(message)
        assert reply.kind is ReplyKind.ERROR, message
        assert clue in reply.text, reply.text
        assert message[4:] in reply.text  # quoted back for resending
    with ctx.sessions() as session:
        assert session.query(Activity).count() == 0
        assert session.query(AuditEntry).count() == 0


def test_bad_input_gets_help_and_changes_nothing(chat, ctx):
    log_three(chat)
    bad = [
        "", "   ", "frobnicate the widgets now please", "show", "show 999", "edit 1 participants=-4",
        "edit 1 women=99", "edit 1 colour=blue", "edit 1 start_date=2024-02-30", "edit 1 end_date=2020-01-01",
        "delete 999", "link 1 XX9.I9", "link 1", "unlink", "attendees 1 add A; B; Wakanda; F; x",
        "attendees 1 add A; B; Ghana; Q; x", "attendees 1 -3 from Ghana", "attendees x", "status Wakandaland",
        "plan ZZ9", "x" * 10_000, "log " + "noise " * 2000, "attendees 1 99999999999 from Ghana",
        "attendees 1 add ;;;;", "undo abc", "edit 1 men=500", "edit 1 participants=99999999",
    ]
    with ctx.sessions() as session:
        before = (session.query(Activity).count(), session.query(Attendee).count(),
                  session.query(AuditEntry).count())
    for message in bad:
        reply = chat(message)
        assert reply.kind in (ReplyKind.ERROR, ReplyKind.HELP), (message, reply.text)
        assert "Traceback" not in reply.text and reply.text.strip()
    with ctx.sessions() as session:
        after = (session.query(Activity).count(), session.query(Attendee).count(),
                 session.query(AuditEntry).count())
    assert after == before
    assert figures(ctx, "outcome", "BC1")["BC1.I2"]["participants"] == 20


def test_edit_delete_and_undo(chat, ctx):
    log_three(chat)
    reply = chat("edit 3 participants=40 women=18")
    assert reply.kind is ReplyKind.DONE and "participants, women" in reply.text
    assert figures(ctx, "indicator", "BC1.I2")["BC1.I2"]["participants"] == 40
    chat("undo")
    assert figures(ctx, "indicator", "BC1.I2")["BC1.I2"]["participants"] == 20
    assert chat("delete 3").kind is ReplyKind.DONE
    assert figures(ctx, "indicator", "BC1.I2")["BC1.I2"]["activities"] == 0
    assert chat("show 3").kind is ReplyKind.ERROR
    assert chat("undo 3").kind is ReplyKind.DONE
    assert figures(ctx, "indicator", "BC1.I2")["BC1.I2"]["activities"] == 1
    with ctx.sessions() as session:
        actions = [e.action for e in session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions == ["create", "create", "create", "edit", "undo", "delete", "undo"]


def test_only_the_author_or_an_admin_changes_an_activity(chat):
    log_three(chat)
    other = chat.as_user("bob")
    for message in ("edit 1 participants=1", "delete 1", "link 1 BC1.I1", "attendees 1 2 from Ghana"):
        reply = other(message)
        assert reply.kind is ReplyKind.ERROR and "Only amina or an admin" in reply.text
    assert other("show 1").kind is ReplyKind.INFO  # anyone reads
    assert chat.as_user("admin")("edit 1 participants=36").kind is ReplyKind.DONE


def test_link_unlink_and_confirm(chat, ctx):
    log_three(chat)
    assert chat("link 2 SC2.I1 CC1.I8 sc2.i1").kind is ReplyKind.DONE  # a code typed twice links once
    assert chat("link 2 SC2.I1").title.startswith("#2 is already linked")
    assert chat("unlink 2 CC1.I8").kind is ReplyKind.DONE
    with ctx.sessions() as session:
        codes = [(link.indicator_code, link.method) for link in session.get(Activity, 2).links]
    assert codes == [("SC2.I5", "explicit"), ("SC2.I1", "confirmed")]


def test_list_show_plan_and_help(chat):
    log_three(chat)
    assert "#3" in chat("list").text and "#2" in chat("list").text
    assert "#2" in chat("list Kenya").text and "#1" not in chat("list Kenya").text
    assert "#3" in chat("list basel").text and "#2" not in chat("list basel").text
    assert "#3" in chat("list 2023").text and "#1" not in chat("list 2023").text
    assert "#1" in chat.as_user("amina")("list mine").text
    assert "Nothing logged" in chat.as_user("bob")("list mine").text
    shown = chat("show 1")
    assert "Regional workshop on PCB ESM" in shown.text and "Logged by amina" in shown.text
    assert "SC2.I5" in chat("plan SC2").text and "Number of regional experts" in chat("plan SC2").text
    assert chat("help").kind is ReplyKind.HELP and "status" in chat("help").text
    assert "attendees 12 add" in chat("help attendees").text


def test_forgiving_wording(chat):
    log_three(chat)
    for message in ("stauts SC2", "STATUS sc2", "what's the status of SC2?", "please status SC2", "sc2"):
        reply = chat(message)
        assert reply.title.startswith("SC2 ·"), (message, reply.text)
    assert chat("progress on stockholm outcome 2").title.startswith("SC2 ·")


def test_redelivered_message_is_handled_once(ctx):
    from handlers.dispatch import dispatch
    from handlers.messages import Incoming

    message = Incoming(text=WORKSHOPS[0], user_id="u1", conversation_id="c1", channel="slack",
                       event_key="slack:T1:C1:1700000000.000100")
    first, second = dispatch(message, ctx), dispatch(message, ctx)
    assert first.kind is ReplyKind.DONE and second.duplicate
    with ctx.sessions() as session:
        assert session.query(Activity).count() == 1


def test_status_json_shape(chat, ctx):
    log_three(chat)
    data = figures(ctx, "outcome", "SC2")
    assert json.loads(json.dumps(data))  # serialisable
    assert set(data["SC2.I3"]) >= {"code", "measure", "value", "activities", "participants", "women", "countries"}


def test_status_replies_follow_every_change_in_every_process(chat, ctx):
    from dataclasses import replace

    from conftest import Chat

    from handlers.status import StatusCache

    log_three(chat)
    other_process = Chat(replace(ctx, status_cache=StatusCache()), user="bob")
    assert re.search(r"BC1.I2\s+1 Parties\s+1\s+20", chat("status BC1").text)
    assert re.search(r"BC1.I2\s+1 Parties\s+1\s+20", other_process("status BC1").text)
    chat("edit 3 participants=25")
    assert re.search(r"BC1.I2\s+1 Parties\s+1\s+25", other_process("status BC1").text)
    chat("undo")
    assert re.search(r"BC1.I2\s+1 Parties\s+1\s+20", chat("status BC1").text)
    other_process("attendees 3 2 from Benin")  # not bob's activity: refused, nothing changes
    chat("attendees 3 2 from Benin")
    assert re.search(r"BC1.I2\s+2 Parties", other_process("status BC1").text)


def test_status_from_memory_is_trusted_only_while_nothing_has_changed(chat, ctx, monkeypatch):
    import handlers.status
    from handlers.dispatch import quick_reply
    from handlers.messages import Incoming

    question = Incoming("status BC1", "amina", "console", "console")
    assert quick_reply(question, ctx) is None  # nothing read yet: the database must be asked
    log_three(chat)
    assert quick_reply(question, ctx) is None  # a change since
    chat("status BC1")
    assert re.search(r"BC1.I2\s+1 Parties\s+1\s+20", render_text(quick_reply(question, ctx)))
    chat("list")  # a question commits no change: memory stays trusted
    assert quick_reply(question, ctx) is not None
    from storage.users import remember_name
    remember_name(ctx.sessions, "slack", "U1", "Amina")  # a write, but not to the figures
    assert quick_reply(question, ctx) is not None

    # A change committed while the version is being read: that version is not trusted.
    read_version = handlers.status.data_version

    def read_while_someone_edits(session):
        version = read_version(session)
        chat("edit 3 participants=25")
        return version

    monkeypatch.setattr(handlers.status, "data_version", read_while_someone_edits)
    chat("status BC1")
    monkeypatch.undo()
    assert quick_reply(question, ctx) is None
    assert re.search(r"BC1.I2\s+1 Parties\s+1\s+25", chat("status BC1").text)
    assert re.search(r"BC1.I2\s+1 Parties\s+1\s+25", render_text(quick_reply(question, ctx)))


def test_changes_committed_out_of_order_both_show_in_status(chat, ctx):
    """On PostgreSQL a transaction that inserted first may commit last, with the smaller ids."""
    import threading

    import pytest

    from handlers import parse
    from handlers.dispatch import quick_reply, run, run_once
    from handlers.messages import Incoming

    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer at a time insert at all")
    log = "log Training on POPs inventories, Nairobi, Kenya, 3 May 2024, 20 participants SC2.I5"
    inserted, go_on = threading.Event(), threading.Event()

    def slow_writer():
        incoming = Incoming(log, "bob", "console", "console", user_name="bob")

        def work(session):
            reply = run(session, ctx, incoming, parse.parse_command(log))
            session.flush()  # its rows (and ids) are in, not yet committed
            inserted.set()
            go_on.wait(10)
            return reply

        run_once(incoming, ctx, work)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    inserted.wait(10)
    chat(log)  # commits first, with the larger ids
    assert re.search(r"Activities: 1\b", chat("status SC2.I5").text)
    go_on.set()
    writer.join(10)
    assert re.search(r"Activities: 2\b", chat("status SC2.I5").text)
    quick = quick_reply(Incoming("status SC2.I5", "amina", "console", "console"), ctx)
    assert re.search(r"Activities: 2\b", render_text(quick))


def test_status_memory_asked_often_is_kept_current_in_the_background(chat, ctx):
    import time

    from handlers.dispatch import quick_reply
    from handlers.messages import Incoming

    question = Incoming("status BC1", "amina", "console", "console")
    chat("status BC1")
    cache = ctx.status_cache
    cache._version_read_at -= 0.6 * cache.trust_version_for  # read a while ago: past half its trust
    assert quick_reply(question, ctx) is not None  # still answered, and a fresh read started
    deadline = time.monotonic() + 10
    while cache._refreshing and time.monotonic() < deadline:
        time.sleep(0.01)
    cache._version_read_at -= 0.6 * cache.trust_version_for  # would be too old without that read
    assert quick_reply(question, ctx) is not None


def test_a_planned_activity_counts_once_its_dates_say_it_was_held(chat, ctx):
    reply = chat("log Regional workshop on PCB, Accra, Ghana, 12-14 March 2026, 30 participants SC2.I3")
    assert "Status: planned" in reply.text
    assert figures(ctx, "indicator", "SC2.I3")["SC2.I3"]["activities"] == 0
    chat("edit 1 dates=12-14 March 2025")
    assert figures(ctx, "indicator", "SC2.I3")["SC2.I3"]["activities"] == 1


def test_a_planned_activity_past_its_date_is_not_held_until_someone_says_so(chat, ctx):
    from dataclasses import replace
    from datetime import date

    chat("log Regional workshop on PCB, Accra, Ghana, 12-14 March 2026, 30 participants SC2.I3")
    later = Chat(replace(ctx, today=lambda: date(2026, 4, 1)))  # the dates have passed
    assert later("edit 1 title=Regional workshop on PCB management").lines[0] == "Changed: title"
    assert "already has those values" in later("edit 1 dates=12-14 March 2026").title  # the same dates again
    assert figures(ctx, "indicator", "SC2.I3")["SC2.I3"]["outside_period"] == []  # planned: not held at all
    assert "Changed: status" in later("edit 1 status=done").lines[0]
    # Held in 2026, after the 2022–2025 plan: linked and listed apart, never counted.
    row = figures(ctx, "indicator", "SC2.I3")["SC2.I3"]
    assert (row["activities"], row["value"], row["outside_period"]) == (0, 0, [1])


def test_every_committed_change_bumps_the_data_version_once_savepoints_or_not(ctx):
    from storage.activities import Actor, create_activity, data_version, edit_activity

    actor = Actor("amina", "Amina", "console")
    with ctx.sessions() as session:
        activity = create_activity(session, actor, conversation_id="console", raw_text="t", countries=["GH"],
                                   languages=[], links=[], title="Workshop", kind="workshop",
                                   start_date=None, end_date=None, participants=20, women=None, status="done")
        session.commit()
        before = data_version(session)
        edit_activity(session, actor, activity, {"participants": 25})
        with session.begin_nested():  # released: not the end of the transaction
            edit_activity(session, actor, activity, {"participants": 30})
        assert data_version(session) == before  # nothing counted before the commit
        savepoint = session.begin_nested()
        edit_activity(session, actor, activity, {"participants": 35})
        savepoint.rollback()  # undoes the last edit only
        session.commit()
        assert data_version(session) == before + 1
        session.commit()  # nothing new: no bump
        assert data_version(session) == before + 1
