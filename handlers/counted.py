"""What a log says that indicators count beyond the activity itself: the products it
recorded ("produced: 2 case studies", "guidance: …", "3 submissions"), the regional centre
that organised it, and the country that only hosted it. English, French and Spanish."""
from __future__ import annotations

import re

from handlers.extract import read_places
from handlers.messages import Field
from plan_data.centres import find_centre, get_centre

# Product kinds as the plan's indicators name them (plan TOML `product`), with the words
# for one in the three languages (singular and plural, as regex).
PRODUCT_WORDS = {
    "case_study": r"case[\s-]*stud(?:y|ies)|[ée]tudes?\s+de\s+cas|estudios?\s+de\s+casos?",
    "guidance": r"guidance(?:\s+documents?)?|guidelines?|guides?|manuals?|lignes?\s+directrices|orientations?|"
                r"gu[íi]as?|directrices|manuales?",
    "inventory": r"inventor(?:y|ies)|inventaires?|inventarios?",
    "submission": r"submissions?|soumissions?|communications?\s+(?:au|aux)|presentaci(?:[óo]n|ones)",
    "joint_programme": r"joint\s+programmes?|joint\s+programs?|programmes?\s+conjoints?|programas?\s+conjuntos?",
    "portal_update": r"(?:web\s*)?portals?\s+updated|portal\s+updates?|mises?\s+[àa]\s+jour\s+du\s+portail|"
                     r"portail\s+mis\s+[àa]\s+jour|actualizaci(?:[óo]n|ones)\s+del\s+portal|portal\s+actualizado",
}
PRODUCT_LABELS = {"case_study": "case studies", "guidance": "guidance documents", "inventory": "inventories",
                  "submission": "submissions", "joint_programme": "joint programmes", "portal_update": "portal updates"}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "un": 1, "une": 1, "uno": 1, "una": 1, "two": 2, "deux": 2, "dos": 2,
                 "three": 3, "trois": 3, "tres": 3, "four": 4, "quatre": 4, "cuatro": 4, "five": 5, "cinq": 5,
                 "cinco": 5, "six": 6, "seis": 6, "seven": 7, "sept": 7, "siete": 7, "eight": 8, "huit": 8, "ocho": 8,
                 "nine": 9, "neuf": 9, "nueve": 9, "ten": 10, "dix": 10, "diez": 10}
_COUNT = r"(?P<n>\d{1,4}|" + "|".join(_NUMBER_WORDS) + r")"
_FIELD_LABELS = {"produced": None, "products": None, "produit": None, "produits": None, "productos": None,
                 "producido": None, "guidance": "guidance", "inventory": "inventory", "submissions": "submission",
                 "case studies": "case_study"}
# "produced: 2 case studies", "guidance: Inventory guidance on PFAS", "submissions: 3".
_FIELD = re.compile(r"\b(?P<label>" + "|".join(_FIELD_LABELS) + r")\s*[:=]\s*(?P<value>[^;\n]+)", re.I)
# "2 case studies on BAT/BEP published", "trois études de cas", "dos inventarios".
_COUNTED = re.compile(r"(?<![\w.,])" + _COUNT
                      + r"\s+(?:new\s+|nouvelles?\s+|nuevos?\s+|nuevas?\s+|national\s+|regional\s+)?"
                      r"(?P<what>" + "|".join(f"(?P<{k}>{v})" for k, v in PRODUCT_WORDS.items()) + r")\b", re.I)
_ANY_PRODUCT = re.compile("|".join(f"(?P<{k}>{v})" for k, v in PRODUCT_WORDS.items()), re.I)
# "hosted from Geneva", "hosted by Kenya", "accueilli par le Sénégal", "organizado desde Panamá".
_HOSTED = re.compile(r"\b(?:host(?:ed)?\s+(?:from|in|by)|accueilli[e]?\s+(?:par|depuis|à)|"
                     r"organis[ée]e?\s+depuis|organizad[oa]\s+desde|desde)"
                     r"\s+(?P<where>[^,;.()]+(?:,\s*[^,;.()]+)?)", re.I)
_PARTICIPANTS_FROM = re.compile(r"(?:participants?|attendees|people|experts|officials|participantes?)\s+"
                                r"(?:from|de|des|del)\s+(?P<who>[^.;]+)", re.I)


def _number(word: str) -> int | None:
    word = word.casefold()
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    return int(word) if word.isdigit() else None


def read_products(text: str) -> tuple[int, str] | None:
    """(how many, kind) of the products a log records, or None."""
    for field in _FIELD.finditer(text):
        kind = _FIELD_LABELS[field["label"].casefold()]
        value = field["value"].strip()
        counted = _COUNTED.search(value)
        if counted and (n := _number(counted["n"])) is not None:
            return n, next(k for k in PRODUCT_WORDS if counted[k])
        number = re.match(r"\d{1,4}\b", value)
        if kind is None:
            named = _ANY_PRODUCT.search(value)
            kind = next((k for k in PRODUCT_WORDS if named and named[k]), None)
        if kind:
            # "guidance: Inventory guidance on PFAS" is one; "submissions: 3" is three.
            return (int(number[0]) if number else 1), kind
    counted = _COUNTED.search(text)
    if counted and (n := _number(counted["n"])) is not None:
        return n, next(k for k in PRODUCT_WORDS if counted[k])
    # A portal update is an event, not a thing made in numbers: named, it is one.
    updated = re.search(PRODUCT_WORDS["portal_update"], text, re.I)
    return (1, "portal_update") if updated else None


def host_only(text: str) -> str | None:
    """The country that only hosted the activity ("hosted from Geneva, Switzerland"), when
    its people are not said to have taken part; None when no such country is named."""
    hosted = _HOSTED.search(text)
    if not hosted:
        return None
    hosts = read_places(hosted["where"]).countries  # "hosted from Geneva": a city names its country
    if not hosts:
        return None
    from_ = _PARTICIPANTS_FROM.search(text)
    taking_part = set(read_places(from_["who"]).countries) if from_ else set()
    return None if hosts[0] in taking_part else hosts[0]


def counted_fields(text: str) -> dict:
    """What these readings give create_activity: the columns they fill, and the host."""
    products = read_products(text)
    centre = find_centre(text)
    return {"products": products[0] if products else None, "product_kind": products[1] if products else None,
            "centre": centre.id if centre else None, "host": host_only(text)}


def counted_reply_fields(activity) -> list[Field]:
    """What these readings stored for an activity, as `log` and `show` print it."""
    fields = []
    if activity.products and activity.product_kind:
        fields.append(Field("Produced", f"{activity.products} {PRODUCT_LABELS[activity.product_kind]}"))
    centre = get_centre(activity.centre) if activity.centre else None
    if centre:
        fields.append(Field("Regional centre", f"{centre.label} ({centre.names[0]})"))
    return fields
