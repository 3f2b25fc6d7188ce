"""Log messages in English, French and Spanish read as the trainer meant them, through the
real dispatch on SQLite and PostgreSQL (the `chat` fixture), and `tapbot parse --json`."""
import pytest
from conftest import TODAY

from bot.console import ConsoleChannel
from handlers.describe import describe
from handlers.messages import ReplyKind
from storage.models import Activity


def stored(ctx, activity_id: int) -> Activity:
    with ctx.sessions() as session:
        activity = session.get(Activity, activity_id)
        return activity, [c.country for c in activity.countries]


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("log Atelier sous-régional sur les POP, Dakar, Sénégal, du 28 au 30 novembre 2023, "
         "32 participants dont 9 femmes",
         ["Kind: Workshop", "28 Nov 2023 – 30 Nov 2023", "Countries: Senegal", "32 (9 women"]),
        ("log Taller regional sobre mercurio, Bogotá, del 10 al 12 de julio de 2023, 30 participantes (17 mujeres)",
         ["Kind: Workshop", "10 Jul 2023 – 12 Jul 2023", "Countries: Colombia", "30 (17 women"]),
        ("log Lao PDR DNA training, Vientiane, 22/05/2023 - 24/05/2023, F:12 M:18",
         ["Kind: Training", "22 May 2023 – 24 May 2023", "Countries: Lao", "30 (12 women"]),
        ("log RC subregional wkshp Nairobi 9-11 Apr w/ icipe - KE RW TZ UG ZM DNAs, 25 pax (8 F / 17 H)",
         ["9 Apr 2025 – 11 Apr 2025", "Kenya, Rwanda, United Republic of Tanzania, Uganda, Zambia", "25 (8 women"]),
        ("log formation des douaniers en ligne, 4 et 5 mars 2024, 8 femmes, 17 hommes",
         ["Kind: Training", "Modality: Online", "4 Mar 2024 – 5 Mar 2024", "25 (8 women"]),
        ("log capacitación presencial en Quito, 4 y 5 de septiembre de 2024, 12 mujeres y 16 hombres",
         ["Kind: Training", "Modality: In person", "Countries: Ecuador", "28 (12 women"]),
        ("log webinaire sur le mercure, 13/9/2022, 230 inscrits, 180 participants, dont 70 femmes",
         ["Kind: Webinar", "13 Sep 2022", "180 (70 women"]),
        ("log seminario web híbrido, March 3-5, 2024, 45 participants, of whom 15 were women",
         ["Kind: Webinar", "Modality: Hybrid", "3 Mar 2024 – 5 Mar 2024", "45 (15 women"]),
        ("log réunion de lancement, Lomé, 3rd–7th June 2024, 20 officers, 8 of them women",
         ["Kind: Meeting", "Countries: Togo", "3 Jun 2024 – 7 Jun 2024", "20 (8 women"]),
        ("log proyecto piloto en República Dominicana y Perú, 27 Feb - 1 Mar 2024, 12F/18M",
         ["Kind: Pilot project", "Dominican Republic, Peru", "27 Feb 2024 – 1 Mar 2024", "30 (12 women"]),
    ],
)
def test_logs_in_three_languages_are_read_field_by_field(chat, message, shown):
    reply = chat(message)
    assert reply.kind is ReplyKind.DONE, reply.text
    for part in shown:
        assert part in reply.text


def test_a_named_place_that_cannot_be_placed_is_stored_and_said(chat, ctx):
    reply = chat("log workshop in Atlantis, 12 March 2025, 20 participants (9 women)")
    assert reply.kind is ReplyKind.DONE
    assert "“Atlantis”" in reply.text and f"edit {reply.activity_id} countries=" in reply.text
    activity, countries = stored(ctx, reply.activity_id)
    assert activity.participants == 20 and countries == []


def test_fewer_countries_named_than_stated_asks_for_them_with_the_edit_button(chat, ctx):
    reply = chat("log Regional workshop on e-waste, Accra, Ghana, 12-14 March 2024, "
                 "35 participants (14 women) from 9 countries")
    assert "says 9 countries but names 1" in reply.text
    assert "countries=Ghana, …" in reply.text
    assert "Countries: Ghana (1 named of the 9 stated)" in reply.text
    assert any(a.command == f"edit {reply.activity_id}" for a in reply.actions)
    activity, countries = stored(ctx, reply.activity_id)
    assert activity.countries_stated == 9 and countries == ["GH"]


def test_a_date_that_reads_two_ways_offers_both_and_either_button_logs_it(chat, ctx):
    reply = chat("log National workshop, Lima, 03/05/2024, 30 participants (17 women)")
    assert reply.kind is ReplyKind.ERROR and "day-first" in reply.text
    labels = [a.label for a in reply.actions]
    assert labels == ["3 May 2024", "5 March 2024"]
    logged = chat(reply.actions[1].command)
    assert logged.kind is ReplyKind.DONE and "5 Mar 2024" in logged.text and "Countries: Peru" in logged.text


