"""Keyword matching: one Aho-Corasick automaton per keyword set, built once per bundle.

Whole-word mode: a match must not touch a word character (letter, digit or
combining mark, in the normalised text) on a side where the term itself ends
in a word character. '_' is not a word character, so "sex_party" matches
"sex". Scripts written without spaces between words (Han, Hiragana,
Katakana, Thai, Lao, Khmer, Myanmar) have no word boundaries: a term edge in
one of those scripts needs none, so CJK terms match as substrings, and a
character of those scripts next to a Latin term edge counts as a boundary
("看av" holds the word "av").
"""

from __future__ import annotations

import itertools
import operator
from typing import Any, NamedTuple

import ahocorasick
import numpy as np

from moderation.engine.bundle.types import KeywordSet
from moderation.engine.errors import BundleError
from moderation.engine.normalize import (
    READING_MARK,
    NormalizedText,
    non_ascii_chars,
    normalize,
    normalize_term,
    plain_folder,
    squeezed_spans,
)
from moderation.engine.normalize.plain import Taken
from moderation.engine.textbatch import (
    JoinedTexts,
    NormalizedBatch,
    PlainTexts,
    normalize_batch,
)
from moderation.engine.wordkeys import (
    NO_SPACE_SCRIPTS,
    BoundaryAutomaton,
    is_word_char,
    markable,
    needs_boundary,
    word_chars,
)

__all__ = ["CompiledKeywordSet", "KeywordMatch", "explain_matches", "is_word_char", "word_chars"]

MAX_EXPLAINED_MATCHES = 20
# Texts at least this long are scanned with numpy instead of a per-hit loop.
VECTORISE_FROM = 4096


class KeywordMatch(NamedTuple):
    """One term found in a text, with its span in the ORIGINAL text."""

    # A named tuple rather than a frozen dataclass: one is built per match,
    # and a tuple builds several times faster.

    term: str  # the term as written in the keyword set
    start: int
    end: int
    text: str  # the original characters matched

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {"term": self.term, "span": [self.start, self.end], "text": self.text}


