"""The conventions' domain vocabulary in French and Spanish, mapped to English, for matching.

Plans are written in English; trainers write in English, French and Spanish. Each
``<language>.toml`` beside this file maps the words and phrases of the chemicals and
waste domain in that language to the English a plan uses, so that the matcher reads
"gestion écologiquement rationnelle des déchets dangereux" as "environmentally sound
management of hazardous waste". The files name no plan item: a new plan benefits as is.

``to_english(text)`` rewrites the recognised spans of a message and leaves the rest as
typed. Phrases of two words or more are recognised in any message. A single word or an
acronym is recognised only in a message of its language (told by its function words), so
that "AND" or "COP" in an English message keeps its English meaning.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files

from rapidfuzz import fuzz, process

_WORD = re.compile(r"[a-z0-9]+")  # in folded text
_TOKEN = re.compile(r"[^\W_]+")  # in text as typed
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "’": "'"})


def fold(text: str) -> str:
    """Lower case without accents: the form vocabulary and messages are compared in."""
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    return fold(word)


def _key(word: str) -> str:
    """A folded word without a plural s or x, so that singular and plural meet."""
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


@dataclass(frozen=True)
class Language:
    code: str
    function_words: frozenset[str]
    words: dict[str, str]  # single word key -> English
    acronyms: dict[str, str]  # as written (case matters) -> English


@dataclass(frozen=True)
class Vocabulary:
    languages: dict[str, Language]
    phrases: dict[tuple[str, ...], str]  # keys of two words or more -> English, any language
    longest: int
    known: frozenset[str]  # every word key of every language, for typo correction
    known_list: tuple[str, ...]

    def spelled(self, key: str) -> str:
        """``key``, or the vocabulary word it is a typo of ("dangeureux" -> "dangereux").

        Only long words, and only one slip away, so that a place or a person's name is
        not taken for a domain word."""
        if len(key) < TYPO_MIN_LENGTH or key in self.known or key.isdigit():
            return key
        return _nearest(key)

    def language_of(self, words: list[str]) -> str | None:
        """The language whose function words ``words`` use most; None when unclear.

        Words of one letter ("a", "e", "y", "l'") are too ambiguous to tell a language by,
        and a word in capitals is an acronym ("AND"), not a function word.
        """
        plain = [_fold_word(w) for w in words if len(w) > 1 and not w.isupper()]
        counts = {code: sum(w in lang.function_words for w in plain) for code, lang in self.languages.items()}
        best = max(counts, key=counts.__getitem__, default=None)
        if best is None or counts[best] == 0 or list(counts.values()).count(counts[best]) > 1:
            return None
        return best

    def to_english(self, text: str) -> str:
        """``text`` folded, with its French and Spanish domain words in English."""
        tokens = list(_TOKEN.finditer(text))
        typed = [t.group() for t in tokens]
        folded = [_fold_word(w) for w in typed]
        code = self.language_of(typed)
        if code is None:  # no telling: the single words of every language may help
            words: dict[str, str] = {}
            for lang in self.languages.values():
                words = lang.words | words
            acronyms: dict[str, str] = {}
            dropped: frozenset[str] = frozenset()
        else:
            lang = self.languages[code]
            words, acronyms = lang.words, lang.acronyms
            dropped = lang.function_words if code != "en" else frozenset()

        keys = [self.spelled(_key(w)) for w in folded]
        out: list[str] = []
        last = 0  # end of the text already copied to out
        i = 0
        while i < len(tokens):
            english, size = None, 1
            for n in range(min(self.longest, len(tokens) - i), 1, -1):
                english = self.phrases.get(tuple(keys[i:i + n]))
                if english:
                    size = n
                    break
            if english is None:
                english = acronyms.get(typed[i]) or words.get(keys[i])
                if english is None and folded[i] in dropped:
                    english = " "
            if english is not None:
                out.append(text[last:tokens[i].start()])
                out.append(f" {english} ")
                last = tokens[i + size - 1].end()
            i += size
        out.append(text[last:])
        return fold("".join(out))


TYPO_MIN_LENGTH = 7
TYPO_SCORE = 90  # rapidfuzz ratio: one slip in a word of ten letters or more, none below seven


@lru_cache(maxsize=20_000)
def _nearest(key: str) -> str:
    hit = process.extractOne(key, vocabulary().known_list, scorer=fuzz.ratio, score_cutoff=TYPO_SCORE)
    return hit[0] if hit else key


@cache
def vocabulary() -> Vocabulary:
    """Every ``*.toml`` beside this module, checked: a form may not mean two things."""
    languages: dict[str, Language] = {}
    phrases: dict[tuple[str, ...], str] = {}
    for path in sorted(files(__package__).iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".toml"):
            continue
        data = tomllib.loads(path.read_text("utf-8"))
        code = data["language"]
        words: dict[str, str] = {}
        for english, forms in data.get("terms", {}).items():
            for form in forms:
                key = tuple(_key(w) for w in _WORD.findall(fold(form)))
                # Several words are a phrase, kept by their tuple; one word by itself.
                target: dict = phrases if len(key) > 1 else words
                k: tuple[str, ...] | str = key if len(key) > 1 else key[0]
                if target.get(k, english) != english:
                    raise ValueError(f"{path.name}: “{form}” means both “{target[k]}” and “{english}”")
                target[k] = english
        languages[code] = Language(code, frozenset(fold(w) for w in data.get("function_words", [])),
                                   words, dict(data.get("acronyms", {})))
    known = {w for k in phrases for w in k} | {w for lang in languages.values() for w in lang.words}
    known |= {w for lang in languages.values() for w in lang.function_words}
    return Vocabulary(languages, phrases, max((len(k) for k in phrases), default=1),
                      frozenset(known), tuple(sorted(known)))


def to_english(text: str) -> str:
    return vocabulary().to_english(text)
