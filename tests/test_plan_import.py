"""A plan document → a plan file: `tapbot plan import`, `plan validate`, `plan crosswalk`, as an admin runs them."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import docx
import pytest

from plan_data.crosswalk import propose
from plan_data.importer import DocumentError, import_plan, propose_counting, read_document
from plan_data.loader import Measure, PlanError, load_plan, load_plans, parse_plan

ROOT = Path(__file__).resolve().parents[1]
PLAN_TEXT = ROOT.parent / "shared" / "plan" / "tap-2022-2025.txt"
SYNTHETIC = Path(__file__).with_name("data") / "tap-2026-2029-synthetic.txt"


def tapbot(*args, env=None, check=True):
    result = subprocess.run([sys.executable, "-m", "bot.cli", *map(str, args)], capture_output=True, text=True,
                            cwd=ROOT, env={**os.environ, **(env or {})}, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def as_docx(text_file: Path, out: Path) -> Path:
    """The same document as Word writes it: one paragraph per line, headings as headings."""
    document = docx.Document()
    for line in text_file.read_text(encoding="utf-8").splitlines():
        if line[:3] in ("VI.", "VII") or line[:2] in ("A.", "B.", "C.", "D."):
            document.add_heading(line, level=1 if line[:1] in "VI" else 2)
        else:
            document.add_paragraph(line)
    document.save(out)
    return out


def test_importing_the_2022_2025_document_gives_the_bundled_plan(tmp_path):
    if not PLAN_TEXT.exists():
        pytest.skip(f"{PLAN_TEXT} not present")
    out = tmp_path / "imported.toml"
    result = tapbot("plan", "import", PLAN_TEXT, "--out", out)
    assert "tap-2022-2025" in result.stdout and "44 indicators" in result.stdout
    imported, bundled = load_plan(out), load_plan()
    assert imported.id == bundled.id and imported.period == "2022-2025"
    assert imported.title == bundled.title
    for section in ("conventions", "outcomes", "outputs", "indicators"):
        assert list(getattr(imported, section)) == list(getattr(bundled, section)), section
    assert {c: o.objective for c, o in imported.conventions.items()} == \
        {c: o.objective for c, o in bundled.conventions.items()}
    assert {c: o.statement for c, o in imported.outcomes.items()} == \
        {c: o.statement for c, o in bundled.outcomes.items()}
    assert {c: o.text for c, o in imported.outputs.items()} == {c: o.text for c, o in bundled.outputs.items()}
    assert {c: i.text for c, i in imported.indicators.items()} == {c: i.text for c, i in bundled.indicators.items()}
    # Measures are proposals, marked for review; the wording makes most of them right.
    assert all(i.measure_to_review for i in imported.indicators.values())
    agree = sum((imported.indicators[c].measure, imported.indicators[c].product) == (i.measure, i.product)
                for c, i in bundled.indicators.items())
    assert agree >= 40, agree
    assert not any(i.keywords for i in imported.indicators.values())


@pytest.mark.parametrize("text, measure", [
    ("Number of Parties that have adopted national legislation", Measure.PARTIES),
    ("Number of countries reporting on time", Measure.PARTIES),
    ("Number of pilot projects on e-waste take-back", Measure.PILOT_PROJECTS),
    ("Number of customs officers trained on illegal traffic", Measure.PARTICIPANTS),
    ("Number of webinars held on the PIC procedure", Measure.TRAININGS),
    ("Number of regional centres hosting projects", Measure.REGIONAL_CENTRES),
    ("Case studies on alternatives to DDT are available", Measure.PRODUCTS),
    ("Guidance made available in six languages", Measure.LANGUAGES),
    ("Inventories of stockpiles are prepared in a number of Parties", Measure.PRODUCTS),
    ("Number of guidance documents translated", Measure.PRODUCTS),
    ("Number of national reports submitted on time", Measure.ACTIVITIES),
])
def test_measure_is_proposed_from_the_wording(text, measure):
    assert propose_counting(text).measure is measure


def test_a_synthetic_2026_2029_document_imports_as_text_and_docx(tmp_path):
    assert SYNTHETIC.read_text(encoding="utf-8").splitlines()[0].startswith("SYNTHETIC")
    from_text, from_docx = tmp_path / "from-text.toml", tmp_path / "from-docx.toml"
    tapbot("plan", "import", SYNTHETIC, "--out", from_text)
    tapbot("plan", "import", as_docx(SYNTHETIC, tmp_path / "tap-2026-2029.docx"), "--out", from_docx)
    assert tomllib.loads(from_text.read_text()) == tomllib.loads(from_docx.read_text())

    result = tapbot("plan", "validate", from_docx)
    assert "plan tap-2026-2029 (2026-2029) is valid" in result.stdout
    assert "still to review" in result.stdout
    plan = load_plan(from_docx)
    assert list(plan.outcomes) == ["BC1", "BC2", "BC3", "RC1", "RC2", "SC1", "SC2", "CC1", "CC2", "CC3"]
    assert plan.indicators["BC3.I2"].measure is Measure.PILOT_PROJECTS
    assert plan.indicators["SC2.I1"].measure is Measure.PARTICIPANTS
    assert plan.indicators["BC1.I2"].text == ("Number of training workshops for customs officers and port "
                                              "authorities on detecting illegal traffic")
    # The two plans load side by side: each holds its own years.
    plans = load_plans(["bundled", from_docx])
    assert [p.id for p in plans] == ["tap-2022-2025", "tap-2026-2029"]


def test_a_document_without_a_plan_is_refused_with_what_is_missing(tmp_path):
    notes = tmp_path / "minutes.txt"
    notes.write_text("Minutes of the bureau meeting\n\nThe bureau met for the period 2026–2029.\n")
    result = tapbot("plan", "import", notes, "--out", tmp_path / "x.toml", check=False)
    assert result.returncode == 1 and "no convention heading" in result.stderr
    assert not (tmp_path / "x.toml").exists()
    with pytest.raises(DocumentError, match="period"):
        import_plan(["A. Basel Convention", "1. Outcome: Something"])
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(DocumentError, match="not a readable .docx"):
        read_document(broken)


def test_numbering_as_the_document_has_it(tmp_path):
    lines = ["Plan for the period 2030–2033", "VI. Outcomes, outputs and indicators",
             "A. Minamata Convention", "1. Outcome: Mercury trade is controlled", "(a) Outputs",
             "- (1) Import consents are issued;", "(b) Indicators",
             "- (1) Number of Parties issuing written consents for mercury imports;",
             "- (2) Number of customs officers trained on mercury trade.", "VII. Resources"]
    plan = parse_plan(import_plan(lines))
    assert list(plan.conventions) == ["MC"] and list(plan.indicators) == ["MC1.I1", "MC1.I2"]
    assert plan.indicators["MC1.I2"].numeral == "2" and plan.indicators["MC1.I2"].output == "MC1.O1"
    assert plan.resolve("mc1.i2") == "MC1.I2" and plan.resolve("minamata 1") == "MC1"


def test_crosswalk_is_proposed_for_review_and_checked_on_load(tmp_path):
    new_file = tmp_path / "tap-2026-2029.toml"
    tapbot("plan", "import", SYNTHETIC, "--out", new_file)
    out = tmp_path / "crosswalk.toml"
    result = tapbot("plan", "crosswalk", "bundled", new_file, "--out", out)
    assert "Review it" in result.stdout
    plans = load_plans(["bundled", new_file], [out])
    crosswalk = plans.crosswalks[0]
    assert (crosswalk.old_plan, crosswalk.new_plan) == ("tap-2022-2025", "tap-2026-2029")
    # Indicators whose wording carries over find their successor.
    assert crosswalk.carry("SC2.I4") == ("SC2.I2",)  # case studies on BAT/BEP
    assert crosswalk.carry("CC1.I9") == ("CC3.I1",)  # gender, now an outcome of its own
    assert crosswalk.carry("RC2.I5") == ("RC2.I1",)  # pesticide incidents
    assert plans.successors("SC2.I4", plans.by_id["tap-2026-2029"]) == ("SC2.I2",)
    assert "# Old indicators without a successor" in out.read_text()

    bad = tmp_path / "bad.toml"
    bad.write_text('[crosswalk]\nfrom = "tap-2022-2025"\nto = "tap-2026-2029"\n\n'
                   '[[links]]\nold = "SC2.I4"\nnew = ["SC9.I9"]\n')
    with pytest.raises(PlanError, match="SC9.I9 is not an indicator of tap-2026-2029"):
        load_plans(["bundled", new_file], [bad])


def test_crosswalk_proposal_never_crosses_into_unrelated_text():
    plan = load_plan()
    crosswalk, scores = propose(plan, plan)
    # A plan against itself: every indicator is its own successor.
    assert all(crosswalk.carry(code)[0] == code for code in plan.indicators if code in crosswalk.links)
    assert len(crosswalk.links) == len(plan.indicators)
