import json
import random
import string
import time
from datetime import date
from pathlib import Path

import pytest

from handlers.extract import extract_log_fields

TODAY = date(2025, 11, 26)
EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"


def _dev_lines() -> list[dict]:
    path = EVAL_DIR / "parse_dev.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.skipif(not _dev_lines(), reason="shared/eval/parse_dev.jsonl not present")
@pytest.mark.parametrize("line", _dev_lines(), ids=lambda line: line["text"][:40])
def test_parse_dev_line(line):
    got = extract_log_fields(line["text"], TODAY)
    assert {
        "start_date": got.start_date and got.start_date.isoformat(),
        "end_date": got.end_date and got.end_date.isoformat(),
        "participants": got.participants,
        "women": got.women,
        "modality": got.modality,
    } == {key: line[key] for key in ("start_date", "end_date", "participants", "women", "modality")}


def test_the_example_from_the_design():
    got = extract_log_fields(
        "log Regional workshop on e-waste ESM, Accra, Ghana, 12-14 March 2024, "
        "35 participants (14 women) from 9 countries", TODAY)
    assert (got.start_date, got.end_date) == (date(2024, 3, 12), date(2024, 3, 14))
    assert (got.participants, got.women, got.men) == (35, 14, None)
    assert (got.kind, got.title, got.modality) == ("workshop", "Regional workshop on e-waste ESM", None)
    assert got.problems == []


@pytest.mark.parametrize(
    ("text", "participants", "women", "men"),
    [
        ("NIP workshop, 40 participants (12 women)", 40, 12, None),
        ("validation meeting: 27 participants, 9 women", 27, 9, None),
        ("border training, 30 officers (6 female)", 30, 6, None),
        ("DNA mtg, 44 ppl, 20 women", 44, 20, None),
        ("PCB training 18 parcipants", 18, None, None),
        ("PCB training 18 particpants", 18, None, None),
        ("inception meeting with 25 stakeholders", 25, None, None),
        ("field visit with 7 national technicians", 7, None, None),
        ("webinar, 52 connected", 52, None, None),
        ("PRT training for 11 registration staff", 11, None, None),
        ("toolkit training, 19 experts", 19, None, None),
        ("webinar on HHPs, ~60", 60, None, None),
        ("webinar on HHPs, about 45 participants", 45, None, None),
        ("NIP wkshp, 12 in the room + 30 online", 42, None, None),
        ("9 women and 7 men attended the briefing", 16, 9, 7),
        ("3 women among the inspectors", None, 3, None),
        ("28 DNA staff, 11 women", 28, 11, None),
        ("national course, 41 pax (17F, 24M)", 41, 17, 24),
        ("participants: 45, women: 20", 45, 20, None),
        ("e-course, 1,200 learners", 1200, None, None),
        ("35 participants, 40% women", 35, 14, None),
        ("training for 12 customs officers and 8 prosecutors", 20, None, None),
        ("12 female participants and 10 male participants", 22, 12, 10),
        ("course, 6 participants", 6, None, None),
        ("workshop, 35 (14 women)", 35, 14, None),
        ("training, 40 participants, 9 of them women", 40, 9, None),
        ("14 of the 35 participants were women", 35, 14, None),
        ("22 experts/officials", 22, None, None),
        ("35 participants (of whom 12 women)", 35, 12, None),
    ],
)
def test_counts_as_people_write_them(text, participants, women, men):
    got = extract_log_fields(text, TODAY)
    assert (got.participants, got.women, got.men) == (participants, women, men)
    assert got.problems == []


@pytest.mark.parametrize(
    "text",
    [
        "regional workshop, 12-14 Nov 2019, from 12 countries",
        "webinar for DNAs from 7 GRULAC countries",
        "lab trainings in 31 countries",
        "executing the GEF 10235 project",
        "data for SDG 12.4.2",
        "training on Art. 12 export notifications",
        "side event at OEWG-12 and COP-10",
        "2nd session, half-day, one-day follow-up",
        "2024 reports uploaded",
        "helped submit 6 pending IRs",
        "34 stockholm parties supported",
        "8 women-led NGOs consulted",
        "in May 2024",
        "5-day training in 3 provinces",
        "session 2 online, module 3 in person",
        "GEF 5558 stakeholders met",
        "Art. 12 experts group",
    ],
)
def test_numbers_that_are_not_participants(text):
    got = extract_log_fields(text, TODAY)
    assert (got.participants, got.women, got.men) == (None, None, None)