def test_french_and_spanish_numeric_dates_are_day_first(chat):
    for message in ("log Taller nacional, Lima, 03/05/2024, 30 participantes (17 mujeres)",
                    "log Atelier national, Lomé, 03/05/2024, 30 participants dont 17 femmes"):
        reply = chat(message)
        assert reply.kind is ReplyKind.DONE and "3 May 2024" in reply.text


def test_a_year_less_date_says_which_year_it_took_held_or_planned(chat, ctx):
    held = chat("log training on PIC, Accra, Ghana, 20 Aug, 30 participants (12 women)")
    assert "20 Aug 2024" in held.text and "I took 2024, the most recent" in held.text
    planned = chat("log prévu : atelier national sur le mercure, Dakar, 20 août, 30 participants (12 femmes)")
    assert "20 Aug 2025" in planned.text and "I took 2025, the next" in planned.text
    activity, _ = stored(ctx, planned.activity_id)
    assert activity.status == "planned" and activity.title == "Atelier national sur le mercure"


def test_title_keeps_what_follows_the_colon_and_no_chat_noise(chat, ctx):
    reply = chat("log <@U024BE7LH> Webinar: gender mainstreaming in chemicals management :tada: "
                 "<https://example.org/report|report>, 12 March 2025, 45 ppl")
    activity, _ = stored(ctx, reply.activity_id)
    assert activity.title == "Webinar: gender mainstreaming in chemicals management"


def test_hints_come_from_the_activity_not_a_fixed_example(chat):
    first = chat("log Training of customs officers on illegal traffic of hazardous waste in Atlantis")
    second = chat("log national PCB inventory workshop in Atlantis")
    hints = [[line for line in r.text.splitlines() if "link " in line and "•" in line] for r in (first, second)]
    assert hints[0] != hints[1]  # each names its own best indicator
    assert "participants=<how many>" in first.text


def test_a_pasted_attendee_list_is_one_message(ctx):
    channel = ConsoleChannel(ctx, "amina")
    log = dict(channel.converse(["log Regional workshop, Accra, Ghana, 12-14 March 2024, 35 participants\n"]))
    assert next(iter(log.values())).kind is ReplyKind.DONE
    pasted = ["\x1b[200~attendees 1 add Kofi Mensah; EPA Ghana; Ghana; M; customs officer\n",
              "Ama Owusu; EPA Ghana; Ghana; F; NIP focal point\x1b[201~\n",
              "attendees 1 add Yaw Boateng; EPA Ghana; Ghana; M; inspector\\\n",
              "Efua Sarpong; EPA Ghana; Ghana; F; inspector\n"]
    replies = list(channel.converse(pasted))
    assert len(replies) == 2
    assert all("Added 2 attendees to #1" in reply.title for _, reply in replies)


def test_parse_json_contract(plan):
    got = describe("log Taller regional en Bogotá y en Atlantis, 10-12 julio 2023, 30 participantes "
                   "(17 mujeres) de 9 países", plan, TODAY)
    assert got["language"] == "es" and got["countries"] == ["CO"]
    assert got["countries_stated"] == 9 and got["unresolved_places"] == ["Atlantis"]
    assert any("Atlantis" in p for p in got["problems"]) and any("9 countries" in p for p in got["problems"])
    assert describe("log atelier national, Lomé, 12 mars 2024", plan, TODAY)["language"] == "fr"
    assert describe("log national workshop, Accra, 12 March 2024", plan, TODAY)["language"] == "en"


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        # A venue and a remote way in is hybrid, and the city still names its country.
        ("log partnership meeting, Lima + online, 6-7 June 2023, 52 participants (29 women)",
         ["Modality: Hybrid", "Countries: Peru"]),
        ("log réunion du comité national, Yaoundé et en ligne, 2 déc. 2024, 18 membres",
         ["Modality: Hybrid", "Countries: Cameroon"]),
        # A city right before its dates is where it took place, even mid-sentence.
        ("log formation douaniers Abidjan 12-14 juin 2024 (7 F / 11 H)", ["Countries: Côte d'Ivoire", "18 (7 women"]),
        # People in the room and online, in French and Spanish.
        ("log formation hybride, Libreville, du 22 au 24 mai 2024, 21 en salle + 15 en ligne", ["36"]),
        ("log seminario web, 20 de abril de 2024, 150 conectados", ["Participants: 150"]),
        # Launches of guidance in French and Spanish.
        ("log guide sur les déchets plastiques lancé en français le 20 janvier 2025",
         ["Kind: Guidance or tool launch"]),
        ("log lanzamiento de la guía de plásticos en español, 8 de noviembre de 2022",
         ["Kind: Guidance or tool launch"]),
    ],
)
def test_venues_people_and_launches_in_three_languages(chat, message, shown):
    reply = chat(message)
    assert reply.kind is ReplyKind.DONE, reply.text
    for part in shown:
        assert part in reply.text, reply.text


def test_a_stated_count_of_countries_may_have_a_word_between(plan):
    for text, n in (("40 officers from 8 ASEAN countries", 8), ("24 delegates from 20 developing countries", 20),
                    ("48 participants de 14 pays d'Afrique", 14), ("150 conectados de 18 países", 18)):
        assert describe("log training, 3 May 2024, " + text, plan, TODAY)["countries_stated"] == n, text
