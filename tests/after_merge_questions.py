"""Questions naming countries in French and Spanish, for the integrator to run after merging issue 10's
country names (plan_data/countries.py): `pytest -q tests/after_merge_questions.py`.

Not collected with the suite (not named test_*.py): before that merge these names are unknown.
"""
from __future__ import annotations

from conftest import TODAY
from handlers.questions import read_question
from test_chat import log_three


def test_questions_naming_countries_in_french_and_spanish(plan):
    cases = {"estado de Kenia": "KE", "où en est le Maroc ?": "MA", "¿cómo va Marruecos?": "MA",
             "situación de Alemania": "DE", "où en est l'Afrique du Sud ?": "ZA"}
    for text, code in cases.items():
        assert read_question(text, plan, TODAY).as_json()["target"] == code, text


def test_a_question_in_spanish_about_kenya_gets_its_figures(chat):
    log_three(chat)
    reply = chat("¿cómo va Kenia?")
    assert reply.title.startswith("Kenya · what it took part in") and "Activities: 1" in reply.text
