"""French and Spanish messages meet the plan's English through plan_data/vocabulary/."""
import pytest

from handlers.matcher import match_indicators
from plan_data.loader import load_plan
from plan_data.vocabulary import to_english, vocabulary

PLAN = load_plan()


def test_every_vocabulary_file_loads_and_knows_both_languages():
    vocab = vocabulary()
    assert {"en", "fr", "es"} <= set(vocab.languages)
    assert vocab.languages["fr"].words and vocab.languages["es"].words


@pytest.mark.parametrize("text, english", [
    ("Gestion écologiquement rationnelle des déchets dangereux", "environmentally sound management"),
    ("lutte contre le trafic illicite", "illegal traffic"),
    ("l'AND du Togo", "designated national authority"),
    ("mise à jour du PNM", "national implementation plan"),
    ("registro de plaguicidas y residuos peligrosos", "hazardous waste"),
    ("la autoridad nacional designada", "designated national authority"),
    ("los nuevos COP en las espumas", "new pops"),
    ("formation des douaniers", "customs"),
])
def test_domain_words_read_as_english(text, english):
    assert english in to_english(text)


def test_a_slip_in_a_long_word_is_still_read_but_names_are_left_alone():
    said = to_english("gestion ecologiquement rationelle des dechets dangeureux a Kousseri")
    assert "environmentally sound management" in said and "hazardous waste" in said
    assert "kousseri" in said


def test_english_words_that_are_french_acronyms_keep_their_english_meaning():
    # "AND" is a French acronym and "COP" a Spanish one; in English they are other words.
    said = to_english("Side event AND training at the COP on e-waste")
    assert "designated national authority" not in said and "pops" not in said
    assert "e-waste" in said


@pytest.mark.parametrize("text, code", [
    ("atelier national sur la gestion écologiquement rationnelle des batteries au plomb usagées, Niamey", "BC2.I1"),
    ("nous avons formé 25 agents des douanes du Togo et du Bénin à la détection des déchets", "CC1.I3"),
    ("le Tchad a transmis son plan national de mise en œuvre actualisé", "SC1.I2"),
    ("taller sobre el nuevo formato de presentación de informes de Basilea con 8 Partes", "BC2.I5"),
    ("estudio de caso de mejores técnicas disponibles en hornos de cemento en México", "SC2.I4"),
    ("simulacro de respuesta ante emergencias químicas en el puerto de Valparaíso", "CC1.I10"),
    ("webinaire sur les pesticides extrêmement dangereux et les notifications d'incidents", "RC2.I5"),
    ("Bolivia notificó una medida reglamentaria firme sobre el paraquat", "RC2.I3"),
    ("diagnostic des sites contaminés aux pesticides obsolètes au Niger", "SC2.I7"),
    ("muestreo de leche materna para COP, laboratorio de referencia", "SC2.I5"),
    ("reunión con la oficina de estadística sobre datos de residuos para el ODS 12", "CC1.I6"),
    ("se realizó un taller sobre el plan nacional de implementación del Convenio de Estocolmo", "SC1.I2"),
])
def test_french_and_spanish_logs_find_their_indicator(text, code):
    assert match_indicators(text, PLAN, limit=1)[0].code == code


def test_the_kind_of_event_does_not_outweigh_what_it_was_about():
    # "training workshops" is one indicator's wording, but nearly every log says "workshop".
    top = match_indicators("held a workshop on the national implementation plan of the Stockholm Convention",
                           PLAN, limit=1)[0]
    assert top.code == "SC1.I2"