@pytest.mark.parametrize(
    ("text", "modality"),
    [
        ("workshop in Accra, in person", "in_person"),
        ("in-person training", "in_person"),
        ("face-to-face consultation", "in_person"),
        ("F2F coaching", "in_person"),
        ("training on site at the port", "in_person"),
        ("training online", "online"),
        ("virtual briefing", "online"),
        ("call on Zoom with the DNA", "online"),
        ("Teams call with the focal point", "online"),
        ("webinar on ULAB", "online"),
        ("e-course module 2 released", "online"),
        ("hybrid meeting", "hybrid"),
        ("training, 10 in person + 25 online", "hybrid"),
        ("meeting held in person and online", "hybrid"),
        ("training on the online reporting system, in person", "in_person"),
        ("workshop in Accra", None),
        ("PCB inventory mission", None),
    ],
)
def test_modality(text, modality):
    assert extract_log_fields(text, TODAY).modality == modality


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("national workshop on HHPs", "workshop"),
        ("regional wkshp on ULAB", "workshop"),
        ("customs training", "training"),
        ("refresher course for inspectors", "training"),
        ("NIP coaching for 3 countries", "training"),
        ("webinar on the PIC circular", "webinar"),
        ("new online course on POPs", "online_course"),
        ("e-learning module on Basel", "online_course"),
        ("steering meeting", "meeting"),
        ("DNA mtg", "meeting"),
        ("sub-regional consultation", "meeting"),
        ("helpdesk call with the focal point", "meeting"),
        ("briefing for new DNAs", "meeting"),
        ("pilot on ESM of ULAB in Cotonou", "pilot_project"),
        ("pilot project on e-waste take-back", "pilot_project"),
        ("launched the new guidance on plastic waste inventories", "guidance_launch"),
        ("PCB toolkit published on the website", "guidance_launch"),
        ("sent comments on the draft guidance", "other"),
        ("call for proposals out", "other"),
        ("legal review, no meeting yet", "other"),
        ("helped the DNA submit import responses", "other"),
    ],
)
def test_kind(text, kind):
    assert extract_log_fields(text, TODAY).kind == kind


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("took part in the Pacific regional workshop 3-5 May 2023, 30 participants", "Pacific regional workshop"),
        ("Nairobi, 4 Feb 2024: national consultation on HHPs, 20 participants", "National consultation on HHPs"),
        ("Suva (Fiji), 2-4 Apr 2024, in person, refresher training for customs", "Refresher training for customs"),
        ("Training in Lima, Peru from 3 to 5 June 2023 on ULAB inventories; 25 participants",
         "Training in Lima on ULAB inventories"),
        ("Mercury storage legal review - desk work, no call yet", "Mercury storage legal review"),
        ("log: webinar yesterday, 40 connected", "Webinar"),
        ("We held a face-to-face meeting on March 5, 2024 with 10 officials", "Face-to-face meeting"),
        ("webinar 2 pm 12 March 2024, 120 participants", "Webinar"),
        ("35 participants, 9 of them women", ""),
    ],
)
def test_title_is_the_leading_description(text, title):
    assert extract_log_fields(text, TODAY).title == title


def test_title_is_short():
    title = extract_log_fields("workshop on " + "very " * 60 + "long topics", TODAY).title
    assert len(title) <= 121 and title.endswith("…")


@pytest.mark.parametrize(
    ("text", "languages"),
    [
        ("webinar in English, French and Spanish", ["en", "fr", "es"]),
        ("meeting of DNAs (EN/FR)", ["en", "fr"]),
        ("training delivered in Arabic", ["ar"]),
        ("course for Portuguese-speaking countries", ["pt"]),
        ("workshop for francophone Africa", ["fr"]),
        ("English/Russian interpretation provided", ["en", "ru"]),
        ("workshop in French Polynesia", []),
        ("workshop in Accra", []),
    ],
)
def test_languages(text, languages):
    assert extract_log_fields(text, TODAY).languages == languages


def test_more_women_than_participants_is_a_problem():
    got = extract_log_fields("training 2 May 2024, 20 participants (25 women)", TODAY)
    assert got.problems == ["More women (25) than participants (20)."]


