"""Figures an M&E officer would sign: one scripted session per rule, on SQLite and PostgreSQL,
with the expected figures worked out by hand beside each assertion."""
from __future__ import annotations

import json

from handlers.status import Target, status_data


def row(ctx, code):
    with ctx.sessions() as session:
        data = status_data(session, ctx.plan, Target("indicator", code))
    return json.loads(json.dumps(data["indicators"][0]))  # as `tapbot status --json` prints it


def test_parties_count_only_parties_of_the_convention_non_parties_beside(chat, ctx):
    chat("log Webinar on import responses, 4 June 2024, online, hosted from Geneva, Switzerland, "
         "participants from the United States, the Holy See and Ghana, 30 participants RC2.I4")
    chat("log Workshop on import responses, Lomé, Togo, 3 May 2024, 20 participants from Togo and Benin RC2.I4")
    r = row(ctx, "RC2.I4")
    # Reached: US, VA, GH (webinar; Switzerland only hosted it online), TG, BJ. Rotterdam Parties
    # among them: GH, TG, BJ = 3. The United States and the Holy See are not Parties.
    assert r["value"] == 3 and sorted(r["non_parties"]) == ["US", "VA"]
    assert "CH" not in r["countries"]
    text = chat("status RC2.I4").text
    assert "Reached but not Parties then, so not counted: United States of America, Holy See." in text


def test_cross_cutting_counts_a_party_to_any_convention_and_niue_is_loggable(chat, ctx):
    chat("log Workshop on national reporting, Alofi, Niue, 3 May 2024, 12 participants CC1.I5")
    chat("log Workshop on national reporting, Avarua, Cook Islands, 4 May 2024, 10 participants CC1.I5")
    # Niue is a Party to Stockholm only, the Cook Islands to all three: both count cross-cutting.
    assert row(ctx, "CC1.I5")["value"] == 2
    chat("log Workshop on PIC, Alofi, Niue, 5 May 2024, 8 participants RC2.I3")
    r = row(ctx, "RC2.I3")
    assert r["value"] == 0 and r["non_parties"] == ["NU"]  # not a Party to Rotterdam


def test_the_plan_period_counts_and_lists_the_rest_apart(chat, ctx):
    chat("log Workshop on e-waste, Accra, Ghana, 12 May 2019, 30 participants BC2.I1")  # before 2022
    chat("log Workshop on e-waste, Lomé, Togo, 12 May 2023, 20 participants BC2.I1")
    chat("log Workshop on e-waste, Cotonou, Benin, 20 participants BC2.I1")  # no date
    r = row(ctx, "BC2.I1")
    assert (r["value"], r["activities"], r["participants"]) == (1, 1, 20)  # Togo's only
    assert r["outside_period"] == [1] and r["undated"] == [3]
    text = chat("status BC2.I1").text
    assert "1 linked activity outside 2022–2025, not counted: #1" in text
    assert "Date missing — not counted: #3" in text


def test_a_training_indicator_counts_trainings_not_meetings(chat, ctx):
    chat("log Training workshop for customs officers, Accra, Ghana, 12 May 2024, 25 participants CC1.I3")
    chat("log Meeting of customs directors, Lomé, Togo, 13 May 2024, 10 participants CC1.I3")
    chat("log Online course for enforcement officers, 1 June 2024, online, 40 participants CC1.I3")
    r = row(ctx, "CC1.I3")
    assert (r["value"], r["activities"], r["participants"]) == (2, 2, 65)  # the meeting is left out
    assert "Linked but not counted — meeting (1): CC1.I3 counts training workshops" in chat("status CC1.I3").text


def test_product_indicators_count_products_recorded(chat, ctx):
    chat("log Regional workshop on BAT/BEP, Nairobi, Kenya, 12 May 2024, 2 case studies on BAT/BEP published SC2.I4")
    chat("log Meeting on BAT/BEP, Accra, Ghana, 13 May 2024, produced: 3 case studies SC2.I4")
    chat("log Webinar on BAT/BEP, 1 June 2024, online, 50 participants SC2.I4")  # no case study recorded
    chat("log Atelier régional, Dakar, Sénégal, 2024-06-04, trois études de cas publiées SC2.I4")
    r = row(ctx, "SC2.I4")
    assert r["value"] == 2 + 3 + 3 and r["activities"] == 3
    assert "no case studies recorded (1)" in chat("status SC2.I4").text
    chat("log Submission of information to the POPRC, Geneva, Switzerland, 2 March 2024, submissions: 3 CC1.I4")
    assert row(ctx, "CC1.I4")["value"] == 3


def test_regional_centres_are_centres_not_spellings(chat, ctx):
    chat("log Project workshop organised by BCRC-Senegal, Dakar, Senegal, 12 May 2024 CC2.I2")
    chat("log Project launch by BCRC Senegal, Dakar, Senegal, 13 May 2024 CC2.I2")
    chat("log Project meeting with the Basel Convention Regional Centre for French-speaking African countries, "
         "14 May 2024 CC2.I2")
    chat("log Project workshop with the ZA regional centre, Pretoria, South Africa, 15 May 2024 CC2.I2")
    assert row(ctx, "CC2.I2")["value"] == 2  # Senegal's centre thrice, South Africa's once


def test_women_men_and_not_stated_kept_apart(chat, ctx):
    chat("log Workshop on NIPs, Accra, Ghana, 12 May 2024, 30 participants (10 women, 15 men) SC1.I2")
    chat("log Workshop on NIPs, Lomé, Togo, 13 May 2024, 20 participants SC1.I2")
    r = row(ctx, "SC1.I2")
    # 10 women of the 25 whose sex was reported = 40%; 5 + 20 not reported; never 33% of 30.
    assert (r["participants"], r["women"], r["men"], r["sex_not_stated"]) == (50, 10, 15, 25)
    assert "women 40% of the 25 participants whose sex was reported (10 women, 15 men); 25 not reported" \
        in chat("status SC1.I2").text


