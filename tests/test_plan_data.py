"""The bundled plan file and its loader: counts, verbatim text, validation, references."""

import copy
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest

from plan_data.loader import (
    DEFAULT_PLAN_PATH,
    Measure,
    PlanError,
    from_roman,
    load_plan,
    parse_plan,
    validate_file,
)

PLAN_TEXT = Path(__file__).parents[2] / "shared" / "plan" / "tap-2022-2025.txt"


@pytest.fixture(scope="module")
def plan():
    return load_plan()


@pytest.fixture()
def raw():
    with DEFAULT_PLAN_PATH.open("rb") as f:
        return tomllib.load(f)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_counts(plan):
    assert list(plan.conventions) == ["BC", "RC", "SC", "CC"]
    assert list(plan.outcomes) == ["BC1", "BC2", "RC1", "RC2", "SC1", "SC2", "CC1", "CC2"]
    assert len(plan.outputs) == 44
    assert len(plan.indicators) == 44
    assert plan.id == "tap-2022-2025"
    assert (plan.info.start_year, plan.info.end_year) == (2022, 2025)


def test_every_text_is_verbatim_from_the_plan(plan):
    if not PLAN_TEXT.exists():
        pytest.skip(f"{PLAN_TEXT} not present")
    source = _squash(PLAN_TEXT.read_text(encoding="utf-8"))
    texts = [c.objective for c in plan.conventions.values()]
    texts += [o.statement for o in plan.outcomes.values()]
    texts += [o.text for o in plan.outputs.values()]
    texts += [i.text for i in plan.indicators.values()]
    missing = [t for t in texts if _squash(t) not in source]
    assert not missing


def test_spot_checks(plan):
    assert plan.outcomes["BC1"].statement == (
        "Increased capacities of Parties to implement control procedures under the Basel Convention"
    )
    assert plan.outputs["RC1.O1"].text.startswith("Updated guidance for the the identification")  # plan's typo kept
    assert plan.indicators["CC1.I10"].numeral == "x"
    assert not plan.outputs["BC2.O4"].text.endswith(";")
    assert plan.conventions["CC"].name == "Cross-cutting areas"


@pytest.mark.parametrize(
    "code, measure",
    [
        ("BC1.I2", "parties"),
        ("BC1.I3", "pilot_projects"),
        ("BC1.I4", "activities"),
        ("RC1.I2", "languages"),
        ("SC2.I4", "products"),
        ("SC1.I1", "products"),
        ("CC2.I1", "products"),
        ("SC2.I5", "participants"),
        ("CC1.I3", "trainings"),
        ("CC1.I7", "participants"),
        ("CC2.I2", "regional_centres"),
    ],
)
def test_measures_follow_the_wording(plan, code, measure):
    assert plan.indicators[code].measure == Measure(measure)


def test_measures_name_the_kinds_and_products_they_count(plan):
    assert plan.indicators["SC2.I4"].product == "case_study" and plan.indicators["SC2.I7"].product == "inventory"
    assert plan.indicators["CC1.I4"].product == "submission"
    assert "meeting" not in plan.indicators["CC1.I3"].kinds and "workshop" in plan.indicators["CC1.I3"].kinds
    assert plan.indicators["BC1.I3"].kinds == ["pilot_project"]
    assert (plan.start, plan.end) == (date(2022, 1, 1), date(2025, 12, 31))


def test_every_indicator_is_usable(plan):
    for ind in plan.indicators.values():
        assert ind.unit and ind.keywords, ind.code
        assert plan.outputs[ind.output].outcome == ind.outcome


def test_navigation(plan):
    assert plan.get("sc2.i5").code == "SC2.I5"
    assert plan.get("XX9") is None
    assert plan.convention_of("CC2.I3") == "CC"
    assert plan.convention_of("RC1") == "RC"
    assert [i.code for i in plan.indicators_of("SC1")] == ["SC1.I1", "SC1.I2", "SC1.I3", "SC1.I4"]
    assert len(plan.indicators_of("CC")) == 13
    assert plan.indicators_of("nope") == []


def test_roman():
    assert [from_roman(s) for s in ("i", "iv", "vii", "ix", "x", "xiv")] == [1, 4, 7, 9, 10, 14]
    assert from_roman("VIII") == 8
    assert from_roman("iiii") is None and from_roman("") is None


# --- refusing bad files -------------------------------------------------------------

def _find(raw, section, code):
    return next(item for item in raw[section] if item["code"] == code)


def _refused(data) -> str:
    with pytest.raises(PlanError) as err:
        parse_plan(data)
    return str(err.value)


def test_output_that_does_not_exist(raw):
    _find(raw, "indicators", "BC1.I5")["output"] = "BC1.O9"
    assert _refused(raw) == "indicator BC1.I5: output BC1.O9 does not exist"


def test_output_of_another_outcome(raw):
    _find(raw, "indicators", "BC1.I1")["output"] = "BC2.O1"
    assert "indicator BC1.I1" in _refused(raw)


def test_duplicate_code(raw):
    raw["outputs"].append(copy.deepcopy(_find(raw, "outputs", "SC1.O2")))
    assert _refused(raw) == "output SC1.O2: duplicate code SC1.O2"


def test_code_not_matching_numeral(raw):
    _find(raw, "indicators", "RC2.I3")["numeral"] = "iv"
    msg = _refused(raw)
    assert msg.startswith("indicator RC2.I3") and "numeral" in msg


def test_code_not_matching_parent(raw):
    _find(raw, "outcomes", "SC2")["convention"] = "RC"
    assert _refused(raw).startswith("outcome SC2:")


