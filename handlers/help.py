"""`help [command]` and `plan [code]`: how to use tapbot, and the plan itself."""
from __future__ import annotations

from handlers.log import LOG_EXAMPLE
from handlers.messages import Action, Field, Reply, ReplyKind, Table
from handlers.parse import ATTENDEE_EXAMPLE
from plan_data.loader import Plan

TOPICS = {
    "log": ("Log an activity in one message: what, where, when, how many, which indicator if you know it.",
            [LOG_EXAMPLE, "log webinar on PIC Circular for DNAs, 4 June 2024, online, 38 participants RC2.I4"]),
    "attendees": ("Add attendees to an activity, one per line: name; organisation; country; sex; role. "
                  "Or counts by country.", ATTENDEE_EXAMPLE.splitlines()),
    "status": ("Where a convention, outcome, indicator or country stands, by each indicator's measure.",
               ["status SC2", "status of Basel outcome 1", "status SC2.I5", "status Ghana", "status customs trainings"]),
    "gaps": ("The indicators with no activity yet, then those furthest behind: of the whole plan, a convention, "
             "an outcome, a country or a region, over a period if you name one.",
             ["gaps", "gaps Basel", "which indicators have no activity yet?", "what's missing for Africa in 2024?"]),
    "list": ("Recent activities: yours, or by country, convention, outcome, indicator or period.",
             ["list", "list mine", "list Ghana", "list Basel", "list SC2.I5", "list 2024", "list March 2024"]),
    "show": ("Everything about one activity.", ["show 12"]),
    "edit": ("Change fields of an activity you logged (admins: any).",
             ["edit 12 participants=40 women=18", "edit 12 dates=12-14 March 2024", "edit 12 countries=Ghana, Togo",
              "edit 12 status=cancelled"]),
    "delete": ("Delete an activity you logged; `undo` brings it back.", ["delete 12"]),
    "undo": ("Undo your last change, or your last change to one activity.", ["undo", "undo 12"]),
    "link": ("Count an activity toward an indicator.", ["link 12 BC1.I4", "link 12 SC2.I3 CC1.I3"]),
    "unlink": ("Stop counting an activity toward an indicator.", ["unlink 12 BC1.I4"]),
    "plan": ("Browse the plan: conventions, outcomes, outputs and indicators.", ["plan", "plan SC", "plan SC2", "plan SC2.I5"]),
    "digest": ("A digest of progress, posted to this conversation on a schedule.",
               ["digest weekly monday 09:00 Geneva", "digest list", "digest now", "digest off"]),
}


def run_help(topic: str) -> Reply:
    if topic in TOPICS:
        summary, examples = TOPICS[topic]
        return Reply(title=f"help · {topic}", lines=[summary, ""] + [f"`{e}`" for e in examples], kind=ReplyKind.HELP)
    lines = ["I keep track of the Technical Assistance Plan: log what you did, ask where things stand."]
    if topic:
        lines.insert(0, f"There is no command “{topic}”.")
    lines += [f"• *{name}* — {summary}" for name, (summary, _) in TOPICS.items()]
    lines += ["", "`help <command>` shows examples."]
    return Reply(title="tapbot · help", lines=lines, kind=ReplyKind.HELP,
                 actions=[Action("Log an activity", "log"), Action("Status of the plan", "plan")])


def usage_reply(message: str, example: str, topic: str) -> Reply:
    lines = [message]
    if example:
        lines += ["", "Try:"] + [f"`{line}`" for line in example.splitlines()]
    if topic in TOPICS:
        lines += ["", f"`help {topic}` for more."]
    return Reply(title="I didn't get that", lines=lines, kind=ReplyKind.ERROR)


def run_plan(plan: Plan, code: str) -> Reply:
    if not code:
        rows = [[o.code, o.statement] for o in plan.outcomes.values()]
        return Reply(title=plan.title, table=Table(["Outcome", "Statement"], rows),
                     context=["`plan SC2` for an outcome's outputs and indicators."])
    resolved = plan.resolve(code)
    if resolved is None:
        return usage_reply(f"“{code}” is not a code of the plan.", "plan\nplan BC\nplan SC2\nplan SC2.I5", "plan")
    if resolved in plan.conventions:
        convention = plan.conventions[resolved]
        rows = [[o.code, o.statement] for o in plan.outcomes.values() if o.convention == resolved]
        return Reply(title=f"{resolved} · {convention.name}", lines=[convention.objective],
                     table=Table(["Outcome", "Statement"], rows))
    if resolved in plan.outcomes:
        outcome = plan.outcomes[resolved]
        lines = ["*Outputs*"] + [f"{o.code} {o.text}" for o in plan.outputs.values() if o.outcome == resolved]
        lines += ["", "*Indicators*"] + [f"{i.code} {i.text}" for i in plan.indicators_of(resolved)]
        return Reply(title=f"{resolved} · {outcome.statement}", lines=lines,
                     actions=[Action(f"Status of {resolved}", f"status {resolved}")])
    item = plan.get(resolved)
    if resolved in plan.indicators:
        output = plan.outputs[item.output]
        return Reply(title=f"{resolved} · indicator", lines=[item.text],
                     fields=[Field("Counts", f"{item.unit} ({item.measure})"),
                             Field("Output", f"{output.code} {output.text}")],
                     actions=[Action(f"Status of {resolved}", f"status {resolved}")])
    return Reply(title=f"{resolved} · output", lines=[item.text])


def welcome_reply() -> Reply:
    """What the bot says when it is added to a conversation: three things to try."""
    return Reply(
        title="Hello! I'm tapbot",
        lines=["I keep track of the Technical Assistance Plan of the Basel, Rotterdam and Stockholm conventions. "
               "Three things to try:",
               "1. *log* a workshop, webinar or pilot project right after it happened: "
               "`log Regional workshop on e-waste ESM, Accra, Ghana, 12-14 March 2024, 35 participants (14 women)`",
               "2. ask where the plan stands: `status SC2`, `status Ghana`",
               "3. `help` for everything else"],
        actions=[Action("Log an activity", "log", "primary"), Action("Status of SC2", "status SC2"),
                 Action("Help", "help")],
    )
