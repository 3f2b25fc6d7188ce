"""The `tapbot` command line, run as a user runs it: a real process, real files, real databases."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POSTGRES_URL

TAPBOT = [sys.executable, "-m", "bot.cli"]
ROOT = Path(__file__).resolve().parents[1]

SESSION = """\
log Regional workshop on PCB ESM, Accra, Ghana, 12-14 March 2024, in person, 35 participants (14 women) from Ghana, Togo and Benin SC2.I3
log GMP training on POPs sampling, Nairobi, Kenya, 2-4 April 2024, 12 experts (5 women) SC2.I5
log National workshop on hazardous waste legislation, Accra, Ghana, 5 Oct 2023, 20 participants (9 women) BC1.I2
attendees 3 4 from Nigeria, 2 from Togo
status SC2
status of Basel outcome 1
status Ghana
frobnicate
"""  # noqa: E501 (chat lines as a user types them)


def run(args, database_url, stdin=None, check=True):
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(TAPBOT + args, input=stdin, capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    schema = request.getfixturevalue("postgres_schema_url")
    # A schema of its own per test, named through libpq's options.
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    name = f"{schema}_{request.node.name.split('[')[0][-20:]}".lower()
    engine = create_engine(normalise_url(POSTGRES_URL))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{name}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


def test_scripted_chat_session(database_url):
    out = run(["chat", "--user", "amina"], database_url, stdin=SESSION).stdout
    replies = out.strip().split("\n\n")
    assert replies[0].startswith("Logged #1 · Regional workshop on PCB ESM")
    assert replies[3].startswith("Added 6 attendees to #3")
    assert "SC2.I3" in replies[4] and "3 Parties" in replies[4] and "12 experts trained" in out
    assert replies[5].startswith("BC1 · ") and "3 Parties" in replies[5]
    assert "Ghana · what it took part in" in out and "Participants in them: 55" in out
    assert "I can answer questions about the plan" in out and "“frobnicate” does not name" in out
    assert "Traceback" not in out
    # The same database, a new process: nothing was lost.
    status = json.loads(run(["status", "--json", "SC2"], database_url).stdout)
    by_code = {row["code"]: row for row in status["indicators"]}
    assert by_code["SC2.I3"]["value"] == 3 and by_code["SC2.I3"]["countries"] == ["BJ", "GH", "TG"]
    assert by_code["SC2.I5"]["value"] == 12 and by_code["SC2.I5"]["measure"] == "participants"
    ghana = json.loads(run(["status", "--json", "Ghana"], database_url).stdout)
    assert ghana["target"] == "GH" and ghana["activities"] == 2
    # The same targets as a question, and a period: the 2023 workshop in Accra only.
    africa = json.loads(run(["status", "--json", "--from", "2023-01-01", "--to", "2023-12-31", "region:AFR"],
                            database_url).stdout)
    assert (africa["kind"], africa["activities"], africa["participants"]) == ("region", 1, 20)
    assert africa["period"] == {"from": "2023-01-01", "to": "2023-12-31"}
    until = run(["status", "--to", "2023-12-31", "Ghana"], database_url).stdout  # an end alone
    assert "until 2023-12-31" in until and "Participants in them: 20" in until and "Traceback" not in until
    whole = json.loads(run(["status", "--json", "PLAN"], database_url).stdout)
    assert (whole["activities"], whole["participants"], whole["women"]) == (3, 67, 28)


def test_export_csv_and_xlsx(database_url, tmp_path):
    run(["chat", "--user", "amina"], database_url, stdin=SESSION)
    out = run(["export", "--format", "csv", "--out", str(tmp_path / "tap.csv")], database_url).stdout
    assert "tap-activities.csv" in out and "tap-indicators.csv" in out
    with open(tmp_path / "tap-activities.csv", newline="") as handle:
        activities = list(csv.DictReader(handle))
    assert [a["id"] for a in activities] == ["1", "2", "3"] and activities[0]["countries"] == "GH TG BJ"
    with open(tmp_path / "tap-indicators.csv", newline="") as handle:
        indicators = {row["indicator"]: row for row in csv.DictReader(handle)}
    assert len(indicators) == 44 and indicators["SC2.I3"]["value"] == "3"
    run(["export", "--format", "xlsx", "--out", str(tmp_path / "tap.xlsx")], database_url)
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "tap.xlsx")
    assert book.sheetnames == ["Indicators", "Activities"] and book["Activities"].max_row == 4


def test_match_json(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    ranked = json.loads(run(["match", "--json", "customs training on illegal traffic of plastic waste"], db).stdout)
    assert len(ranked) >= 5 and set(ranked[0]) == {"code", "score", "text"}
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    lines = run(["match", "--json", "-"], db, stdin="PCB inventory\nNIP update training\n").stdout.splitlines()
    assert len(lines) == 2 and all(json.loads(line)[0]["code"] for line in lines)


def test_parse_json(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    data = json.loads(run(["parse", "--json", "log Regional workshop on e-waste ESM, Accra, Ghana, 12-14 March 2024, "
                                              "35 participants (14 women) from 9 countries"], db).stdout)
    assert data["command"] == "log" and data["countries"] == ["GH"]
    assert (data["start_date"], data["end_date"]) == ("2024-03-12", "2024-03-14")
    assert (data["participants"], data["women"]) == (35, 14)
    assert data["kind"] == "workshop" and isinstance(data["indicators"], list)
    assert (data["products"], data["product_kind"], data["centre"], data["host"]) == (None, None, None, None)
    made = json.loads(run(["parse", "--json", "log Webinar hosted from Geneva, Switzerland, organised by BCRC-Senegal, "
                                              "4 June 2024, online, participants from Ghana, 2 case studies published"],
                          db).stdout)
    assert (made["products"], made["product_kind"], made["host"]) == (2, "case_study", "CH")
    assert made["centre"] and made["plan"] == "tap-2022-2025"
    assert json.loads(run(["parse", "--json", "status of Stockholm outcome 2"], db).stdout) == {
        "command": "status", "target": "SC2", "kind": "outcome", "period": None}
    # A period is relative to today; a year named outright is not.
    assert json.loads(run(["parse", "--json", "¿cómo va el Convenio de Basilea en 2023?"], db).stdout) == {
        "command": "status", "target": "BC", "kind": "convention", "period": {"from": "2023-01-01", "to": "2023-12-31"}}
    gaps = json.loads(run(["parse", "--json", "which indicators have no activity yet?"], db).stdout)
    assert gaps["command"] == "gaps"
    lines = run(["parse", "--json", "-"], db, stdin="status Ghana\nstatus BC\n").stdout.splitlines()
    assert [json.loads(line)["target"] for line in lines] == ["GH", "BC"]
    assert not (tmp_path / "x.db").exists()  # parse changes nothing, not even creates the database


def test_plan_show_json_lists_the_whole_plan(tmp_path):
    plan = json.loads(run(["plan", "show", "--json"], f"sqlite:///{tmp_path / 'x.db'}").stdout)
    outcomes = plan["outcomes"]
    assert [o["code"] for o in outcomes] == ["BC1", "BC2", "RC1", "RC2", "SC1", "SC2", "CC1", "CC2"]
    assert sum(len(o["outputs"]) for o in outcomes) == 44 and sum(len(o["indicators"]) for o in outcomes) == 44
    sc2 = next(o for o in outcomes if o["code"] == "SC2")
    assert sc2["indicators"][4] == {
        "code": "SC2.I5", "output": "SC2.O5", "measure": "participants", "unit": "experts trained",
        "text": "Number of regional experts involved in monitoring of POPs in sampling, laboratory analysis, "
                "data processing and data evaluation trained"}
    one = json.loads(run(["plan", "show", "SC2", "--json"], f"sqlite:///{tmp_path / 'x.db'}").stdout)
    assert [o["code"] for o in one["outcomes"]] == ["SC2"]


def test_plan_validate(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    good = ROOT / "plan_data" / "tap-2022-2025.toml"
    assert "44 indicators" in run(["plan", "validate", str(good)], db).stdout
    broken = tmp_path / "broken.toml"
    broken.write_text(good.read_text().replace('output = "BC1.O5"', 'output = "BC1.O9"', 1))
    result = run(["plan", "validate", str(broken)], db, check=False)
    assert result.returncode == 1 and "BC1.I5" in result.stderr and "BC1.O9" in result.stderr


def test_db_upgrade_and_a_second_plan_file(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert "up to date" in run(["db", "upgrade"], db).stdout
    # A new plan is a new data file, chosen by configuration, not new code.
    other = tmp_path / "tap-2026-2029.toml"
    other.write_text((ROOT / "plan_data" / "tap-2022-2025.toml").read_text()
                     .replace('id = "tap-2022-2025"', 'id = "tap-2026-2029"'))
    env = {**os.environ, "DATABASE_URL": db, "TAPBOT_PLAN": str(other)}
    out = subprocess.run(TAPBOT + ["plan", "show", "--json"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert json.loads(out.stdout)["plan"] == "tap-2026-2029"


def test_serve_refuses_a_token_without_signing_secret(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_BOT_TOKEN": "xoxb-1"}
    env.pop("SLACK_SIGNING_SECRET", None)
    result = subprocess.run(TAPBOT + ["serve", "--port", "0"], capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 2 and "SLACK_SIGNING_SECRET" in result.stderr


def test_export_keeps_formulas_as_text(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    run(["chat", "--user", "amina"], db, stdin="log =HYPERLINK(\"http://x\") workshop, Accra, Ghana, 3 May 2024\n")
    run(["export", "--format", "xlsx", "--out", str(tmp_path / "tap.xlsx")], db)
    from openpyxl import load_workbook

    cell = load_workbook(tmp_path / "tap.xlsx")["Activities"]["B2"]
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_match_json_uses_the_teams_confirmed_links(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    team_words = "Lake Chad corridor task force mission, Kousseri"
    before = json.loads(run(["match", "--json", team_words], db).stdout)
    assert before[0]["score"] == 0  # nothing in the plan's words
    run(["chat", "--user", "amina"], db,
        stdin="log Lake Chad corridor mission with the corridor task force, Maroua, 4 June 2024\nlink 1 BC1.I3\n")
    after = json.loads(run(["match", "--json", team_words], db).stdout)
    assert after[0]["code"] == "BC1.I3" and after[0]["score"] > 30
