"""The plan as validated data: schema, loader and resolution of plan references.

A plan is one TOML file (see ``tap-2022-2025.toml``). A new plan period is a new
file passed to ``load_plan``; nothing here is specific to 2022-2025. Several plans run
side by side as ``Plans`` (``load_plans``), each activity in the plan whose period
holds its dates.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, StringConstraints, ValidationError

DEFAULT_PLAN_PATH = Path(__file__).with_name("tap-2022-2025.toml")
BUNDLED = "bundled"  # in TAPBOT_PLANS: the plan shipped with tapbot

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class PlanError(ValueError):
    """A plan file that cannot be used; the message names the item that is wrong."""


class Measure(StrEnum):
    """How an indicator's figure is computed from the activities linked to it."""

    PARTIES = "parties"  # distinct countries reached
    ACTIVITIES = "activities"  # count of activities
    PILOT_PROJECTS = "pilot_projects"  # count of activities of kind pilot_project
    TRAININGS = "trainings"  # count of workshops, trainings, webinars, online courses
    PARTICIPANTS = "participants"  # sum of participants
    PRODUCTS = "products"  # sum of the products (of the indicator's `product` kind) recorded with activities
    LANGUAGES = "languages"  # distinct languages
    REGIONAL_CENTRES = "regional_centres"  # distinct regional centres (plan_data/centres.toml)


