"""Rank the plan's indicators for a free-text chat message.

Messages are short, full of abbreviations and typos, and rarely reuse the
plan's own wording, so plain string similarity against the indicator text is
weak. Each indicator instead gets a weighted bag of word stems built from its
text, its output, its outcome and its keywords (the data file carries the
vocabulary trainers use); multi-word keywords score extra when they appear
as a phrase. Terms that are typical of one convention (pesticide, DNA, NIP,
regional centre...) lift every indicator of that convention, so a message with few
words still lands in the right part of the plan. Typos are mapped onto the
plan's vocabulary with rapidfuzz. All of it is built once per Plan object.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from plan_data.loader import Plan
from plan_data.vocabulary import to_english
from storage.examples import activity_texts, cached_examples, example_links

# Weights of the places a term can come from (max over places is kept).
W_KEYWORD = 3.0  # a one-word keyword
W_KEYWORD_PART = 1.5  # one word of a multi-word keyword
W_TEXT = 2.0  # the indicator's own text
W_OUTPUT = {"direct": 1.0, "loose": 0.3}  # the paired output: trusted only when it corresponds
W_OUTCOME = 0.5  # the outcome statement
W_PHRASE = 1.5  # per extra word of a multi-word keyword found as a phrase
W_CONVENTION = 0.6  # how much convention evidence lifts that convention's indicators
W_KIND = 1.5  # activity-kind cue (pilot project, case study...) meeting a matching measure
# Chosen with benchmarks/matching.py: leave-one-out on the tuning half and cross-fitting on
# ../shared/eval; at 20 and above the team's examples start to outvote clear plan wording.
W_EXAMPLE = 12.0  # raw score a message identical to an indicator's confirmed examples gains
W_REJECTED = 10.0  # raw score it loses when identical to what people unlinked from an indicator
SCORE_SCALE = 12.0  # raw score at which the 0-100 score reaches ~63

# Chosen with benchmarks/matching.py on ../shared/eval/match_dev.jsonl. No dev
# top-1 was outside the accepted codes, so the stricter test was used: the
# highest confidence of a top-1 that was not the gold's *primary* link was 0.57;
# above 0.6 every top-1 was the primary link (10 of 40 messages linked without
# asking). Messages we wrote ourselves, not used for tuning, agreed: their
# wrong top-1s all scored below 0.11. A wrong silent link costs more than a
# confirmation click, so the line sits above the worst seen, not at it.
AUTO_LINK_CONFIDENCE = 0.6
# A message this close (cosine of term vectors) to a log a person linked to its best
# match is linked without asking too, "like #123". In tuning, every best match whose
# nearest confirmed example was above 0.42 was right; the line sits well above.
AUTO_LINK_LIKENESS = 0.6

# Words that say what kind of activity was logged, and the indicator measures
# (see plan_data.loader.Measure) that count that kind of activity.
KIND_CUES: dict[str, tuple[str, ...]] = {
    "pilot": ("pilot_projects",),
    "case study": ("products",),
    "trained": ("participants", "trainings"),
    "training": ("trainings", "participants"),
    "webinar": ("trainings",),
    "course": ("trainings", "participants"),
}

# Chat shorthand -> plan words. General, not tied to any one message.
SHORTHAND = {
    "haz": "hazardous", "hazwaste": "hazardous waste", "wkshp": "workshop", "wkshop": "workshop",
    "info": "information", "natl": "national", "intl": "international", "govt": "government",
    "gov": "government", "mgmt": "management", "mgt": "management", "stats": "statistics",
    "trng": "training", "mtg": "meeting", "art": "article", "regs": "regulations", "w": "with",
    "env": "environment", "envt": "environment", "reqs": "requirements", "dev": "development",
    "center": "centre", "centers": "centres", "program": "programme", "programs": "programmes",
    "webpage": "web page", "webpages": "web pages", "website": "web site", "websites": "web sites",
    "inv": "inventory", "invs": "inventories", "ppl": "people",
}

# Words that say what kind of event was held, found in nearly every log: an indicator whose
# text happens to use one ("training workshops targeting customs") must not win on it alone.
GENERIC_WORDS = "workshop training webinar meeting seminar course session event mission"
GENERIC_DAMPING = 0.5

STOPWORDS = frozenset(
    """a an the of and or on in to for by with at as from into under per its their our
    we us i you he she they it this that these those is are was were be been being has have had
    do did done will would can could should may might not no yes so than then there here
    via etc eg ie also all any each other such some more most same new""".split()
)


@dataclass(frozen=True)
class Match:
    """One ranked indicator: its code, a 0-100 score and its text."""

    code: str
    score: float
    text: str


def _stem(word: str) -> str:
    """A small suffix stripper: enough to make share/shared/sharing meet."""
    if word.isdigit() or len(word) <= 3:
        return word[:-1] if len(word) == 3 and word.endswith("s") and word[-2] not in "su" else word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) >= 6:
        word = word[:-3]
    elif word.endswith("ed") and len(word) >= 4:
        word = word[:-2]
    if word.endswith("e") and len(word) >= 3:
        word = word[:-1]
    return word


@lru_cache(maxsize=8192)
def _stem_cached(word: str) -> str:
    return _stem(word)


_SINGLE_LETTER_PREFIX = re.compile(r"\b([a-z])-(?=[a-z])")  # e-waste, e-course -> ewaste, ecourse
_TOKEN = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    text = text.lower().replace("&", " and ").replace("'s ", " ")
    text = _SINGLE_LETTER_PREFIX.sub(r"\1", text)
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        expanded = SHORTHAND.get(tok)
        if expanded:
            out.extend(_TOKEN.findall(_SINGLE_LETTER_PREFIX.sub(r"\1", expanded)))
        else:
            out.append(tok)
    return out


def terms(text: str) -> list[str]:
    """Stems of a text in order, stopwords dropped (public for tests and the benchmark)."""
    return [_stem_cached(w) for w in _words(text) if w not in STOPWORDS]


class _Index:
    """Everything about one plan that matching needs, computed once."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.codes = list(plan.indicators)
        self.position = {code: i for i, code in enumerate(self.codes)}
        self.texts = [i.text for i in plan.indicators.values()]
        n = len(self.codes)
        weights: list[dict[str, float]] = [dict() for _ in range(n)]
        phrases: list[set[tuple[str, ...]]] = [set() for _ in range(n)]

        def add(i: int, text: str, w: float) -> None:
            for t in terms(text):
                if not t.isdigit():  # numbers only count inside phrases (dates are everywhere)
                    weights[i][t] = max(weights[i].get(t, 0.0), w)

        conv_of: list[str] = []
        for i, ind in enumerate(plan.indicators.values()):
            outcome = plan.outcomes[ind.outcome]
            conv_of.append(outcome.convention)
            add(i, outcome.statement, W_OUTCOME)
            add(i, plan.outputs[ind.output].text, W_OUTPUT[ind.pairing])
            add(i, ind.text, W_TEXT)
            for cue, measures in KIND_CUES.items():
                if ind.measure in measures:
                    self._add_keyword(i, cue, weights, phrases, W_KIND)
            for kw in ind.keywords:
                self._add_keyword(i, kw, weights, phrases, W_KEYWORD)

        # Rare terms tell more than terms every indicator has ("parties", "number").
        df: dict[str, int] = {}
        for w in weights:
            for t in w:
                df[t] = df.get(t, 0) + 1
        self.idf = {t: math.log((n + 1) / (d + 0.5)) for t, d in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for i, w in enumerate(weights):
            for t, wt in w.items():
                self.postings.setdefault(t, []).append((i, wt * self.idf[t]))
        self.phrase_postings: dict[tuple[str, ...], list[tuple[int, float]]] = {}
        for i, ps in enumerate(phrases):
            for p in ps:
                bonus = W_PHRASE * (len(p) - 1) * max(self.idf.get(t, 1.0) for t in p)
                self.phrase_postings.setdefault(p, []).append((i, bonus))
        self.max_phrase = max((len(p) for p in self.phrase_postings), default=1)

        # Convention evidence: a term found in the vocabulary of fewer conventions says more.
        self.conv_codes = list(plan.conventions)
        self.conv_index = [self.conv_codes.index(c) for c in conv_of]
        conv_terms: dict[str, set[str]] = {c: set() for c in self.conv_codes}
        for i, w in enumerate(weights):
            conv_terms[conv_of[i]].update(w)
        for conv in plan.conventions.values():
            for name in (conv.name, *conv.aliases):
                conv_terms[conv.code].update(t for t in terms(name) if not t.isdigit())
        k = len(self.conv_codes)
        self.conv_postings: dict[str, list[tuple[int, float]]] = {}
        for c, ts in conv_terms.items():
            for t in ts:
                cdf = sum(t in other for other in conv_terms.values())
                if cdf < k:
                    self.conv_postings.setdefault(t, []).append((self.conv_codes.index(c), math.log(k / cdf)))

        self.generic = frozenset(terms(GENERIC_WORDS))
        self.vocab = sorted(set(self.postings) | set(self.conv_postings))
        self.vocab_set = frozenset(self.vocab)
        self._corrections: dict[str, str | None] = {}

    def _add_keyword(self, i, kw, weights, phrases, w_single) -> None:
        ts = terms(kw)
        if not ts:
            return
        if len(ts) == 1:
            if not ts[0].isdigit():
                weights[i][ts[0]] = max(weights[i].get(ts[0], 0.0), w_single)
            return
        phrases[i].add(tuple(ts))
        for t in ts:
            if not t.isdigit():
                weights[i][t] = max(weights[i].get(t, 0.0), W_KEYWORD_PART)

    def correct(self, term: str) -> str | None:
        """The plan term a typo most likely means, or None; cached per index."""
        if term in self.vocab_set:
            return term
        if len(term) < 5 or term.isdigit():
            return None
        if term not in self._corrections:
            if len(self._corrections) > 20_000:  # bound memory on a long-running server
                self._corrections.clear()
            hit = process.extractOne(term, self.vocab, scorer=fuzz.ratio, score_cutoff=84)
            self._corrections[term] = hit[0] if hit else None
        return self._corrections[term]

    def raw_scores(self, text_terms: list[str]) -> list[float]:
        seq = [self.correct(t) or t for t in text_terms]
        scores = [0.0] * len(self.codes)
        conv = [0.0] * len(self.conv_codes)
        for t in set(seq):
            damp = GENERIC_DAMPING if t in self.generic else 1.0
            for i, w in self.postings.get(t, ()):
                scores[i] += w * damp
            for c, w in self.conv_postings.get(t, ()):
                conv[c] += w
        for n in range(2, min(self.max_phrase, len(seq)) + 1):
            for gram in {tuple(seq[j:j + n]) for j in range(len(seq) - n + 1)}:
                for i, w in self.phrase_postings.get(gram, ()):
                    scores[i] += w
        for i, c in enumerate(self.conv_index):
            scores[i] += W_CONVENTION * conv[c]
        return scores


def _index(plan: Plan) -> _Index:
    return plan.derived("matcher.index", _Index)


def _to_percent(raw: float) -> float:
    return round(100.0 * (1.0 - math.exp(-max(raw, 0.0) / SCORE_SCALE)), 1)


# A head count says who came, not what the activity was about: "35 participants (14 women)"
# must not pull a message toward the gender indicator.
HEAD_COUNT = re.compile(
    r"\b\d[\d,]*\s*(?:%\s*)?(?:women|woman|female|females|men|male|males|girls|boys|participants?|people|ppl|pax)\b",
    re.IGNORECASE)


def _query_terms(text: str) -> list[str]:
    """The terms a message is matched by: read into English, head counts left out."""
    return terms(HEAD_COUNT.sub(" ", to_english(text)))


MEAN_TERMS = 150  # terms kept of each indicator's mean example


class TeamExamples:
    """The team's confirmed links (and unlinks) for one plan, as term vectors.

    Each example is its activity's message as a tf-idf vector of plan-English stems;
    each indicator gets the mean of its examples (and of its rejections). A message
    then leans toward the indicators whose examples it resembles, by cosine: cheap
    whatever the number of examples (at most one entry per indicator and term).
    """

    def __init__(self, rows: list[tuple[int, str, int]], texts: dict[int, str],
                 previous: TeamExamples | None = None):
        known = previous.term_sets if previous else {}
        self.term_sets: dict[int, frozenset[str]] = {
            a: known[a] if a in known else frozenset(_query_terms(texts[a])) for a in {a for a, _, _ in rows}}
        self.rows = rows
        n = len(self.term_sets)
        df: dict[str, int] = {}
        for ts in self.term_sets.values():
            for t in ts:
                df[t] = df.get(t, 0) + 1
        self.idf = {t: math.log((n + 1) / (d + 0.5)) for t, d in df.items()}
        self.by_code: dict[str, list[int]] = {}  # positive examples, oldest first
        sums: dict[tuple[str, int], dict[str, float]] = {}
        counts: dict[tuple[str, int], int] = {}
        for activity_id, code, polarity in rows:
            if polarity > 0:
                self.by_code.setdefault(code, []).append(activity_id)
            acc = sums.setdefault((code, polarity), {})
            for t, w in self._vector(self.term_sets[activity_id]).items():
                acc[t] = acc.get(t, 0.0) + w
            counts[(code, polarity)] = counts.get((code, polarity), 0) + 1
        # term -> [(code, weight)] of each mean vector, normalised, per polarity. A mean of
        # many examples has a long tail of words seen once; its heaviest terms are kept, which
        # bounds the work per message whatever the history.
        self.postings: dict[int, dict[str, list[tuple[str, float]]]] = {1: {}, -1: {}}
        for (code, polarity), acc in sums.items():
            kept = sorted(acc.items(), key=lambda tw: -tw[1])[:MEAN_TERMS]
            norm = math.sqrt(sum(w * w for _, w in kept)) or 1.0
            for t, w in kept:
                self.postings[polarity].setdefault(t, []).append((code, w / norm))

    def __len__(self) -> int:
        return len(self.rows)

    def _vector(self, ts) -> dict[str, float]:
        v = {t: self.idf.get(t, 0.0) for t in ts}
        norm = math.sqrt(sum(w * w for w in v.values())) or 1.0
        return {t: w / norm for t, w in v.items() if w}

    def similarity(self, text_terms: list[str], polarity: int = 1) -> dict[str, float]:
        """Cosine of the message to each indicator's mean example (or rejection)."""
        out: dict[str, float] = {}
        postings = self.postings[polarity]
        for t, w in self._vector(set(text_terms)).items():
            for code, cw in postings.get(t, ()):
                out[code] = out.get(code, 0.0) + w * cw
        return out

    def nearest(self, text: str, code: str, recent: int = 300) -> tuple[int, float] | None:
        """The confirmed example of ``code`` most like ``text`` (among its latest), and the cosine."""
        q = self._vector(set(_query_terms(text)))
        best = None
        for activity_id in self.by_code.get(code, [])[-recent:]:
            v = self._vector(self.term_sets[activity_id])
            sim = sum(w * v.get(t, 0.0) for t, w in q.items())
            if best is None or sim > best[1]:
                best = (activity_id, sim)
        return best


def team_examples(session: Session, plan: Plan) -> TeamExamples:
    """The team's examples for ``plan``, as of the latest committed change (shared by processes)."""
    def build(previous: TeamExamples | None) -> TeamExamples:
        rows = example_links(session, plan.id)
        known = previous.term_sets if previous else {}
        return TeamExamples(rows, activity_texts(session, {a for a, _, _ in rows} - known.keys()), previous)
    return cached_examples(session, plan.id, build)


def match_indicators(text: str, plan: Plan, limit: int = 5, examples: TeamExamples | None = None) -> list[Match]:
    """Indicators ranked for ``text``, best first; always ``limit`` of them (ties in plan order).

    With the team's ``examples``, the plan-text score is blended with the message's
    likeness to what people linked to each indicator, less its likeness to what they unlinked.
    """
    idx = _index(plan)
    seq = _query_terms(text)
    raw = idx.raw_scores(seq)
    if examples:
        for code, sim in examples.similarity(seq).items():
            if code in idx.position:
                raw[idx.position[code]] += W_EXAMPLE * sim
        for code, sim in examples.similarity(seq, -1).items():
            if code in idx.position:
                raw[idx.position[code]] -= W_REJECTED * sim
    order = sorted(range(len(raw)), key=lambda i: -raw[i])[:limit]
    return [Match(idx.codes[i], _to_percent(raw[i]), idx.texts[i]) for i in order]


def matching_words(text: str, plan: Plan, code: str, most: int = 3) -> list[str]:
    """The words of ``text`` (in plan English) that weigh most toward ``code``."""
    idx = _index(plan)
    i = idx.position[code]
    weights: dict[str, float] = {}
    for word in _words(to_english(HEAD_COUNT.sub(" ", text))):
        if word in STOPWORDS:
            continue
        t = idx.correct(_stem_cached(word)) or _stem_cached(word)
        w = next((w for j, w in idx.postings.get(t, ()) if j == i), 0.0)
        if w and w > weights.get(word, 0.0) and not any(_stem_cached(k) == t for k in weights):
            weights[word] = w
    return sorted(weights, key=lambda k: -weights[k])[:most]


def confidence(matches: list[Match]) -> float:
    """0..1: how sure we are that the first match is right.

    A high score alone is not enough (a message can fit two indicators
    equally well); the margin to the runner-up matters as much.
    """
    if not matches or matches[0].score <= 0:
        return 0.0
    top = matches[0].score / 100.0
    second = matches[1].score / 100.0 if len(matches) > 1 else 0.0
    margin = (top - second) / top
    return round(top * min(1.0, 2.0 * margin), 3)