def test_women_and_men_above_the_total_is_a_problem():
    got = extract_log_fields("workshop, 35 participants, 30 women, 8 men", TODAY)
    assert any("add up to more" in p for p in got.problems)


def test_negative_count_is_a_problem_not_a_value():
    got = extract_log_fields("customs training 2024-03-12, -5 participants", TODAY)
    assert got.participants is None
    assert got.problems == ["The number of participants can't be negative (-5)."]


def test_a_dash_before_a_count_is_not_a_minus():
    got = extract_log_fields("inception in Lagos - in person - 60 stakeholders", TODAY)
    assert (got.participants, got.problems) == (60, [])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("consultation 31 Feb 2024, 30 participants", "31 Feb 2024"),
        ("workshop 14-12 March 2024", "before the start"),
        ("training 5/10/2023, 12 participants", "month as a word"),
    ],
)
def test_impossible_dates_become_problems(text, says):
    got = extract_log_fields(text, TODAY)
    assert (got.start_date, got.end_date) == (None, None)
    assert len(got.problems) == 1 and says in got.problems[0]


def test_numbers_inside_an_impossible_date_are_not_counted():
    got = extract_log_fields("workshop 31 Feb 2024", TODAY)
    assert got.participants is None


def test_random_text_does_not_crash_and_is_quick():
    rng = random.Random(11)
    alphabet = string.ascii_letters + string.digits + " ,.;:-–/()~+%'\n"
    tokens = ("12 March 2024 - 35 participants women online in person workshop launch guidance "
              "( ) , ~40 -5 14 F M English and 5/10/2023").split()
    texts = [
        "".join(rng.choice(alphabet) for _ in range(10_000)),
        " ".join(rng.choice(tokens) for _ in range(2_000))[:10_000],
        "(" * 10_000,
        "35 participants " * 600,
        "workshop " * 1_100,
    ]
    for text in texts:
        began = time.perf_counter()
        extract_log_fields(text, TODAY)
        assert time.perf_counter() - began < 1.0


@pytest.mark.parametrize(
    ("text", "participants", "women", "men"),
    [
        ("Lao PDR DNA training, F:12 M:18", 30, 12, 18),
        ("customs training 12F/18M", 30, 12, 18),
        ("atelier national (7 F / 11 H)", 18, 7, 11),
        ("workshop, 45 participants (20 F, 25 M)", 45, 20, 25),
        ("meeting, 18 women / 12 men", 30, 18, 12),
        ("training, 35 participants, of whom 15 were women", 35, 15, None),
        ("20 officers, 8 of them women", 20, 8, None),
        ("webinar, 90 pax, women: 70", 90, 70, None),
        ("course for 25 ppl, 13 female", 25, 13, None),
        ("30 trainees incl. 6 women", 30, 6, None),
        ("32 participants dont 9 femmes", 32, 9, None),
        ("formation, 8 femmes, 17 hommes", 25, 8, 17),
        ("taller, 30 participantes (17 mujeres)", 30, 17, None),
        ("capacitación, 12 mujeres y 16 hombres", 28, 12, 16),
        ("reunión, 18 participantes (8 M / 10 H)", 18, 8, 10),
        ("webinar, 230 registered, 180 attended", 180, None, None),
        ("webinaire, 230 inscrits, 180 participants dont 70 femmes", 180, 70, None),
        ("formation de 25 douaniers dont 4 femmes", 25, 4, None),
        ("taller con 20 inspectores (6 mujeres)", 20, 6, None),
        ("atelier, 23 pers dont 8 femmes", 23, 8, None),
        ("workshop, 35 participants: women 14, men 21", 35, 14, 21),
        ("capacitación, 32 personas, 18 de ellas mujeres", 32, 18, None),
        ("training, 30 pax (F 13 / M 17)", 30, 13, 17),
        ("webinar w/ 80 ppl (women 45%)", 80, 36, None),
    ],
)
def test_every_way_of_writing_a_split(text, participants, women, men):
    fields = extract_log_fields(text, TODAY)
    assert (fields.participants, fields.women, fields.men) == (participants, women, men)