_ROMAN = [(10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
_ROMAN_RE = re.compile(r"^x{0,3}(ix|iv|v?i{0,3})$")


def from_roman(s: str) -> int | None:
    """The number a roman numeral of 1..39 stands for, as the plan numbers its items; None
    when ``s`` is not one written the usual way ("iiii")."""
    s = s.strip().lower()
    if not s or not _ROMAN_RE.match(s):
        return None
    total = 0
    for value, letters in _ROMAN:
        while s.startswith(letters):
            total, s = total + value, s[len(letters):]
    return total


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanInfo(_Item):
    id: Text
    title: Text
    start_year: int
    end_year: int


class MeasureDeclaration(_Item):
    """A measure a plan names itself, counted by one of the existing rules."""

    counts_as: Measure
    description: Text | None = None


class Convention(_Item):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,5}$")]
    name: Text
    objective: Text
    aliases: list[Text] = []


class Outcome(_Item):
    code: Text
    convention: Text
    statement: Text
    aliases: list[Text] = []


class Output(_Item):
    code: Text
    outcome: Text
    numeral: Text
    text: Text


class Indicator(_Item):
    code: Text
    outcome: Text
    numeral: Text
    output: Text
    pairing: Annotated[str, StringConstraints(pattern=r"^(direct|loose)$")] = "direct"
    text: Text
    measure: Measure  # the counting rule (a declared measure is resolved to its rule on load)
    measure_name: Text | None = None  # the plan's own measure name, when it declared one
    unit: Text
    keywords: list[Text] = []
    # Set by `tapbot plan import`: the measure was proposed from the wording and awaits a person's check.
    measure_to_review: bool = False
    # Which kinds of activity meet the measure (empty: every kind), and the product an activity
    # must record to count (handlers/counted.py PRODUCT_WORDS): what the indicator's words name.
    kinds: list[Text] = []
    product: Text | None = None


PlanItem = Convention | Outcome | Output | Indicator


class Plan(BaseModel):
    """A validated plan. Item dicts are keyed by upper-case code, in plan order."""

    model_config = ConfigDict(frozen=True)

    info: PlanInfo
    conventions: dict[str, Convention]
    outcomes: dict[str, Outcome]
    outputs: dict[str, Output]
    indicators: dict[str, Indicator]
    # Indexes derived from the plan by other modules (e.g. the matcher's), built once per plan.
    _derived: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def title(self) -> str:
        return self.info.title

    @property
    def period(self) -> str:
        """How people name the plan: ``2022-2025``."""
        return f"{self.info.start_year}-{self.info.end_year}"

    def holds(self, day: date) -> bool:
        return self.info.start_year <= day.year <= self.info.end_year

    @property
    def start(self) -> date:
        """The first day of the plan's period: activities count toward it from this day."""
        return date(self.info.start_year, 1, 1)

    @property
    def end(self) -> date:
        """The last day of the plan's period."""
        return date(self.info.end_year, 12, 31)

    def derived(self, key: str, build):
        """Per-plan cache: ``build(plan)`` runs once per key for this plan object."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]

    def get(self, code: str) -> PlanItem | None:
        code = code.strip().upper()
        for items in (self.conventions, self.outcomes, self.outputs, self.indicators):
            if code in items:
                return items[code]
        return None

    def convention_of(self, code: str) -> str | None:
        """Convention code of any item code (``SC2.I5`` -> ``SC``)."""
        item = self.get(code)
        if item is None:
            return None
        if isinstance(item, Convention):
            return item.code
        outcome = item.code if isinstance(item, Outcome) else item.outcome
        return self.outcomes[outcome].convention

    def indicators_of(self, code: str) -> list[Indicator]:
        """Indicators under a convention or outcome code (one indicator for its own code)."""
        code = code.strip().upper()
        if code in self.conventions:
            return [i for i in self.indicators.values() if self.outcomes[i.outcome].convention == code]
        if code in self.outcomes:
            return [i for i in self.indicators.values() if i.outcome == code]
        if code in self.indicators:
            return [self.indicators[code]]
        return []

    def resolve(self, text: str) -> str | None:
        """The item code that ``text`` names as a structured reference, else None.

        Accepts codes (``sc2.i5``, ``BC1.O4``, ``cc1``, ``bc``), convention names
        (``Basel Convention``), and natural forms: ``stockholm outcome 2``,
        ``outcome 2 of stockholm``, ``basel 1 (iv)``, ``basel outcome 1 indicator iv``,
        ``indicator iv of basel 1``, ``cross-cutting 2``. Free text gives None.
        """
        return _resolve(self, _normalise_ref(text))


def _normalise_ref(text: str) -> str:
    text = text.strip().lower().rstrip("?!.:;,")
    return re.sub(r"\s+", " ", text).strip()


_CODE_RE = re.compile(r"^([a-z]{2,5})(\d+)?(?:\.([io])(\d+))?$")
_KIND = r"(?P<kind>indicator|ind|output|out)"
_NUM = r"(?:\(\s*(?P<pnum>[ivx]+|\d+)\s*\)|(?P<num>[ivx]+))"
_NUM_AFTER_KIND = r"(?:\(\s*(?P<pnum>[ivx]+|\d+)\s*\)|(?P<num>[ivx]+|\d+))"


def _convention_names(plan: Plan) -> dict[str, str]:
    names: dict[str, str] = {}
    for conv in plan.conventions.values():
        for name in (conv.code, conv.name, *conv.aliases):
            names[_normalise_ref(name)] = conv.code
            names[_normalise_ref(name.replace("-", " "))] = conv.code
    return names


def _ref_patterns(plan: Plan) -> list[re.Pattern]:
    names = sorted(_convention_names(plan), key=len, reverse=True)
    conv = r"(?:the )?(?P<conv>" + "|".join(re.escape(n) for n in names) + r")(?: convention)?"
    outcome = rf"{conv}(?: outcome)? ?(?P<n>\d+)"
    return [
        re.compile(rf"^{outcome}$"),
        re.compile(rf"^outcome (?P<n>\d+) (?:of|under) {conv}$"),
        re.compile(rf"^{outcome} ?{_NUM}$"),
        re.compile(rf"^{outcome} ?{_KIND} ?{_NUM_AFTER_KIND}$"),
    ]


def _resolve(plan: Plan, text: str) -> str | None:
    if not text:
        return None
    m = _CODE_RE.match(text)
    if m:
        conv, n, kind, k = m.groups()
        code = conv.upper() + (n or "") + (f".{kind.upper()}{k}" if kind else "")
        if plan.get(code) or n:
            return code if plan.get(code) else None
        # Letters alone may be a name ("basel") rather than a convention code: read on.
    names = plan.derived("resolve.names", _convention_names)
    if text in names:
        return names[text]
    # "indicator iv of basel 1": resolve the outcome part, then add the item.
    m = re.match(rf"^{_KIND} {_NUM_AFTER_KIND} (?:of|under) (?P<rest>.+)$", text)
    if m:
        outcome = _resolve(plan, m.group("rest"))
        return _item_code(plan, outcome, m.group("kind"), m.group("pnum") or m.group("num"))
    for pattern in plan.derived("resolve.patterns", _ref_patterns):
        m = pattern.match(text)
        if not m:
            continue
        outcome = names[m.group("conv")] + m.group("n")
        groups = m.groupdict()
        number = groups.get("pnum") or groups.get("num")
        if number is None:
            return outcome if outcome in plan.outcomes else None
        return _item_code(plan, outcome, groups.get("kind"), number)
    return None


def _item_code(plan: Plan, outcome: str | None, kind: str | None, number: str) -> str | None:
    if outcome is None or outcome not in plan.outcomes:
        return None
    n = int(number) if number.isdigit() else from_roman(number)
    if not n:
        return None
    # A bare numeral after an outcome means an indicator: that is what people track.
    letter = "O" if kind in ("output", "out") else "I"
    code = f"{outcome}.{letter}{n}"
    return code if plan.get(code) else None


_SECTIONS: list[tuple[str, str, type[PlanItem]]] = [
    ("conventions", "convention", Convention),
    ("outcomes", "outcome", Outcome),
    ("outputs", "output", Output),
    ("indicators", "indicator", Indicator),
]


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    where = ".".join(str(p) for p in e["loc"])
    return f"{where}: {e['msg']}" if where else e["msg"]


def _numeral_number(numeral: str) -> int | None:
    """The number a plan item's numeral stands for: roman (``iv``) or arabic (``4``)."""
    numeral = numeral.strip()
    return int(numeral) if numeral.isdigit() and int(numeral) > 0 else from_roman(numeral)


def _declared_measures(data: dict[str, Any]) -> dict[str, MeasureDeclaration]:
    raw = data.get("measures", {})
    if not isinstance(raw, dict):
        raise PlanError("[measures]: must be a table of name = { counts_as = ... }")
    declared = {}
    for name, spec in raw.items():
        if name in set(Measure):
            raise PlanError(f"measure {name}: already a built-in measure")
        try:
            declared[name] = MeasureDeclaration.model_validate(spec)
        except ValidationError as e:
            raise PlanError(f"measure {name}: {_first_error(e)}") from None
    return declared


def parse_plan(data: dict[str, Any]) -> Plan:
    """Validate parsed TOML data into a Plan; raises PlanError naming the bad item."""
    unknown = set(data) - {"plan", "measures"} - {s for s, _, _ in _SECTIONS}
    if unknown:
        raise PlanError(f"unknown section(s): {', '.join(sorted(unknown))}")
    if not isinstance(data.get("plan"), dict):
        raise PlanError("[plan] table is missing")
    try:
        info = PlanInfo.model_validate(data["plan"])
    except ValidationError as e:
        raise PlanError(f"[plan]: {_first_error(e)}") from None
    if info.start_year > info.end_year:
        raise PlanError(f"[plan]: start_year {info.start_year} is after end_year {info.end_year}")

    declared = _declared_measures(data)
    tables: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for section, label, model in _SECTIONS:
        raw_items = data.get(section, [])
        if not isinstance(raw_items, list) or not raw_items:
            raise PlanError(f"[[{section}]]: no {label} defined")
        items: dict[str, Any] = {}
        for pos, raw in enumerate(raw_items, 1):
            name = f"{label} {str(raw.get('code') or '').strip() or f'#{pos}'}"
            if section == "indicators" and isinstance(raw, dict) and raw.get("measure") in declared:
                raw = raw | {"measure": declared[raw["measure"]].counts_as, "measure_name": raw["measure"]}
            try:
                item = model.model_validate(raw)
            except ValidationError as e:
                raise PlanError(f"{name}: {_first_error(e)}") from None
            code = item.code
            if code != code.upper():
                raise PlanError(f"{name}: code must be upper-case")
            if code in seen:
                raise PlanError(f"{name}: duplicate code {code}")
            seen.add(code)
            items[code] = item
        tables[section] = items

    convs, outcomes, outputs, indicators = (tables[s] for s, _, _ in _SECTIONS)
    for o in outcomes.values():
        if o.convention not in convs:
            raise PlanError(f"outcome {o.code}: convention {o.convention} does not exist")
        if not re.fullmatch(rf"{o.convention}\d+", o.code):
            raise PlanError(f"outcome {o.code}: code must be {o.convention} followed by a number")
    for label, items, letter in (("output", outputs, "O"), ("indicator", indicators, "I")):
        for item in items.values():
            name = f"{label} {item.code}"
            if item.outcome not in outcomes:
                raise PlanError(f"{name}: outcome {item.outcome} does not exist")
            n = _numeral_number(item.numeral)
            if not n:
                raise PlanError(f"{name}: numeral {item.numeral!r} is neither a roman nor an arabic number")
            expected = f"{item.outcome}.{letter}{n}"
            if item.code != expected:
                raise PlanError(f"{name}: code does not match outcome and numeral (expected {expected})")
    for ind in indicators.values():
        if (ind.measure == Measure.PRODUCTS) != (ind.product is not None) and ind.measure != Measure.REGIONAL_CENTRES:
            raise PlanError(f"indicator {ind.code}: measure products needs a product, and only it takes one")
        if ind.output not in outputs:
            raise PlanError(f"indicator {ind.code}: output {ind.output} does not exist")
        if outputs[ind.output].outcome != ind.outcome:
            raise PlanError(f"indicator {ind.code}: output {ind.output} belongs to another outcome")
    for conv in convs.values():
        if not any(o.convention == conv.code for o in outcomes.values()):
            raise PlanError(f"convention {conv.code}: has no outcome")
    for o in outcomes.values():
        if not any(i.outcome == o.code for i in indicators.values()):
            raise PlanError(f"outcome {o.code}: has no indicator")
    return Plan(info=info, conventions=convs, outcomes=outcomes, outputs=outputs, indicators=indicators)


def load_plan(path: Path | str | None = None) -> Plan:
    """Load and validate a plan file; None loads the bundled 2022-2025 plan."""
    return parse_plan(read_toml(Path(path) if path is not None else DEFAULT_PLAN_PATH, PlanError))


def read_toml(path: Path, error: type[ValueError]) -> dict[str, Any]:
    """A data file's TOML, or `error` saying why it cannot be read."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{path}: not valid TOML ({e})") from None


def validate_file(path: Path | str) -> Plan:
    """Entry for ``tapbot plan validate FILE``: the plan, or PlanError."""
    return load_plan(path)


class Plans:
    """Every loaded plan, by id, oldest period first.

    An activity belongs to the plan whose period holds its start; the current plan is
    the one whose period holds today, else the latest.
    """

    def __init__(self, plans: Iterable[Plan]):
        ordered = sorted(plans, key=lambda p: (p.info.start_year, p.info.end_year))
        if not ordered:
            raise PlanError("no plan loaded")
        self.by_id: dict[str, Plan] = {}
        for plan in ordered:
            if plan.id in self.by_id:
                raise PlanError(f"plan {plan.id} is loaded twice")
            for other in self.by_id.values():
                if plan.info.start_year <= other.info.end_year:
                    raise PlanError(f"plan {plan.id} ({plan.period}) overlaps plan {other.id} ({other.period})")
            self.by_id[plan.id] = plan
        self.crosswalks: list = []  # plan_data.crosswalk.Crosswalk between loaded plans

    def successors(self, code: str, plan: Plan) -> tuple[str, ...]:
        """The codes of ``plan`` that an older plan's indicator ``code`` continues as, per the crosswalks."""
        for crosswalk in self.crosswalks:
            if crosswalk.new_plan == plan.id and crosswalk.old_plan in self.by_id:
                codes = crosswalk.carry(code)
                if codes:
                    return codes
        return ()

    def __iter__(self):
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def current(self, today: date) -> Plan:
        return self.holding(today) or max(self, key=lambda p: p.info.end_year)

    def holding(self, day: date) -> Plan | None:
        return next((p for p in self if p.holds(day)), None)

    def for_activity(self, start: date | None, end: date | None, undated: Plan) -> Plan:
        """The plan an activity counts in: the one whose period holds its start (else its end);
        ``undated`` for no date at all. An activity no period holds is kept in the nearest plan,
        whose figures show it as out of period (see ``holding`` to tell)."""
        day = start or end
        if day is None:
            return undated
        return self.holding(day) or min(self, key=lambda p: min(abs(day.year - p.info.start_year),
                                                                abs(day.year - p.info.end_year)))

    def find(self, text: str) -> Plan | None:
        """The plan a person names: its id (``tap-2022-2025``) or its period (``2022-2025``, ``2022–2025``)."""
        key = re.sub(r"\s*[-–—/]\s*", "-", text.strip().lower())
        for plan in self:
            if key in (plan.id.lower(), plan.period):
                return plan
        return None


def load_plans(paths: Iterable[Path | str | None], crosswalk_paths: Iterable[Path | str] = ()) -> Plans:
    """Load several plan files (None or ``bundled``: the bundled plan) and the crosswalks between them.

    Crosswalks are the bundled ones (``crosswalks/*.toml``) and the files given; one
    between plans that are not both loaded is kept but never used.
    """
    from plan_data.crosswalk import bundled_crosswalks, load_crosswalk

    plans = Plans(load_plan(None if p is None or str(p).strip() == BUNDLED else p) for p in paths)
    for path in [*bundled_crosswalks(), *crosswalk_paths]:
        plans.crosswalks.append(load_crosswalk(path, plans.by_id))
    return plans


def plan_paths(setting: str | None) -> list[str]:
    """The files a ``TAPBOT_PLANS`` value names (comma-separated; default: the bundled plan)."""
    paths = [part.strip() for part in (setting or "").split(",") if part.strip()]
    return paths or [BUNDLED]
