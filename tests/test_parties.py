"""The Parties file: its totals on its own date, its validation, and `tapbot parties`."""
from __future__ import annotations

import json
from datetime import date

import pytest

from bot.cli import main
from plan_data.parties import PartiesError, bundled_parties, parse_parties


def test_totals_as_published_on_the_files_date():
    parties = bundled_parties()
    assert parties.as_of == date(2024, 12, 31)
    assert "XXVII" in parties.source and "15" in parties.source
    assert {code: parties.count(code) for code in ("BC", "RC", "SC")} == {"BC": 191, "RC": 166, "SC": 186}


def test_non_parties_and_the_eu():
    parties = bundled_parties()
    for convention in ("BC", "RC", "SC"):
        assert parties.was_party(convention, "EU", date(2024, 1, 1))
        assert parties.was_party(convention, "GH", date(2024, 1, 1))
        assert not parties.was_party(convention, "US", date(2024, 1, 1))
        assert not parties.was_party(convention, "VA", date(2024, 1, 1))
    assert parties.was_party("SC", "CK", date(2024, 1, 1)) and parties.was_party("SC", "NU", date(2024, 1, 1))
    # Cross-cutting: a Party to any of the three (Niue is one to Stockholm only).
    assert parties.was_party("CC", "NU", date(2024, 1, 1))
    assert not parties.was_party("RC", "NU", date(2024, 1, 1))


def test_a_state_counts_only_from_the_day_it_joined():
    parties = parse_parties({"source": "test", "as_of": date(2024, 12, 31), "conventions": {
        "BC": {"parties": {"GH": date(2023, 3, 1)}}, "RC": {"parties": {"GH": "2020"}},
        "SC": {"parties": {"TG": date(2010, 1, 1)}}}})
    assert not parties.was_party("BC", "GH", date(2023, 2, 28))
    assert parties.was_party("BC", "GH", date(2023, 3, 1))
    assert not parties.was_party("RC", "GH", date(2020, 6, 1))  # a bare year: certain only by its end
    assert parties.party_since("CC", "GH") == date(2020, 12, 31)


@pytest.mark.parametrize("broken, message", [
    ({"as_of": date(2024, 1, 1)}, "source"),
    ({"source": "x", "as_of": date(2024, 1, 1), "conventions": {"BC": {}, "RC": {}}}, "conventions.SC"),
    ({"source": "x", "as_of": date(2024, 1, 1), "conventions": {
        "BC": {"parties": {"XX": "2000"}}, "RC": {}, "SC": {}}}, "conventions.BC.parties.XX"),
    ({"source": "x", "as_of": date(2024, 1, 1), "conventions": {
        "BC": {"parties": {"GH": "2030"}}, "RC": {}, "SC": {}}}, "after the file's as_of"),
    ({"source": "x", "as_of": date(2024, 1, 1), "conventions": {
        "BC": {"parties": {"GH": "soon"}}, "RC": {}, "SC": {}}}, "neither a date"),
])
def test_a_broken_file_is_refused_naming_the_entry(broken, message):
    with pytest.raises(PartiesError, match=message):
        parse_parties(broken)


def test_cli_shows_source_date_and_counts(capsys):
    assert main(["parties"]) == 0
    out = capsys.readouterr().out
    assert "Treaty Collection" in out and "2024-12-31" in out
    assert "Basel Convention: 191 Parties" in out and "Stockholm Convention: 186 Parties" in out
    assert main(["parties", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parties"] == {"BC": 191, "RC": 166, "SC": 186} and data["as_of"] == "2024-12-31"
