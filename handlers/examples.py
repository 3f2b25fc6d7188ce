"""Examples for help, hints, banners and form placeholders, drawn from the loaded plan.

No text a user sees names a plan code literally: it holds a token (``{outcome}``,
``{indicator}`` …) that ``with_examples`` fills from the plan in use, so a new plan's
help shows that plan's codes.
"""
from __future__ import annotations

from plan_data.loader import Plan

# Without a plan (a caller that has none at hand) the tokens read as what to type.
GENERIC = {"{convention}": "<convention>", "{convention_name}": "<convention name>", "{outcome}": "<outcome>",
           "{indicator}": "<indicator>", "{indicator2}": "<indicator>", "{output}": "<output>"}


def plan_examples(plan: Plan) -> dict[str, str]:
    """Codes to show in examples: the outcome with the most indicators, its first indicator, and so on."""
    return plan.derived("examples", _build)


def _build(plan: Plan) -> dict[str, str]:
    outcome = max(plan.outcomes.values(), key=lambda o: len(plan.indicators_of(o.code)))
    convention = plan.conventions[outcome.convention]
    indicators = plan.indicators_of(outcome.code)
    other = next((i for i in plan.indicators.values() if i.outcome != outcome.code), indicators[-1])
    output = next(o for o in plan.outputs.values() if o.outcome == outcome.code)
    return {"{convention}": convention.code, "{convention_name}": convention.name.split()[0],
            "{outcome}": outcome.code, "{indicator}": indicators[0].code, "{indicator2}": other.code,
            "{output}": output.code}


def with_examples(text: str, plan: Plan | None) -> str:
    """``text`` with its example tokens filled from ``plan`` (placeholders when there is none)."""
    if "{" not in text:
        return text
    for token, value in (plan_examples(plan) if plan is not None else GENERIC).items():
        text = text.replace(token, value)
    return text