def test_empty_indicator_text(raw):
    _find(raw, "indicators", "CC1.I7")["text"] = "   "
    assert _refused(raw).startswith("indicator CC1.I7: text")


def test_unknown_measure(raw):
    _find(raw, "indicators", "CC2.I1")["measure"] = "vibes"
    assert _refused(raw).startswith("indicator CC2.I1: measure")


def test_missing_field(raw):
    del _find(raw, "outputs", "BC2.O3")["text"]
    assert _refused(raw).startswith("output BC2.O3: text")


def test_misspelt_field_is_not_ignored(raw):
    _find(raw, "indicators", "SC1.I1")["keyword"] = ["x"]
    assert _refused(raw).startswith("indicator SC1.I1:")


def test_outcome_without_indicators(raw):
    raw["indicators"] = [i for i in raw["indicators"] if i["outcome"] != "CC2"]
    assert _refused(raw) == "outcome CC2: has no indicator"


def test_unknown_convention(raw):
    _find(raw, "outcomes", "BC1")["convention"] = "XC"
    assert _refused(raw).startswith("outcome BC1: convention XC")


def test_empty_section(raw):
    raw["indicators"] = []
    assert "indicator" in _refused(raw)


def test_bad_file_on_disk(tmp_path):
    text = DEFAULT_PLAN_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "tap-bad.toml"
    bad.write_text(text.replace('output = "BC1.O4"', 'output = "BC1.O9"'), encoding="utf-8")
    with pytest.raises(PlanError, match=r"^indicator BC1.I4: output BC1.O9 does not exist$"):
        validate_file(bad)
    (tmp_path / "broken.toml").write_text("[plan\n", encoding="utf-8")
    with pytest.raises(PlanError, match="not valid TOML"):
        validate_file(tmp_path / "broken.toml")
    with pytest.raises(PlanError, match="cannot read"):
        validate_file(tmp_path / "absent.toml")


def test_another_plan_is_another_file(tmp_path):
    text = DEFAULT_PLAN_PATH.read_text(encoding="utf-8")
    other = tmp_path / "tap-2026-2029.toml"
    other.write_text(text.replace('id = "tap-2022-2025"', 'id = "tap-2026-2029"'), encoding="utf-8")
    assert validate_file(other).id == "tap-2026-2029"


# --- structured references ----------------------------------------------------------

@pytest.mark.parametrize(
    "text, code",
    [
        ("sc2.i5", "SC2.I5"),
        ("BC1.O4", "BC1.O4"),
        ("cc1", "CC1"),
        ("bc", "BC"),
        ("Stockholm outcome 2", "SC2"),
        ("stockholm 2", "SC2"),
        ("outcome 2 of stockholm", "SC2"),
        ("basel", "BC"),
        ("Basel Convention", "BC"),
        ("basel 1 (iv)", "BC1.I4"),
        ("basel outcome 1 indicator iv", "BC1.I4"),
        ("basel 1 output (ii)", "BC1.O2"),
        ("indicator x of cross-cutting 1", "CC1.I10"),
        ("cross-cutting 2", "CC2"),
        ("Rotterdam Convention outcome 1?", "RC1"),
        ("  RC2.I5  ", "RC2.I5"),
    ],
)
def test_resolve(plan, text, code):
    assert plan.resolve(text) == code


@pytest.mark.parametrize(
    "text",
    ["", "basel workshop", "basel 3", "sc2.i9", "bc1 (xii)", "e-waste guidelines", "ghana", "ok"],
)
def test_resolve_refuses_free_text(plan, text):
    assert plan.resolve(text) is None


def test_a_plan_declares_a_measure_of_its_own_with_the_rule_it_counts_by(raw):
    raw["measures"] = {"inventories": {"counts_as": "activities", "description": "national inventories prepared"}}
    _find(raw, "indicators", "SC2.I7")["measure"] = "inventories"
    _find(raw, "indicators", "SC2.I7").pop("product")  # a product goes only with the products measure
    plan = parse_plan(raw)
    assert plan.indicators["SC2.I7"].measure is Measure.ACTIVITIES
    assert plan.indicators["SC2.I7"].measure_name == "inventories"
    from handlers.help import run_plan

    assert "inventories, counted as activities" in " ".join(f.value for f in run_plan(plan, "SC2.I7").fields)


def test_a_declared_measure_must_name_an_existing_rule(raw):
    raw["measures"] = {"inventories": {"counts_as": "vibes"}}
    assert _refused(raw).startswith("measure inventories: counts_as")
    raw["measures"] = {"parties": {"counts_as": "activities"}}
    assert _refused(raw) == "measure parties: already a built-in measure"


def test_convention_codes_of_two_to_five_letters_and_arabic_numbering(raw):
    raw["conventions"].append({"code": "MINAM", "name": "Minamata Convention", "objective": "Mercury.",
                               "aliases": ["minamata"]})
    raw["outcomes"].append({"code": "MINAM1", "convention": "MINAM", "statement": "Mercury trade is controlled"})
    raw["outputs"].append({"code": "MINAM1.O1", "outcome": "MINAM1", "numeral": "1", "text": "Consents issued"})
    raw["indicators"].append({"code": "MINAM1.I1", "outcome": "MINAM1", "numeral": "1", "output": "MINAM1.O1",
                              "text": "Number of Parties issuing consents", "measure": "parties", "unit": "Parties"})
    plan = parse_plan(raw)
    assert plan.resolve("minam1.i1") == "MINAM1.I1" and plan.resolve("minamata outcome 1") == "MINAM1"
    assert plan.resolve("basel") == "BC"  # a five-letter name is still a name
    raw["conventions"][-1]["code"] = "MINAMA"
    assert _refused(raw).startswith("convention MINAMA: code")