class CompiledKeywordSet:
    """A keyword set's normalised terms and allow-list in one automaton, ready to match."""

    def __init__(
        self, keyword_set: KeywordSet, path: str = "keyword_set", *, boundary_keys: bool = True
    ) -> None:
        self.keyword_set = keyword_set
        self.options = keyword_set.options
        entries: dict[str, list] = {}
        self._add(entries, keyword_set.terms, f"{path}.terms", slot=0)
        self._add(entries, keyword_set.allow, f"{path}.allow", slot=1)
        whole = self.options.mode == "whole_word"
        # Whole-word keys go to the boundary-marked automaton (wordkeys.py),
        # which needs no per-hit check; substring keys, and keys in scripts
        # without spaces, to the plain one. `boundary_keys=False` puts every key
        # in the plain automaton (the reference the tests compare against).
        self.boundary = BoundaryAutomaton() if whole and boundary_keys else None
        # The plain automaton stores an int per key; what the int means lives
        # in a list (for the per-hit loop) and in arrays (for the vectorised scan).
        self.automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        self._info = []
        for key, (term, allow) in entries.items():
            if self.boundary is not None and markable(key):
                self.boundary.add(key, term, allow)
                continue
            bounds = (whole and needs_boundary(key[0]), whole and needs_boundary(key[-1]))
            self.automaton.add_word(key, len(self._info))
            self._info.append((len(key), term, allow, *bounds))
        self.automaton.make_automaton()
        if self.boundary is not None:
            self.boundary.make()
        columns = list(zip(*self._info, strict=True)) if self._info else [()] * 5
        self._length, self._term, self._allow = (np.array(c, dtype=np.int64) for c in columns[:3])
        self._check_start, self._check_end = (np.array(c, dtype=bool) for c in columns[3:])
        self.size = len(entries)
        self._plain = plain_folder(self.options)

    def automata(self) -> list[ahocorasick.Automaton]:
        """Return the automata this set matches with (for size statistics)."""
        boundary = [self.boundary.automaton] if self.boundary is not None else []
        return [self.automaton, *boundary]

    def _add(self, entries: dict[str, list], phrases, path: str, slot: int) -> None:
        for i, phrase in enumerate(phrases):
            key = normalize_term(phrase, self.options)
            if not key:
                raise BundleError(
                    f"{path}[{i}]",
                    "empty after normalisation (only invisible characters "
                    "or separators); remove it",
                )
            entry = entries.setdefault(key, [-1, -1])
            if entry[slot] < 0:  # the first spelling of duplicates is the one reported
                entry[slot] = i

    def find(self, norm: NormalizedText) -> list[KeywordMatch]:
        """Return every term match in `norm` that no allow-listed phrase match contains."""
        found = [self._match(norm, start, end, term) for start, end, term in self._hits(norm.text)]
        return _once(found) if READING_MARK in norm.text else found

    def find_batch(self, batch: NormalizedBatch) -> list[list[KeywordMatch]]:
        """Return the matches of every text of `batch`; the same as find() one by one."""
        if batch.plain is not None:
            return [self._match_plain(batch.texts[0], batch.plain)]
        results: list[list[KeywordMatch]] = [[] for _ in batch.texts]
        for i, norm in batch.singles.items():
            results[i] = self.find(norm)
        terms, texts, make = self.keyword_set.terms, batch.texts, KeywordMatch._make
        for group in batch.joined:
            hits = self._group_hits(group)
            if not hits:
                continue
            rows = group.rows
            for (_, _, term), start, end, at in zip(hits, *_batch_spans(group, hits), strict=True):
                i = rows[at]
                results[i].append(make((terms[term], start, end, texts[i][start:end])))
        if any(group.readings() for group in batch.joined):
            return [_once(found) if len(found) > 1 else found for found in results]
        return results

    def match_batch(self, texts: list[str]) -> list[list[KeywordMatch]]:
        """Normalise and match many texts; the same as match() one by one, faster."""
        if len(texts) == 1:
            # The fleet's request: a batch of one is match() of it, without the
            # batch's bookkeeping.
            return [self.match(texts[0])]
        return self.find_batch(normalize_batch(texts, self.options))

    def _group_hits(self, group: JoinedTexts | PlainTexts) -> list[tuple[int, int, int]]:
        if isinstance(group, PlainTexts):
            return self._plain_hits(group.marked(), (group.text,))
        marked = group.marked() if self.boundary is not None else None
        return self._hits(group.norm.text, marked)

    def _hits(self, text: str, marked: str | None = None) -> list[tuple[int, int, int]]:
        # `marked`: marked_text(text), when the caller has it.
        if len(text) >= VECTORISE_FROM:
            return self._hits_vectorised(text, marked)
        return self._hits_loop(text, marked)

    def _hits_loop(self, text: str, marked: str | None = None) -> list[tuple[int, int, int]]:
        hits, allowed = self._boundary_hits(text, marked)
        if self._plain_needed(text, hits):
            self._plain_loop(text, hits, allowed)
            hits.sort(key=_by_end)
        return _drop_allowed(hits, allowed) if allowed and hits else hits

    def _hits_vectorised(self, text: str, marked: str | None = None) -> list[tuple[int, int, int]]:
        hits, allowed = self._boundary_hits(text, marked)
        if self._plain_needed(text, hits):
            more, more_allowed = self._plain_vectorised(text)
            hits = sorted(hits + more, key=_by_end)
            allowed += more_allowed
        if allowed and hits:
            return _drop_contained(hits, allowed)
        return hits

    def _boundary_hits(self, text: str, marked: str | None) -> tuple[list, list]:
        hits: list[tuple[int, int, int]] = []
        allowed: list[tuple[int, int]] = []
        if self.boundary is not None:
            self.boundary.scan(text, hits, allowed, marked)
            if len(hits) > 1:
                # Keys that share a marked form end at different places: restore
                # the plain automaton's order (mostly sorted already, so cheap).
                hits.sort(key=_by_end)
        return hits, allowed

    def _plain_needed(self, text: str, hits: list) -> bool:
        # With boundary keys, the plain automaton holds only keys in scripts
        # without spaces: a text without such characters cannot hold one.
        if not self._info:
            return False
        if self.boundary is None:
            return True
        # The regex tests every character: run it on the non-ASCII ones only.
        return not text.isascii() and NO_SPACE_SCRIPTS.search(non_ascii_chars(text)) is not None

    def _plain_loop(self, text: str, hits: list, allowed: list) -> None:
        last = len(text) - 1
        info = self._info
        for end, key in self.automaton.iter(text):
            length, term, allow, check_start, check_end = info[key]
            start = end - length + 1
            # ASCII neighbours are tested inline: this loop runs once per raw hit.
            if check_start and start > 0:
                c = text[start - 1]
                if c.isalnum() if c < "\x80" else needs_boundary(c):
                    continue
            if check_end and end < last:
                c = text[end + 1]
                if c.isalnum() if c < "\x80" else needs_boundary(c):
                    continue
            if term >= 0:
                hits.append((start, end + 1, term))
            if allow >= 0:
                allowed.append((start, end + 1))

    def _plain_vectorised(self, text: str) -> tuple[list, list]:
        flat = itertools.chain.from_iterable(self.automaton.iter(text))
        raw = np.fromiter(flat, dtype=np.int64).reshape(-1, 2)
        ends, keys = raw[:, 0], raw[:, 1]
        starts = ends - self._length[keys] + 1
        joins, last = word_chars(text), len(text) - 1
        bad_start = self._check_start[keys] & (starts > 0) & joins[np.maximum(starts - 1, 0)]
        bad_end = self._check_end[keys] & (ends < last) & joins[np.minimum(ends + 1, last)]
        ok = ~(bad_start | bad_end)
        is_term = ok & (self._term[keys] >= 0)
        hits = np.stack([starts[is_term], ends[is_term] + 1, self._term[keys[is_term]]], axis=1)
        is_allow = ok & (self._allow[keys] >= 0)
        allowed = np.stack([starts[is_allow], ends[is_allow] + 1], axis=1)
        return [tuple(h) for h in hits.tolist()], [tuple(a) for a in allowed.tolist()]

    def _match(self, norm: NormalizedText, start: int, end: int, term: int) -> KeywordMatch:
        a, b = norm.span(start, end)
        return KeywordMatch._make((self.keyword_set.terms[term], a, b, norm.original[a:b]))

    def _plain_hits(self, marked: str, normalised: tuple) -> list[tuple[int, int, int]]:
        # _hits of ASCII text that the fast path takes (normalize/plain.py), from its
        # marked text; `normalised`: (function, *arguments) giving the normalised text.
        if self.boundary is None:
            return self._hits(normalised[0](*normalised[1:]))
        # Only boundary keys can match ASCII text, and the normalised text is
        # needed only to check a key on a hit.
        hits, allowed = [], []
        self.boundary.scan_marked(marked, hits, allowed, normalised)
        if len(hits) > 1:
            hits.sort(key=_by_end)
        if allowed and hits:
            return _drop_allowed(hits, allowed)
        return hits

    def _match_plain(self, text: str, taken: Taken) -> list[KeywordMatch]:
        # match() of a text the fast path takes (normalize/plain.py).
        encoded, marked, flags = taken
        hits = self._plain_hits(marked, (self._plain.folded, encoded, flags))
        if not hits:
            return []
        terms, make = self.keyword_set.terms, KeywordMatch._make
        if flags is None:
            # Folded one for one: spans need no map.
            return [make((terms[t], a, b, text[a:b])) for a, b, t in hits]
        spans = squeezed_spans(flags, len(encoded), [(a, b) for a, b, _ in hits])
        return [make((terms[h[2]], a, b, text[a:b])) for h, (a, b) in zip(hits, spans, strict=True)]

    def match(self, text: str) -> list[KeywordMatch]:
        """Normalise `text` with this set's options and return its matches."""
        taken = self._plain.take(text)
        if taken is not None:
            # The common prompt: nothing in it needs the general path.
            return self._match_plain(text, taken)
        return self.find(normalize(text, self.options))


