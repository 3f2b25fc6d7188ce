"""The matcher learns from the team: what people link and unlink, through the database."""
import pytest

from handlers.context import Context
from handlers.dispatch import dispatch
from handlers.matcher import match_indicators, team_examples
from handlers.messages import Incoming, ReplyKind
from handlers.render import render_text
from storage.db import make_engine, make_session_factory

FIRST = "Lake Chad corridor mission with the corridor task force, Maroua, 4 June 2024"
SIMILAR = "2nd Lake Chad corridor task force mission, Kousseri, 9 Sept 2024"


def say(ctx: Context, channel: str, text: str, user: str = "amina"):
    reply = dispatch(Incoming(text=text, user_id=user, conversation_id=f"{channel}-room", channel=channel), ctx)
    reply.text = render_text(reply)
    return reply


@pytest.fixture
def second_process(engine, plan, ctx, request):
    """A Context on its own engine, as another web process would have (no memory shared)."""
    if engine.dialect.name == "postgresql":
        from tests.conftest import postgres_engine

        other = postgres_engine(request.getfixturevalue("postgres_schema_url"))
    else:
        other = make_engine(engine.url.render_as_string(hide_password=False))
    yield Context(sessions=make_session_factory(other), plan=plan, today=ctx.today)
    other.dispose()


def test_a_link_confirmed_in_slack_links_the_next_similar_log_in_teams(ctx, second_process):
    # Team words the plan does not know: before anyone links such a log, the bot must ask.
    asked = say(second_process, "teams", f"log {SIMILAR}", user="kofi")
    assert "Which indicator does it count toward?" in asked.text
    say(second_process, "teams", "undo", user="kofi")

    first = say(ctx, "slack", f"log {FIRST}")
    assert "Which indicator does it count toward?" in first.text
    assert say(ctx, "slack", "link 2 BC1.I3").kind is ReplyKind.DONE

    later = say(second_process, "teams", f"log {SIMILAR}", user="kofi")
    assert later.kind is ReplyKind.DONE
    assert "Indicators: BC1.I3 (suggested)" in later.text
    assert "like #2 that you linked to BC1.I3" in later.text


def test_unlink_is_evidence_against(ctx, chat):
    text = "Regional workshop on the ESM of used lead-acid batteries, Lusaka, Zambia, 3 May 2024"
    logged = chat(f"log {text}")
    assert "Indicators: BC2.I1 (suggested)" in logged.text
    assert "by the matching words" in logged.text
    before = {m.code: m.score for m in match_indicators(text, ctx.plan, limit=44)}

    chat("unlink 1 BC2.I1")
    chat("link 1 BC2.I3")
    with ctx.sessions() as session:
        examples = team_examples(session, ctx.plan)
    after = {m.code: m.score for m in match_indicators(text, ctx.plan, limit=44, examples=examples)}
    assert after["BC2.I1"] < before["BC2.I1"] and after["BC2.I3"] > before["BC2.I3"]

    # Undoing the unlink withdraws the evidence against.
    chat("undo")  # the link to BC2.I3
    chat("undo")  # the unlink
    with ctx.sessions() as session:
        examples = team_examples(session, ctx.plan)
    assert len(examples) == 0  # BC2.I1 is the matcher's own suggestion again: not an example


def test_examples_belong_to_their_plan(ctx, chat, plan):
    chat(f"log {FIRST}")
    chat("link 1 BC1.I3")
    other_plan = plan.model_copy(update={"info": plan.info.model_copy(update={"id": "another-plan"})})
    with ctx.sessions() as session:
        assert len(team_examples(session, plan)) == 1
        assert len(team_examples(session, other_plan)) == 0
        mine = match_indicators(SIMILAR, plan, examples=team_examples(session, plan))[0]
        theirs = match_indicators(SIMILAR, other_plan, examples=team_examples(session, other_plan))[0]
    assert mine.code == "BC1.I3" and mine.score > 30 and theirs.score == 0


def test_a_deleted_log_is_no_longer_an_example(ctx, chat):
    chat(f"log {FIRST}")
    chat("link 1 BC1.I3")
    with ctx.sessions() as session:
        assert len(team_examples(session, ctx.plan)) == 1
    chat("delete 1")
    with ctx.sessions() as session:
        assert len(team_examples(session, ctx.plan)) == 0
