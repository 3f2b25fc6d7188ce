"""Which plan a question is about: the one it names, the conversation's choice, or the current one.

`status SC2 in 2022-2025` names a plan; `plan use 2022-2025` makes one the conversation's
default (stored in the database, so every process answers the same); otherwise the plan
whose period holds today, else the latest.
"""
from __future__ import annotations

import re

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from handlers.context import Context
from handlers.messages import Incoming, Reply, ReplyKind
from plan_data.loader import Plan, Plans
from storage.activities import Actor, add_links, remove_links
from storage.conversations import choose_plan, chosen_plan
from storage.models import Activity, IndicatorLink

# "… in 2022-2025", "… under the 2026–2029 plan", "… for plan tap-2022-2025", "… en 2022-2025", "… du plan 2022-2025"
_NAMED = re.compile(r"\s+(?:in|under|for|of|en|dans|pour|de|del|du)\s+(?:the\s+|le\s+|el\s+)?(?:plan\s+)?"
                    r"(?P<name>[\w–—-]+?)(?:\s+plan)?\s*\??\s*$", re.I)


def split_plan(text: str, plans: Plans) -> tuple[Plan | None, str]:
    """The loaded plan a question names at its end, and the question without it."""
    m = _NAMED.search(text)
    if m:
        plan = plans.find(m.group("name"))
        if plan is not None:
            return plan, text[:m.start()].strip()
    plan = plans.find(text.strip())
    return (plan, "") if plan else (None, text)


def conversation_plan(session: Session, ctx: Context, incoming: Incoming) -> Plan:
    """The plan this conversation chose with `plan use` (while it is loaded), else the current plan."""
    if len(ctx.plans) > 1:
        chosen = chosen_plan(session, incoming.channel, incoming.conversation_id)
        if chosen in ctx.plans.by_id:
            return ctx.plans.by_id[chosen]
    return ctx.plan


def plans_line(plans: Plans, shown: Plan) -> str | None:
    """For replies about one plan when several are loaded: which others there are and how to ask."""
    others = [p for p in plans if p.id != shown.id]
    if not others:
        return None
    return (f"Plan {shown.period}. Also loaded: {', '.join(p.period for p in others)} — "
            f"ask `plan use {others[0].period}`, or add “in {others[0].period}” to a question.")


def run_plan_use(session: Session, ctx: Context, incoming: Incoming, name: str) -> Reply:
    loaded = ", ".join(f"{p.period} ({p.id})" for p in ctx.plans)
    if not name.strip():
        current = conversation_plan(session, ctx, incoming)
        return Reply(title=f"This conversation uses the plan {current.period}",
                     lines=[current.title, f"Loaded plans: {loaded}.", "Change with `plan use <period>`."],
                     kind=ReplyKind.INFO)
    plan = ctx.plans.find(name)
    if plan is None:
        return Reply(title=f"There is no loaded plan “{name.strip()[:40]}”",
                     lines=[f"Loaded plans: {loaded}.",
                            f"For example: `plan use {next(iter(ctx.plans)).period}`"], kind=ReplyKind.ERROR)
    choose_plan(session, incoming.channel, incoming.conversation_id, plan.id, incoming.user_id)
    return Reply(title=f"This conversation now uses the plan {plan.period}",
                 lines=[plan.title, "Questions here are answered in this plan unless they name another; "
                        "activities still count in the plan whose period holds their dates."],
                 kind=ReplyKind.DONE)


def carry_links(session: Session, plans: Plans, actor: Actor) -> list[tuple[int, list[str], list[str]]]:
    """Move the links of activities held in a plan's period that were made in another plan, along
    the crosswalks (e.g. logged in 2026 while only 2022-2025 was loaded). Audited, so `undo` works.

    Returns (activity id, old codes, new codes) per activity changed; a link without a
    successor in the crosswalk stays where it is.
    """
    changed = []
    activities = session.scalars(select(Activity).where(Activity.deleted_at.is_(None), exists().where(
        IndicatorLink.activity_id == Activity.id)).order_by(Activity.id))
    for activity in activities:
        carried, _ = carry_activity_links(session, plans, actor, activity)
        if carried:
            changed.append((activity.id, list(carried), list(dict.fromkeys(c for cs in carried.values() for c in cs))))
    return changed


def carry_activity_links(session: Session, plans: Plans, actor: Actor,
                         activity: Activity) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """Move one activity's links made in another plan than the one whose period holds its dates
    along the crosswalks. Returns {old code: new codes} carried, and the codes that stay
    where they are because no crosswalk gives them a successor."""
    held = activity.start_date or activity.end_date
    own = plans.holding(held) if held else None
    if own is None:
        return {}, []
    strays = [link for link in activity.links if link.plan_id != own.id and link.plan_id in plans.by_id]
    successors = {link.indicator_code: plans.successors(link.indicator_code, own) for link in strays}
    carried = {code: codes for code, codes in successors.items() if codes}
    stayed = [code for code, codes in successors.items() if not codes]
    if carried:
        new_codes = list(dict.fromkeys(c for codes in carried.values() for c in codes))
        add_links(session, actor, activity, own.id, [(own.indicators[c].outcome, c) for c in new_codes], "crosswalk")
        for plan_id in {link.plan_id for link in strays}:
            remove_links(session, actor, activity, plan_id,
                         [link.indicator_code for link in strays
                          if link.plan_id == plan_id and link.indicator_code in carried])
    return carried, stayed