def test_no_sex_reported_is_null_not_zero(chat, ctx):
    chat("log Workshop on NIPs, Lomé, Togo, 13 May 2024, 20 participants SC1.I2")
    r = row(ctx, "SC1.I2")
    assert r["women"] is None and r["men"] is None and r["sex_not_stated"] == 20
    assert "Women and men: not reported" in chat("status SC1.I2").text


def test_attendees_beyond_participants_are_said_and_the_count_offered(chat, ctx):
    chat("log Workshop on NIPs, Lomé, Togo, 13 May 2024, 20 participants SC1.I2")
    reply = chat("attendees 1 25 from Togo")
    assert "25 attendees are now listed, more than the 20 participants stated" in reply.text
    assert any(a.command == "edit 1 participants=25" for a in reply.actions)
    assert chat("edit 1 participants=25").kind.value == "done"
    assert row(ctx, "SC1.I2")["participants"] == 25


def test_the_log_form_records_men_and_products(ctx):
    from handlers.forms import submit_log_form
    from handlers.messages import Incoming

    incoming = Incoming(text="", user_id="amina", user_name="Amina", conversation_id="c", channel="console",
                        event_key="form-1")
    values = {"title": "Regional workshop on BAT/BEP", "kind": "workshop", "start_date": "2024-05-12",
              "countries": "Kenya", "participants": "30", "women": "10", "men": "15", "products": "2 case studies",
              "indicators": "SC2.I4"}
    assert submit_log_form(incoming, values, ctx).kind.value == "done"
    r = row(ctx, "SC2.I4")
    assert (r["value"], r["women"], r["men"], r["sex_not_stated"]) == (2, 10, 15, 5)
    errors = submit_log_form(incoming, {**values, "men": "25"}, ctx)
    assert "more than the 30 participants" in errors["men"]
    assert "how many of what" in submit_log_form(incoming, {**values, "products": "some"}, ctx)["products"]


def test_edits_of_products_and_organiser_move_the_figures_and_undo_restores_them(chat, ctx):
    chat("log Regional workshop on BAT/BEP, Nairobi, Kenya, 12 May 2024 SC2.I4")
    assert row(ctx, "SC2.I4")["value"] == 0  # no case study recorded yet
    assert chat("edit 1 produced=2 case studies").kind.value == "done"
    assert row(ctx, "SC2.I4")["value"] == 2
    assert "how many of what" in chat("edit 1 produced=lots").text
    chat("undo")
    assert row(ctx, "SC2.I4")["value"] == 0
    chat("log Project launch, Dakar, Senegal, 13 May 2024 CC2.I2")
    chat("edit 2 organiser=BCRC Senegal")
    assert row(ctx, "CC2.I2")["value"] == 1


def test_a_country_view_counts_the_plan_period_only(chat, ctx):
    chat("log Workshop on e-waste, Accra, Ghana, 12 May 2019, 30 participants BC2.I1")
    chat("log Workshop on e-waste, Accra, Ghana, 12 May 2023, 20 participants BC2.I1")
    with ctx.sessions() as session:
        data = status_data(session, ctx.plan, Target("country", "GH"))
    assert (data["activities"], data["participants"]) == (1, 20)


def test_the_log_reply_shows_what_it_read_for_the_measures(chat):
    reply = chat("log Regional workshop organised by BCRC-Senegal, Dakar, Senegal, 12 May 2024, "
                 "2 case studies on BAT/BEP published SC2.I4")
    assert "Produced: 2 case studies" in reply.text
    assert "Regional centre: BCRC-Senegal" in reply.text


def test_stated_countries_not_named_are_shown_beside_the_parties_not_counted(chat, ctx):
    chat("log Regional workshop on e-waste, Accra, Ghana, 12 May 2024, "
         "35 participants from 9 countries BC2.I1")
    chat("log Workshop on e-waste, Lomé, Togo, 13 May 2024, 20 participants BC2.I1")  # none stated
    r = row(ctx, "BC2.I1")
    # Named: Ghana and Togo, both Basel Parties = 2. #1 said 9 countries and named 1: 8 unnamed.
    assert (r["value"], r["countries_stated_unnamed"]) == (2, 8)
    status = chat("status BC2.I1").text
    assert "8 more countries were stated but not named (#1), so not counted" in status
    assert "edit 1 countries=" in status
    shown = chat("show 1").text
    assert "1 named of the 9 stated" in shown
    assert "8 of the 9 countries stated are not named, so no Parties figure counts them" in shown
    # Naming more of them moves the figure and shrinks what is unnamed.
    chat("edit 1 countries=Ghana, Togo, Benin")
    r = row(ctx, "BC2.I1")
    assert (r["value"], r["countries_stated_unnamed"]) == (3, 6)  # GH, TG, BJ; 9 - 3 named
    # Correcting the stated count, then undoing it.
    assert "countries_stated" in chat("edit 1 countries_stated=3").text
    assert row(ctx, "BC2.I1")["countries_stated_unnamed"] == 0
    assert "stated but not named" not in chat("status BC2.I1").text
    chat("undo 1")
    assert row(ctx, "BC2.I1")["countries_stated_unnamed"] == 6
    refused = chat("edit 1 countries_stated=0").text
    assert "between 1 and" in refused and row(ctx, "BC2.I1")["countries_stated_unnamed"] == 6