def _batch_spans(group: JoinedTexts | PlainTexts, hits: list) -> tuple[list, list, list]:
    # Normalised spans to spans of the joined original, then to (row, local span).
    flat = np.fromiter(itertools.chain.from_iterable(hits), np.int64, 3 * len(hits))
    starts, ends = group.spans(flat[0::3], flat[1::3])
    at = np.searchsorted(group.offsets, starts, side="right") - 1
    base = group.offsets[at]
    return (starts - base).tolist(), (ends - base).tolist(), at.tolist()


def _once(found: list[KeywordMatch]) -> list[KeywordMatch]:
    # Both readings of a split word may match the same term on the same
    # original characters (in substring mode): that is one match.
    return list(dict.fromkeys(found))


# The automaton's order: by end, and at one end the longest match first.
_by_end = operator.itemgetter(1, 0)


def _drop_allowed(hits: list, allowed: list) -> list[tuple[int, int, int]]:
    if len(allowed) * len(hits) > 10_000:
        return _drop_contained(hits, allowed)
    return [h for h in hits if not any(a <= h[0] and h[1] <= b for a, b in allowed)]


def _drop_contained(hits: list, allowed: list) -> list[tuple[int, int, int]]:
    array = np.array(hits, dtype=np.int64).reshape(-1, 3)
    spans = np.array(allowed, dtype=np.int64).reshape(-1, 2)
    keep = ~_contained(array, spans[:, 0], spans[:, 1])
    return [hit for hit, kept in zip(hits, keep.tolist(), strict=True) if kept]


def _contained(hits: np.ndarray, allow_starts: np.ndarray, allow_ends: np.ndarray) -> np.ndarray:
    # A hit lies inside an allow-listed match when, among the allow matches
    # starting at or before it, the furthest-reaching one ends at or after it.
    order = np.argsort(allow_starts, kind="stable")
    starts, reach = allow_starts[order], np.maximum.accumulate(allow_ends[order])
    before = np.searchsorted(starts, hits[:, 0], side="right") - 1
    return (before >= 0) & (reach[np.maximum(before, 0)] >= hits[:, 1])


def explain_matches(matches: list[KeywordMatch]) -> dict[str, Any]:
    """Return the explanation of a keyword rule: the first matches and how many there were."""
    return {
        "match_count": len(matches),
        "matches": [m.as_dict() for m in matches[:MAX_EXPLAINED_MATCHES]],
    }
