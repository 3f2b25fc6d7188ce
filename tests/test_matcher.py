"""Indicator matching and status targets, on messages written for these tests (not the dev set)."""

from dataclasses import FrozenInstanceError

import pytest

from handlers.matcher import (
    AUTO_LINK_CONFIDENCE,
    Match,
    confidence,
    match_indicators,
)
from plan_data.loader import DEFAULT_PLAN_PATH, load_plan


@pytest.fixture(scope="module")
def plan():
    return load_plan()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Cambodia: review of draft law designating the competent authority for basel", "BC1.I2"),
        ("ENFORCE network meeting on waste crime", "BC1.I4"),
        ("pilot national inventory of hazardous wastes started in Mongolia", "BC2.I2"),
        ("supported Vietnam to set up ESM of used lead acid batteries", "BC2.I1"),
        ("NAP development workshop under the rotterdam convention in Lao PDR", "RC1.I1"),
        ("DNA of Nepal submitted import responses for all Annex III chemicals", "RC2.I4"),
        ("Ethiopia prepared 2 notifications of final regulatory action for banned pesticides", "RC2.I3"),
        ("Sri Lanka transmitted its updated NIP to the secretariat", "SC1.I2"),
        ("DDT alternatives for malaria vector control in Madagascar", "SC2.I2"),
        ("trained 18 lab chemists on POPs analysis in human milk for the global monitoring plan", "SC2.I5"),
        ("inventory of obsolete pesticide stockpiles and contaminated sites completed", "SC2.I7"),
        ("green customs workshop for border officers in Tbilisi", "CC1.I3"),
        ("SDG 12.4.2 data workshop with the national statistical office of Ghana", "CC1.I6"),
        ("chemical emergency preparedness exercise with OCHA in Mozambique", "CC1.I10"),
        ("BCRC Egypt website relaunched with a new publications section", "CC2.I3"),
    ],
)
def test_right_indicator_in_top_three(plan, text, expected):
    assert expected in [m.code for m in match_indicators(text, plan)[:3]]


def test_typos_and_shorthand_still_match(plan):
    assert match_indicators("helped w/ natl reportng trng for basel & stockholm OCPs", plan)[0].code in {
        "CC1.I5", "BC2.I5"}
    assert match_indicators("illegal trafic of haz wastes, 2 seizures", plan)[0].code == "BC1.I4"


def test_results_are_sorted_and_at_least_five(plan):
    matches = match_indicators("webinar on PCB elimination", plan)
    assert len(matches) >= 5
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 100 for s in scores)
    assert len(match_indicators("webinar on PCB elimination", plan, limit=8)) == 8


def test_matches_stay_plain_data(plan):
    m = match_indicators("case study on BAT/BEP at a cement kiln", plan)[0]
    assert isinstance(m, Match) and m.text == plan.indicators[m.code].text
    with pytest.raises(FrozenInstanceError):
        m.score = 0  # type: ignore[misc]


def test_nothing_to_go_on_gives_no_confidence(plan):
    for text in ("", "hello there", "xyzzy 2024"):
        matches = match_indicators(text, plan)
        assert len(matches) == 5
        assert confidence(matches) < AUTO_LINK_CONFIDENCE
    assert confidence([]) == 0.0


def test_confidence_is_high_for_a_clear_message(plan):
    clear = match_indicators("Sri Lanka transmitted its updated NIP to the secretariat", plan)
    assert 0 <= confidence(clear) <= 1
    assert confidence(clear) > AUTO_LINK_CONFIDENCE


def test_each_plan_object_gets_its_own_index(tmp_path):
    other = tmp_path / "tap-2026-2029.toml"
    other.write_text(DEFAULT_PLAN_PATH.read_text(encoding="utf-8").replace(
        'id = "tap-2022-2025"', 'id = "tap-2026-2029"'), encoding="utf-8")
    assert match_indicators("PIC Circular webinar", load_plan(other))[0].code == "RC2.I4"
