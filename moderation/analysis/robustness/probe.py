"""The benign probe: ordinary words and phrases that hold a listed term inside them.

Two sources: a shipped English word list (the `english-words` package, its
"web2" list of about 235,000 words) and phrases generated around those words.
A word that is the term with a plain inflection ("nudes", "killing") is not
benign and is left out.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from random import Random

import ahocorasick

INFLECTIONS = ("s", "es", "ed", "d", "er", "ers", "ing", "y", "ish")
TEMPLATES = (
    "{Word} is on the list today.",
    "I read about the {word} yesterday.",
    "Is that a {word}, or not?",
)
WORD_LIST = "english-words web2"


@functools.cache
def english_words() -> tuple[str, ...]:
    """The shipped word list, lower case, letters only, sorted."""
    from english_words import get_english_words_set

    return tuple(sorted(get_english_words_set(["web2"], lower=True, alpha=True)))


def _inflected(word: str, term: str) -> bool:
    return word.startswith(term) and word[len(term) :] in INFLECTIONS


def words_holding(
    terms: Iterable[str], words: Iterable[str], *, per_term: int, rng: Random
) -> dict[str, list[str]]:
    """Up to `per_term` words of `words` that hold each term inside them (not the term itself)."""
    automaton = ahocorasick.Automaton()
    for term in terms:
        key = term.casefold()
        if key.isascii() and key.isalpha() and len(key) >= 2:
            automaton.add_word(key, term)
    found: dict[str, list[str]] = {}
    if not len(automaton):
        return found
    automaton.make_automaton()
    for word in words:
        for _end, term in automaton.iter(word):
            key = term.casefold()
            if word != key and not _inflected(word, key):
                found.setdefault(term, []).append(word)
    return {
        term: sorted(rng.sample(held, min(per_term, len(held)))) for term, held in found.items()
    }


def phrases(words: list[str], rng: Random) -> list[str]:
    """One generated phrase around each word."""
    return [rng.choice(TEMPLATES).format(word=word, Word=word.capitalize()) for word in words]
