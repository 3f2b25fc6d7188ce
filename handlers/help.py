"""`help [command]` and `plan [code]`: how to use tapbot, and the plan itself."""
from __future__ import annotations

from handlers.examples import with_examples
from handlers.log import LOG_EXAMPLE
from handlers.messages import Action, Field, Reply, ReplyKind, Table
from handlers.parse import ATTENDEE_EXAMPLE
from handlers.plans import plans_line
from plan_data.loader import Plan, Plans

TOPICS = {
    "log": ("Log an activity in one message: what, where, when, how many, which indicator if you know it.",
            [LOG_EXAMPLE, "log webinar on PIC Circular for DNAs, 4 June 2024, online, 38 participants {indicator2}"]),
    "attendees": ("Add attendees to an activity, one per line: name; organisation; country; sex; role. "
                  "Or counts by country.", ATTENDEE_EXAMPLE.splitlines()),
    "status": ("Where a convention, outcome, indicator or country stands, by each indicator's measure.",
               ["status {outcome}", "status of {convention_name} outcome 1", "status {indicator}", "status Ghana",
                "status customs trainings", "status {outcome} in <plan period>"]),
    "gaps": ("The indicators with no activity yet, then those furthest behind: of the whole plan, a convention, "
             "an outcome, a country or a region, over a period if you name one.",
             ["gaps", "gaps {convention_name}", "which indicators have no activity yet?",
              "what's missing for Africa in 2024?"]),
    "list": ("Recent activities: yours, or by country, convention, outcome, indicator or period.",
             ["list", "list mine", "list Ghana", "list {convention_name}", "list {indicator}", "list 2024",
              "list March 2024", "list outside plans"]),
    "show": ("Everything about one activity.", ["show 12"]),
    "edit": ("Change fields of an activity you logged (admins: any).",
             ["edit 12 participants=40 women=18", "edit 12 dates=12-14 March 2024", "edit 12 countries=Ghana, Togo",
              "edit 12 status=cancelled"]),
    "delete": ("Delete an activity you logged; `undo` brings it back.", ["delete 12"]),
    "undo": ("Undo your last change, or your last change to one activity.", ["undo", "undo 12"]),
    "link": ("Count an activity toward an indicator.", ["link 12 {indicator}", "link 12 {indicator} {indicator2}"]),
    "unlink": ("Stop counting an activity toward an indicator.", ["unlink 12 {indicator}"]),
    "plan": ("Browse the plan: conventions, outcomes, outputs and indicators; choose the plan this conversation "
             "uses when several are loaded.",
             ["plan", "plan {convention}", "plan {outcome}", "plan {indicator}", "plan use <plan period>"]),
    "digest": ("A digest of progress, posted to this conversation on a schedule.",
               ["digest weekly monday 09:00 Geneva", "digest list", "digest now", "digest off"]),
}


def run_help(topic: str, plan: Plan | None = None) -> Reply:
    if topic in TOPICS:
        summary, examples = TOPICS[topic]
        return Reply(title=f"help · {topic}", lines=[summary, ""] + [f"`{with_examples(e, plan)}`" for e in examples],
                     kind=ReplyKind.HELP)
    lines = ["I keep track of the Technical Assistance Plan: log what you did, ask where things stand."]
    if topic:
        lines.insert(0, f"There is no command “{topic}”.")
    lines += [f"• *{name}* — {summary}" for name, (summary, _) in TOPICS.items()]
    lines += ["", "`help <command>` shows examples."]
    return Reply(title="tapbot · help", lines=lines, kind=ReplyKind.HELP,
                 actions=[Action("Log an activity", "log"), Action("Status of the plan", "plan")])


def usage_reply(message: str, example: str, topic: str, plan: Plan | None = None) -> Reply:
    lines = [with_examples(message, plan)]
    if example:
        lines += ["", "Try:"] + [f"`{with_examples(line, plan)}`" for line in example.splitlines()]
    if topic in TOPICS:
        lines += ["", f"`help {topic}` for more."]
    return Reply(title="I didn't get that", lines=lines, kind=ReplyKind.ERROR)


def run_plan(plan: Plan, code: str, plans: Plans | None = None) -> Reply:
    if not code:
        rows = [[o.code, o.statement] for o in plan.outcomes.values()]
        others = plans_line(plans, plan) if plans else None
        return Reply(title=plan.title, table=Table(["Outcome", "Statement"], rows),
                     context=[with_examples("`plan {outcome}` for an outcome's outputs and indicators.", plan)]
                     + ([others] if others else []))
    resolved = plan.resolve(code)
    if resolved is None:
        return usage_reply(f"“{code}” is not a code of the plan {plan.period}.",
                           "plan\nplan {convention}\nplan {outcome}\nplan {indicator}", "plan", plan)
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
    if resolved in plan.indicators:
        item = plan.indicators[resolved]
        output = plan.outputs[item.output]
        return Reply(title=f"{resolved} · indicator", lines=[item.text],
                     fields=[Field("Counts", f"{item.unit} ({item.measure_name or item.measure}"
                                             + (f", counted as {item.measure})" if item.measure_name else ")")),
                             Field("Output", f"{output.code} {output.text}")],
                     actions=[Action(f"Status of {resolved}", f"status {resolved}")])
    return Reply(title=f"{resolved} · output", lines=[plan.outputs[resolved].text])


def welcome_reply(plan: Plan | None = None) -> Reply:
    """What the bot says when it is added to a conversation: three things to try."""
    outcome = with_examples("{outcome}", plan)
    return Reply(
        title="Hello! I'm tapbot",
        lines=["I keep track of the Technical Assistance Plan of the Basel, Rotterdam and Stockholm conventions. "
               "Three things to try:",
               "1. *log* a workshop, webinar or pilot project right after it happened: "
               "`log Regional workshop on e-waste ESM, Accra, Ghana, 12-14 March 2024, 35 participants (14 women)`",
               f"2. ask where the plan stands: `status {outcome}`, `status Ghana`",
               "3. `help` for everything else"],
        actions=[Action("Log an activity", "log", "primary"), Action(f"Status of {outcome}", f"status {outcome}"),
                 Action("Help", "help")],
    )


def files_reply() -> Reply:
    """The answer to a shared file: what tapbot can and cannot do with it yet."""
    return Reply(title="I can't read files yet", lines=[
        "I only read what you type. To log an activity, write it in a message, e.g. "
        f"`{LOG_EXAMPLE}`; then add its attendees with `attendees <number> add …` (see `help attendees`).",
        "Keep the file (attendance sheet, report) where your team keeps documents; it is not stored here.",
    ], kind=ReplyKind.HELP)
