"""A crosswalk between two plans: each old indicator code → the new plan's codes that continue it.

A crosswalk is a data file (``crosswalks/*.toml``) that a person reviewed::

    [crosswalk]
    from = "tap-2022-2025"
    to = "tap-2026-2029"

    [[links]]
    old = "BC1.I4"
    new = ["BC1.I2"]
    score = 71.0  # text similarity when proposed; for the reviewer

`tapbot plan crosswalk OLD NEW --out FILE` proposes one from the indicators' texts. An
activity of the new period logged or linked with an old code gets the new codes.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from rapidfuzz import fuzz

from plan_data.loader import Plan, PlanError

CROSSWALKS_DIR = Path(__file__).with_name("crosswalks")
# Below this similarity an old indicator is left without successor: a person adds one if it has.
MIN_SIMILARITY = 55.0
# A successor under the same convention is the likelier one.
SAME_CONVENTION_BONUS = 5.0
# Words every indicator uses: they say nothing about which one continues which.
GENERIC = set("a an the of on in to for and or by with that have has are is be been their its as at from under "
              "number parties party national implementation implement implemented implementing activities "
              "support supported".split())
# New indicators this close to the best one are proposed as well (an old indicator split in two).
ALSO_WITHIN = 3.0


@dataclass(frozen=True)
class Crosswalk:
    old_plan: str
    new_plan: str
    links: dict[str, tuple[str, ...]]  # old indicator code → new indicator codes

    def carry(self, code: str) -> tuple[str, ...]:
        return self.links.get(code.upper(), ())


def propose(old: Plan, new: Plan) -> tuple[Crosswalk, dict[str, float]]:
    """A crosswalk from text similarity (for review), and each old code's best score."""
    links: dict[str, tuple[str, ...]] = {}
    scores: dict[str, float] = {}
    new_texts = {code: _words(new, code) for code in new.indicators}
    for code in old.indicators:
        text, convention = _words(old, code), old.convention_of(code)
        ranked = sorted(((fuzz.token_set_ratio(text, other)
                          + (SAME_CONVENTION_BONUS if new.convention_of(other_code) == convention else 0), other_code)
                         for other_code, other in new_texts.items()), reverse=True)
        best = ranked[0][0] if ranked else 0.0
        if best < MIN_SIMILARITY:
            continue
        links[code] = tuple(c for score, c in ranked if score >= best - ALSO_WITHIN)
        scores[code] = round(min(best, 100.0), 1)
    return Crosswalk(old.id, new.id, links), scores


def _words(plan: Plan, code: str) -> str:
    indicator = plan.indicators[code]
    words = re.findall(r"[a-z]+", f"{indicator.text} {plan.outputs[indicator.output].text}".lower())
    return " ".join(w for w in words if w not in GENERIC)


def propose_file(old: Plan, new: Plan, out: Path | str) -> Crosswalk:
    crosswalk, scores = propose(old, new)
    data = {"crosswalk": {"from": old.id, "to": new.id},
            "links": [{"old": code, "new": list(codes), "score": scores[code]}
                      for code, codes in crosswalk.links.items()]}
    unmatched = [code for code in old.indicators if code not in crosswalk.links]
    header = (f"# Crosswalk proposed by `tapbot plan crosswalk` from text similarity: review every line.\n"
              f"# Old indicators without a successor: {', '.join(unmatched) or 'none'}.\n\n")
    Path(out).write_text(header + tomli_w.dumps(data), encoding="utf-8")
    return crosswalk


def load_crosswalk(path: Path | str, plans: dict[str, Plan] | None = None) -> Crosswalk:
    """Read a crosswalk file; with the loaded plans, every code is checked against its plan."""
    try:
        with Path(path).open("rb") as f:
            data = tomllib.load(f)
        head = data["crosswalk"]
        crosswalk = Crosswalk(str(head["from"]), str(head["to"]),
                              {str(link["old"]).upper(): tuple(str(c).upper() for c in link["new"])
                               for link in data.get("links", [])})
    except OSError as error:
        raise PlanError(f"{path}: cannot read ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise PlanError(f"{path}: not a crosswalk file ({type(error).__name__}: {error})") from None
    if plans and crosswalk.old_plan in plans and crosswalk.new_plan in plans:
        old, new = plans[crosswalk.old_plan], plans[crosswalk.new_plan]
        for code, codes in crosswalk.links.items():
            if code not in old.indicators:
                raise PlanError(f"{path}: {code} is not an indicator of {old.id}")
            for target in codes:
                if target not in new.indicators:
                    raise PlanError(f"{path}: {code} → {target}: {target} is not an indicator of {new.id}")
    return crosswalk


def bundled_crosswalks() -> list[Path]:
    return sorted(CROSSWALKS_DIR.glob("*.toml"))
