"""What a message with no command word is: a report of an activity, a question, or neither — in
English, French and Spanish, as people type in chat. Through dispatch on SQLite and PostgreSQL.

Today is 16 June 2025 (conftest.TODAY).
"""
from __future__ import annotations

import pytest
from test_chat import log_three

from handlers.messages import ReplyKind
from handlers.parse import Log, Status, parse_command

# (report with no verb, its dates as the reply shows them, participants as the reply shows them)
VERBLESS_LOGS = [
    ("Séminaire national sur les stocks de PCB, Lomé, Togo, le 4 février 2025, 26 participants dont 11 femmes",
     "4 Feb 2025", "26 (11 women"),
    ("atelier sous-régional AND, Niamey (Niger), 9 et 10 avril 2024, 19 pers (8 F / 11 H)",
     "9 Apr 2024 – 10 Apr 2024", "19 (8 women"),
    ("Curso sobre manejo de plaguicidas, Asunción, Paraguay, del 2 al 4 de diciembre de 2024, "
     "27 participantes (15 mujeres)",
     "2 Dec 2024 – 4 Dec 2024", "27 (15 women"),
    ("reunión técnica COP en Managua Nicaragua 18 de febrero de 2025 - 14 personas",
     "18 Feb 2025", "14"),
    ("Customs trng, Suva FJ, 5-7 Feb 2025, 21 officers incl. 7 women",
     "5 Feb 2025 – 7 Feb 2025", "21 (7 women"),
    ("national consultation on mercury Ulaanbaatar Mongolia 23/03/2025 33 ppl",
     "23 Mar 2025", "33"),
]


@pytest.mark.parametrize("message, dates, participants", VERBLESS_LOGS)
def test_a_report_without_a_verb_is_logged_in_any_language(chat, message, dates, participants):
    reply = chat(message)
    assert reply.kind == ReplyKind.DONE and reply.title.startswith("Logged #1"), reply.text
    assert dates in reply.text and participants in reply.text, reply.text
    assert chat("show 1").title.startswith("#1"), "the log was stored"


# Requests with no question word, each naming its target in its own way (gold titles worked out by hand).
REQUESTS = [
    ("give me the whole picture", "The whole plan · status"),
    ("numbers for last year please", "The whole plan · status · 2024-01-01 – 2024-12-31"),
    ("show me Kenya", "Kenya · what it took part in"),
    ("africa since january 2024", "African Group · status"),
    ("montre-moi les chiffres de 2023", "The whole plan · status · 2023-01-01 – 2023-12-31"),
    ("donne-moi le point sur le Ghana", "Ghana · what it took part in"),
    ("résumé général", "The whole plan · status"),
    ("muéstrame las cifras de 2024", "The whole plan · status · 2024-01-01 – 2024-12-31"),
    ("dame un resumen de Ghana", "Ghana · what it took part in"),
    ("plan completo", "The whole plan · status"),
    ("workshops in Ghana", "Ghana · what it took part in"),  # several activities asked about, none reported
    ("ateliers au Kenya en 2024", "Kenya · what it took part in"),
    ("talleres en Ghana el año pasado", "Ghana · what it took part in"),
]


@pytest.mark.parametrize("question, title", REQUESTS)
def test_a_request_without_a_question_word_is_answered(chat, question, title):
    log_three(chat)
    reply = chat(question)
    assert reply.title.startswith(title), reply.text


@pytest.mark.parametrize("question", [
    "what's the capital of Kenya?", "quelle est la capitale du Ghana ?", "¿cuál es la capital de Kenia?",
    "weather in Nairobi tomorrow", "merci, bonne journée à toute l'équipe", "hola a todos, feliz año",
])
def test_off_topic_lines_get_the_honest_answer_even_when_they_name_a_country(chat, ctx, question):
    log_three(chat)
    reply = chat(question)
    assert reply.title == "I can answer questions about the plan", reply.text
    assert "help" in reply.text  # and how to find every command


@pytest.mark.parametrize("message", [
    "le Togo a finalisé son inventaire des PCB avec notre appui",
    "Ecuador y Perú presentaron sus informes nacionales de Basilea",
    "we reviewed Fiji's draft pesticide regulation with the ministry",
    "drafted the e-waste import checklist for Ghana's customs",
])
def test_an_action_told_in_the_past_is_logged(chat, message):
    reply = chat(message)
    assert reply.title.startswith("Logged #1"), reply.text


def test_the_routing_decision_needs_no_database():
    assert isinstance(parse_command("Taller regional, Cali, 3 de mayo de 2024, 30 participantes"), Log)
    assert isinstance(parse_command("Webinaire sur les POP"), Log)  # a kind of activity alone: a log to complete
    assert isinstance(parse_command("35 participants from Ghana and Togo"), Log)
    assert isinstance(parse_command("show me last year"), Status)
    assert parse_command("show me 12") == parse_command("show 12")  # an activity's number stays a command
    assert isinstance(parse_command("need the figures for Kenya"), Status)
    assert isinstance(parse_command("résultat 1 de Bâle"), Status)  # a reference, not an unknown command
    assert isinstance(parse_command("qu'a fait le Sénégal cette année"), Status)  # a question told in the past
    assert isinstance(parse_command("the quick brown fox jumps over the lazy dog"), Status)  # answered honestly


def test_listing_indicators_asks_for_the_gaps_while_list_still_lists_activities(chat, ctx):
    log_three(chat)
    total = len(ctx.plan.indicators)
    for question in ("list the indicators without activities", "liste des indicateurs sans activité",
                     "lista de indicadores sin actividad"):
        reply = chat(question)
        assert reply.title == "Gaps · The whole plan", reply.text
        assert f"{total - 3} of {total} indicators have no activity yet" in reply.text
    assert "#3" in chat("list").text
