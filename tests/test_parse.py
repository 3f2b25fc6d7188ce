"""Reading commands from text: no database, no plan, just what the user asked for."""
import pytest

from handlers import parse
from handlers.parse import parse_command


@pytest.mark.parametrize("text, expected", [
    ("log workshop in Accra", parse.Log("workshop in Accra")),
    ("LOG workshop in Accra", parse.Log("workshop in Accra")),
    ("please log workshop in Accra", parse.Log("workshop in Accra")),
    ("<@U123ABC> log workshop in Accra", parse.Log("workshop in Accra")),
    ("log", parse.Log("")),
    ("status SC2", parse.Status("SC2")),
    ("stauts SC2", parse.Status("SC2")),
    ("status of Stockholm outcome 2", parse.Status("Stockholm outcome 2")),
    ("what's the status of sc2?", parse.Status("sc2")),
    ("how is Ghana doing?", parse.Status("how is Ghana doing?")),
    ("cc1", parse.Status("cc1")),
    ("show 12", parse.Show(12)),
    ("show me activity #12", parse.Show(12)),
    ("delete 7", parse.Delete(7)),
    ("undo", parse.Undo(None)),
    ("undo 7", parse.Undo(7)),
    ("link 12 bc1.i4", parse.Link(12, ("BC1.I4",))),
    ("link 12 SC2.I3, CC1.I3", parse.Link(12, ("SC2.I3", "CC1.I3"))),
    ("unlink 12 BC1.I4", parse.Unlink(12, ("BC1.I4",))),
    ("list mine", parse.ListActivities("mine")),
    ("plan sc2", parse.PlanBrowse("sc2")),
    ("help", parse.Help("")),
    ("help attendes", parse.Help("attendees")),
    ("digest weekly monday 09:00 Geneva", parse.Digest("weekly monday 09:00 Geneva")),
    ("edit 12 participants=40 women = 18", parse.Edit(12, (("participants", "40"), ("women", "18")))),
    ("edit 12 title=Regional workshop on PCB, Dakar", parse.Edit(12, (("title", "Regional workshop on PCB, Dakar"),))),
    ("edit 12", parse.Edit(12, ())),
])
def test_commands(text, expected):
    assert parse_command(text) == expected


def test_a_report_without_a_verb_is_a_log_and_a_question_a_status():
    assert isinstance(parse_command("Regional workshop on PCB in Dakar, 11-13 June 2024, 46 participants"), parse.Log)
    assert isinstance(parse_command("haz waste inventory pilot projects - how many?"), parse.Status)
    assert isinstance(parse_command("regional centre web portals updated?"), parse.Status)


def test_attendees_one_per_line_or_separated_by_bars():
    command = parse_command("attendees 4 add Amina Diallo; Ministry of Environment; Senegal; F; customs officer\n"
                            "Jean Kouassi; DGE; Côte d'Ivoire; m; NIP focal point | Ana; ; ; ;")
    assert isinstance(command, parse.AttendeesAdd) and command.activity_id == 4
    assert [p.name for p in command.people] == ["Amina Diallo", "Jean Kouassi", "Ana"]
    assert command.people[1] == parse.AttendeeInput("Jean Kouassi", "DGE", "Côte d'Ivoire", "male", "NIP focal point")
    assert command.people[2] == parse.AttendeeInput("Ana", None, None, None, None)
    counts = parse_command("attendees 4 12 from Ghana, 3 from Togo and 2 from Côte d'Ivoire")
    assert counts == parse.AttendeesCount(4, ((12, "Ghana"), (3, "Togo"), (2, "Côte d'Ivoire")))
    assert parse_command("attendees 4") == parse.AttendeesList(4)


@pytest.mark.parametrize("text, clue", [
    ("", "empty"),
    ("show", "number of an activity"),
    ("delete twelve", "number of an activity"),
    ("link 12", "indicator codes"),
    ("link 12 banana", "indicator codes"),
    ("attendees 4 add A; B; C; X; role", "not a sex"),
    ("attendees 4 add a;b;c;d;e;f", "at most five parts"),
    ("attendees 4 lots from Ghana", "as a count"),
    ("x" * 5000, "characters long"),
])
def test_usage_errors_say_what_to_do(text, clue):
    result = parse_command(text)
    assert isinstance(result, parse.UsageError)
    assert clue in result.message