@pytest.mark.parametrize(
    ("text", "kind", "modality"),
    [
        ("atelier régional sur les POP", "workshop", None),
        ("Taller nacional presencial", "workshop", "in_person"),
        ("formation en ligne des douaniers", "training", "online"),
        ("capacitación virtual", "training", "online"),
        ("curso en línea sobre COP", "online_course", "online"),
        ("training of trainers, en présentiel", "training", "in_person"),
        ("webinaire sur le mercure", "webinar", "online"),
        ("seminario web sobre plaguicidas", "webinar", "online"),
        ("réunion hybride des points focaux", "meeting", "hybrid"),
        ("reunión de coordinación, híbrido", "meeting", "hybrid"),
        ("kick-off mtg online + offline", "meeting", "hybrid"),
        ("projet pilote au Bénin", "pilot_project", None),
        ("proyecto piloto en Perú", "pilot_project", None),
        ("wkshop on e-waste via zoom", "workshop", "online"),
        ("au cours de l'atelier national", "workshop", None),
    ],
)
def test_kind_and_modality_in_three_languages(text, kind, modality):
    fields = extract_log_fields(text, TODAY)
    assert (fields.kind, fields.modality) == (kind, modality)


@pytest.mark.parametrize(
    ("text", "status", "title"),
    [
        ("planned: national workshop on HHPs, Quito, 22-24 Oct 2025", "planned", "National workshop on HHPs"),
        ("prévu : atelier national sur le mercure, Dakar", "planned", "Atelier national sur le mercure"),
        ("Previsto: taller nacional sobre COP, Lima", "planned", "Taller nacional sobre COP"),
        ("done: training on PIC, Accra, 12 March 2024", "done", "Training on PIC"),
        ("Webinar: gender mainstreaming in chemicals management, 45 ppl", None,
         "Webinar: gender mainstreaming in chemicals management"),
        ("<@U024BE7LH> ran a training :tada: on PIC <https://x.org/r|report> 20 pax", None, "Training on PIC"),
    ],
)
def test_status_words_and_titles(text, status, title):
    fields = extract_log_fields(text, TODAY)
    assert (fields.status, fields.title) == (status, title)


@pytest.mark.parametrize(
    ("text", "language"),
    [("Atelier national sur le mercure, 32 participants dont 9 femmes", "fr"),
     ("Taller nacional sobre mercurio, 30 participantes y 17 mujeres", "es"),
     ("National workshop on mercury with 30 participants", "en")],
)
def test_the_language_of_the_message(text, language):
    assert extract_log_fields(text, TODAY).language == language


@pytest.mark.parametrize(
    ("text", "countries", "host", "unresolved", "stated"),
    [
        ("Atelier, Dakar, du 28 au 30 novembre 2023", ["SN"], "SN", [], None),
        ("RC wkshp Nairobi 9-11 Apr w/ icipe - KE RW TZ UG ZM DNAs", ["KE", "RW", "TZ", "UG", "ZM"], "KE", [], None),
        ("from Senegal, Côte d'Ivoire, Mali, Burkina Faso, Guinée and Togo",
         ["SN", "CI", "ML", "BF", "GN", "TG"], "SN", [], None),
        ("workshop in Atlantis", [], None, ["Atlantis"], None),
        ("from Senegal, Wakanda and Togo", ["SN", "TG"], "SN", ["Wakanda"], None),
        ("training in Accra for participants from Togo and Benin, from 9 countries", ["GH", "TG", "BJ"], "GH", [], 9),
        ("webinar on the Basel and Stockholm conventions", [], None, [], None),
        ("Training in Hazardous Waste Management for customs", [], None, [], None),
        ("IT staff went TO the meeting", [], None, [], None),
        ("workshop at the University of Nairobi, 20 students", ["KE"], "KE", [], None),
        ("training in Bangkok, 30 pax (F 13 / M 17)", ["TH"], "TH", [], None),
        # cities named like words count only where a place is named
        ("customs training, Female: 12, Male: 18", [], None, [], None),
        ("Mobile app training for inspectors", [], None, [], None),
        ("Dakar workshop, 12 March", ["SN"], "SN", [], None),
        ("training on plastics, Nice, France", ["FR"], "FR", [], None),
        ("Atelier, Ouaga, BF, 10-12/09/2024", ["BF"], "BF", [], None),
        ("reunión con Cuba, Haití y R. Dominicana", ["CU", "HT", "DO"], "CU", [], None),
    ],
)
def test_places(text, countries, host, unresolved, stated):
    from handlers.extract import read_places

    places = read_places(text)
    assert (places.countries, places.host, places.unresolved, places.stated) == (countries, host, unresolved, stated)
