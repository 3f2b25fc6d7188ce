"""No plan code is written into what users see: examples come from the loaded plan."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from handlers.examples import plan_examples, with_examples
from handlers.help import TOPICS, run_help, welcome_reply
from plan_data.importer import import_plan, read_document

ROOT = Path(__file__).resolve().parents[1]
# Modules whose strings reach users: help, hints, banners, cards, placeholders, replies.
USER_FACING = ["handlers/help.py", "handlers/log.py", "handlers/parse.py", "handlers/status.py", "handlers/digest.py",
               "handlers/digest_content.py", "handlers/forms.py", "handlers/activities.py", "handlers/plans.py",
               "bot/console.py", "bot/slack.py", "bot/slack_blocks.py", "bot/teams.py", "bot/teams_cards.py",
               "bot/teams_package.py"]
# A convention, outcome, output or indicator code: BC, SC2, BC1.O4, CC1.I10 — as a word of its own.
CODE_SHAPED = re.compile(r"(?<![\w{])(?:[A-Z]{2}\d{1,2}(?:\.[IO]\d{1,2})?)(?![\w}])")


def _strings(path: Path):
    """Every string literal of a module except docstrings, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


@pytest.mark.parametrize("module", USER_FACING)
def test_no_code_shaped_literal_in_user_facing_text(module):
    found = [f"{module}:{line}: {CODE_SHAPED.findall(text)}" for line, text in _strings(ROOT / module)
             if CODE_SHAPED.search(text)]
    assert not found, found


def test_the_pattern_finds_codes():
    assert CODE_SHAPED.findall("status SC2 · link 12 BC1.I4 · plan CC1.I10 · {outcome}") == ["SC2", "BC1.I4", "CC1.I10"]
    assert not CODE_SHAPED.findall("GEF5558, SDG 12.4.2, ISO 3166, 14 women")


def test_help_shows_the_loaded_plans_codes(plan):
    synthetic = Path(__file__).with_name("data") / "tap-2026-2029-synthetic.txt"
    from plan_data.loader import parse_plan

    new = parse_plan(import_plan(read_document(synthetic)))
    for some_plan in (plan, new):
        examples = plan_examples(some_plan)
        for code in (examples["{outcome}"], examples["{indicator}"], examples["{indicator2}"]):
            assert some_plan.get(code) is not None
        text = "\n".join(run_help(topic, some_plan).lines[2:][0] for topic in TOPICS)
        assert "{" not in text
        link_help = "\n".join(run_help("link", some_plan).lines)
        assert examples["{indicator}"] in link_help
        welcome = welcome_reply(some_plan)
        assert any(a.command == f"status {examples['{outcome}']}" for a in welcome.actions)
    assert plan_examples(new)["{outcome}"] != plan_examples(plan)["{outcome}"] or \
        plan_examples(new)["{indicator}"] != plan_examples(plan)["{indicator}"]
    assert with_examples("status {outcome}", None) == "status <outcome>"


def test_help_through_chat_names_codes_of_the_plan(chat, plan):
    text = chat("help link").text
    assert f"link 12 {plan_examples(plan)['{indicator}']}" in text and "{" not in text
    assert "{" not in chat("status").text and "{" not in chat("link 12").text
