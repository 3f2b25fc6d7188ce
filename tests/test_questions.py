"""Questions as people ask them, in English, French and Spanish, through dispatch on SQLite and PostgreSQL.

The three activities of the session (figures worked out by hand):
  #1 Ghana (with Togo and Benin), 12–14 Mar 2024, 35 participants, 14 women, SC2.I3
  #2 Kenya, 2–4 Apr 2024, 12 participants, 5 women, SC2.I5
  #3 Ghana, 5 Oct 2023, 20 participants, 9 women, BC1.I2
Today is 16 June 2025 (conftest.TODAY): "last year" is 2024, "this year" 2025.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import TODAY
from test_chat import log_three

from handlers.dispatch import quick_reply
from handlers.messages import Incoming, ReplyKind
from handlers.parse import Log, parse_command
from handlers.questions import read_question


def _figures(text: str) -> tuple[int, int]:
    activities = int(re.search(r"Activities: (\d+)", text).group(1))
    participants = int(re.search(r"Participants(?: in them)?: ([\d,]+)", text).group(1).replace(",", ""))
    return activities, participants


# (question, how the reply's title starts, activities, participants)
FIGURES = [
    ("status", "The whole plan · status", 3, 67),
    ("how are we doing overall?", "The whole plan · status", 3, 67),
    ("where does the whole plan stand", "The whole plan · status", 3, 67),
    ("on en est où dans l'ensemble ?", "The whole plan · status", 3, 67),
    ("¿cómo vamos en general?", "The whole plan · status", 3, 67),
    ("status 2024", "The whole plan · status · 2024-01-01 – 2024-12-31", 2, 47),
    ("what did we do last year?", "The whole plan · status · 2024-01-01 – 2024-12-31", 2, 47),
    ("el año pasado", "The whole plan · status · 2024-01-01 – 2024-12-31", 2, 47),
    ("bilan de l'année dernière", "The whole plan · status · 2024-01-01 – 2024-12-31", 2, 47),
    ("status this year", "The whole plan · status · 2025-01-01 – 2025-12-31", 0, 0),
    ("status Q1 2024", "The whole plan · status · 2024-01-01 – 2024-03-31", 1, 35),
    ("depuis mars 2024", "The whole plan · status · since 2024-03-01", 2, 47),
    ("desde abril de 2024", "The whole plan · status · since 2024-04-01", 1, 12),
    ("since October 2023", "The whole plan · status · since 2023-10-01", 3, 67),
    ("status of Basel in 2023", "BC · Basel Convention · 2023-01-01 – 2023-12-31", 1, 20),
    ("status of Basel in 2024", "BC · Basel Convention · 2024-01-01 – 2024-12-31", 0, 0),
    ("¿cómo va el Convenio de Basilea?", "BC · Basel Convention", 1, 20),
    ("où en est la Convention de Rotterdam ?", "RC · Rotterdam Convention", 0, 0),
    ("Stockholm en 2024", "SC · Stockholm Convention · 2024-01-01 – 2024-12-31", 2, 47),
    ("état du résultat 2 de Stockholm", "SC2 · Strengthened capacities", 2, 47),
    ("estado del resultado 2 de Estocolmo desde abril de 2024", "SC2 · Strengthened capacities", 1, 12),
    ("status Africa", "African Group · status", 3, 67),
    ("how is Africa doing since 2024?", "African Group · status · since 2024-01-01", 2, 47),
    ("où en est l'Afrique ?", "African Group · status", 3, 67),
    ("how is GRULAC doing?", "Latin America · status", 0, 0),
    ("¿cómo va América Latina?", "Latin America · status", 0, 0),
    ("status Asia-Pacific", "Asia-Pacific · status", 0, 0),
    ("situation du Ghana", "Ghana · what it took part in", 2, 55),
    ("estado de Ghana en 2023", "Ghana · what it took part in · 2023-01-01 – 2023-12-31", 1, 20),
    ("how is Kenya doing", "Kenya · what it took part in", 1, 12),
    ("situation du Sénégal", "Senegal · what it took part in", 0, 0),
    ("estado de Colombia", "Colombia · what it took part in", 0, 0),
]


@pytest.mark.parametrize("question, title, activities, participants", FIGURES)
def test_question_figures(chat, question, title, activities, participants):
    log_three(chat)
    reply = chat(question)
    assert reply.title.startswith(title), reply.text
    assert _figures(reply.text) == (activities, participants), reply.text


def test_a_region_counts_activities_its_countries_took_part_in(chat, ctx):
    log_three(chat)
    chat("log Regional workshop on PCB phase-out, Bogotá, Colombia, 3-4 June 2024, 25 participants (10 women) SC2.I3")
    latin = chat("status Latin America").text
    assert _figures(latin) == (1, 25) and re.search(r"SC\s+Stockholm Convention\s+1\s+25\s+10\s+1", latin)
    africa = chat("status Africa").text
    assert _figures(africa) == (3, 67)  # not the one in Bogotá
    # Countries reached in Africa: Ghana, Togo, Benin, Kenya (not counted: none outside the group).
    assert "Countries reached: 4" in africa


def test_women_trained_are_the_plan_totals_by_sex(chat):
    log_three(chat)
    for question in ("how many women have we trained?", "combien de femmes avons-nous formées ?",
                     "¿cuántas mujeres hemos capacitado?"):
        reply = chat(question)
        assert reply.title.startswith("The whole plan · women trained"), reply.text
        assert "Women: 28 of the 67 participants whose sex was reported (42%)" in reply.text  # 28/67 = 41.8 %


def test_when_was_the_last_workshop_lists_the_latest_activities(chat):
    log_three(chat)
    for question in ("When was the last workshop in Ghana?", "quand a eu lieu le dernier atelier au Ghana ?",
                     "¿cuándo fue el último taller en Ghana?"):
        reply = chat(question)
        assert reply.title == "Ghana · latest activities", reply.text
        assert [line.split()[0] for line in reply.lines] == ["#1", "#3"]  # latest first, only Ghana's


@pytest.mark.parametrize("question", [
    "When Slack was released?", "When was Slack released?", "what's the weather in Paris tomorrow?",
    "who won the football match", "quelle heure est-il ?", "¿quién ganó el partido?", "tell me a joke",
])
def test_a_question_off_the_plan_gets_an_honest_answer(chat, ctx, question):
    log_three(chat)
    reply = chat(question)
    assert reply.title == "I can answer questions about the plan", reply.text
    assert not any(code in (reply.title or "") for code in ctx.plan.indicators)
    first = next(iter(ctx.plan.conventions.values()))
    assert f"status {first.name}" in reply.text  # examples come from the loaded plan


def test_gaps_of_the_plan_a_convention_and_an_outcome(chat, ctx):
    log_three(chat)
    total = len(ctx.plan.indicators)
    for question in ("which indicators have no activity yet?", "gaps",
                     "quels indicateurs n'ont encore aucune activité ?",
                     "¿qué indicadores no tienen ninguna actividad?"):
        reply = chat(question)
        assert reply.title == "Gaps · The whole plan", reply.text
        assert f"{total - 3} of {total} indicators have no activity yet" in reply.text
        assert "SC2.I3" not in reply.lines[1:] and any(line.startswith("SC2.I1 ·") for line in reply.lines)
        assert [row[0] for row in reply.table.rows] == ["BC1.I2", "SC2.I3", "SC2.I5"]  # fewest, then oldest last
    basel = len(ctx.plan.indicators_of("BC"))
    for question in ("what's missing for Basel?", "gaps Basel", "qu'est-ce qui manque pour Bâle ?",
                     "¿qué falta en el Convenio de Basilea?"):
        reply = chat(question)
        assert reply.title.startswith("Gaps · BC · Basel Convention"), reply.text
        assert f"{basel - 1} of {basel} indicators have no activity yet" in reply.text
        assert [row[0] for row in reply.table.rows] == ["BC1.I2"]
    reply = chat("gaps of Stockholm outcome 2 in 2023")
    assert reply.title.startswith("Gaps · SC2") and "2023-01-01 – 2023-12-31" in reply.title
    stockholm2 = len(ctx.plan.indicators_of("SC2"))
    assert f"{stockholm2} of {stockholm2} indicators have no activity yet" in reply.text


def test_an_output_code_is_read_as_its_indicator(chat):
    log_three(chat)
    for question in ("how is SC2.O5 doing", "status SC2.O5 now", "where are we on sc2.o5?"):
        reply = chat(question)
        assert reply.kind is not ReplyKind.ERROR and reply.title.startswith("SC2.I5 · status"), reply.text
        assert "Read as SC2.I5: SC2.O5 is an output; it is reported through SC2.I5." in reply.text
    reply = chat("status BC1.O1 now")
    assert reply.title.startswith("BC1.I1 · status") and "BC1.O1 is an output" in reply.text


def test_the_period_is_part_of_what_is_remembered(chat, ctx):
    log_three(chat)
    asked = {q: chat(q).text for q in ("status Basel", "status Basel in 2024", "status Basel in 2023")}
    assert [_figures(t)[0] for t in asked.values()] == [1, 0, 1]
    for question, text in asked.items():  # answered from memory on the event loop: each its own figures
        quick = quick_reply(Incoming(question, "amina", "c1", "console"), ctx)
        assert quick is not None, question
        assert _figures("\n".join(f"{f.label}: {f.value}" for f in quick.fields)) == _figures(text), question


def test_parse_of_questions_gives_command_target_and_period(plan):
    from handlers.describe import describe

    cases = {
        "status": ("status", "PLAN", None),
        "status of Basel in 2023": ("status", "BC", {"from": "2023-01-01", "to": "2023-12-31"}),
        "Q1 2024": ("status", "PLAN", {"from": "2024-01-01", "to": "2024-03-31"}),
        "depuis juin 2024": ("status", "PLAN", {"from": "2024-06-01", "to": None}),
        "desde junio de 2024": ("status", "PLAN", {"from": "2024-06-01", "to": None}),
        "since June": ("status", "PLAN", {"from": "2025-06-01", "to": None}),  # the June begun last
        "since July": ("status", "PLAN", {"from": "2024-07-01", "to": None}),
        "how is GRULAC doing?": ("status", "region:GRULAC", None),
        "où en est l'Europe de l'Est cette année ?": ("status", "region:EEG",
                                                      {"from": "2025-01-01", "to": "2025-12-31"}),
        "which indicators have no activity yet?": ("gaps", "PLAN", None),
        "what's missing for Basel?": ("gaps", "BC", None),
        "status Ghana": ("status", "GH", None),
        "status South Africa": ("status", "ZA", None),  # a country, not the African Group
        "status BC1.O1 now": ("status", "BC1.I1", None),
        "le mois dernier": ("status", "PLAN", {"from": "2025-05-01", "to": "2025-05-31"}),
        "When was Slack released?": ("status", None, None),
    }
    for text, (command, target, period) in cases.items():
        data = describe(text, plan, TODAY)
        assert (data["command"], data["target"], data["period"]) == (command, target, period), text


def test_a_log_is_still_a_log():
    # French and Spanish status words make a question only where they open the message.
    for text in ("Atelier sur la situation des déchets à Dakar, Sénégal, 3 mars 2024, 30 participants",
                 "log Regional workshop on the status of PCB inventories, Accra, Ghana, 12 March 2024"):
        assert isinstance(parse_command(text), Log), text


def test_questions_naming_countries_in_french_and_spanish(plan):
    cases = {"estado de Kenia": "KE", "où en est le Maroc ?": "MA", "¿cómo va Marruecos?": "MA",
             "situación de Alemania": "DE", "où en est l'Afrique du Sud ?": "ZA"}
    for text, code in cases.items():
        assert read_question(text, plan, TODAY).as_json()["target"] == code, text


def test_a_question_in_spanish_about_kenya_gets_its_figures(chat):
    log_three(chat)
    reply = chat("¿cómo va Kenia?")
    assert reply.title.startswith("Kenya · what it took part in") and "Activities: 1" in reply.text


def test_quarters_by_ordinal_gap_words_and_a_bare_country_code(plan):
    today = date(2026, 12, 1)
    cases = {
        "Afrique, situation au premier trimestre 2025": ("status", "region:AFR", "2025-01-01", "2025-03-31"),
        "status of Basel in the third quarter of 2024": ("status", "BC", "2024-07-01", "2024-09-30"),
        "estado de los temas transversales en el segundo trimestre de 2024": ("status", "CC", "2024-04-01",
                                                                              "2024-06-30"),
        "¿qué indicadores no tienen actividad todavía?": ("gaps", "PLAN", None, None),
        "lagunas del resultado 2 de Basilea": ("gaps", "BC2", None, None),
        "quels indicateurs n'ont pas d'activité ?": ("gaps", "PLAN", None, None),
        "gh": ("status", "GH", None, None),
    }
    for text, (command, target, start, end) in cases.items():
        got = read_question(text, plan, today).as_json()
        period = got["period"] or {}
        read = (got["command"], got["target"], period.get("from"), period.get("to"))
        assert read == (command, target, start, end), text
