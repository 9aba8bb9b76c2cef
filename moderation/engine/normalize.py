"""Text normalisation for keyword matching, with a map back to the original text.

The pipeline, each step switchable per keyword set (see MatchOptions):

1. per character: NFKC, casefold, drop invisible characters (Unicode format
   characters: zero-width, bidi controls, tags, soft hyphen; variation
   selectors), fold homoglyphs to ASCII, fold leetspeak digits;
2. join single letters split by separators (``s.e.x``, ``s e x``, ``s-e-x``);
3. fold leetspeak symbols (``$``, ``@``, ``!``, ``|``, ``+``) inside words.

Every character of the normalised text remembers the span of the original
text it came from, so a match always maps back to the original characters.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from typing import NamedTuple

import numpy as np

from moderation.engine.homoglyphs import homoglyph_table, invisible_chars
from moderation.engine.match_options import MatchOptions

# Leetspeak digits fold to letters. '1' is ambiguous (i or l): rather than
# guess, 'l' and '1' both fold to 'i' in the text and in the terms alike, so
# "ki11", "kill" and "kiii" all read "kiii". '2' and '6' are left alone: they
# stand for letters too rarely to be worth the false matches in numbers.
LEET_CHARS = {
    "0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
}  # fmt: skip
# Symbols fold only when a letter or digit follows, so "sex!" stays "sex!"
# while "$ex" and "h!gh" read "sex" and "high".
LEET_SYMBOLS = {"@": "a", "$": "s", "!": "i", "|": "i", "+": "t"}
_SYMBOL_RE = re.compile(r"[@$!|+](?=[^\W_])")

# Separators between single letters. Commas and semicolons are not among
# them: "a, b, c" is a list, not a spelled-out word.
SEPARATOR_CHARS = " \t\n\r\f\v.-_*·•~/\\|'`^=:\u00a0\u3000"
_SEP = "[" + re.escape(SEPARATOR_CHARS) + "]"
# At least three single letters joined by one to three separator characters:
# two letters ("e.g.", "i.e.") are too often ordinary text.
_SPLIT_WORD_RE = re.compile(rf"(?<![^\W_])[^\W_](?:{_SEP}{{1,3}}[^\W_](?![^\W_])){{2,}}")
_NON_ASCII_RUN_RE = re.compile(r"[^\x00-\x7f]+")
_ASCII_BYTES = bytes(range(128))
# Non-ASCII texts shorter than this may fold with C-level translations (see
# _Folder.aligned); longer ones take the general path, whose numpy scans do
# better than regular expressions over megabytes.
ALIGNED_BELOW = 4096
_EXTRA_INVISIBLE = "\u034f" + "".join(chr(c) for c in range(0xFE00, 0xFE10))


class NormalizedText(NamedTuple):
    """A normalised text and, per normalised character, its span in the original."""

    original: str
    text: str
    starts: np.ndarray | None  # None: the normalised text is aligned 1:1 with the original
    ends: np.ndarray | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Return the original span [a, b) that normalised characters [start, end) came from."""
        if self.starts is None:
            return start, end
        return int(self.starts[start]), int(self.ends[end - 1])


@functools.cache
def _marks() -> frozenset[str]:
    marks = {chr(c) for c in range(0x300, 0x20000) if unicodedata.combining(chr(c))}
    # Hangul vowel and final jamo compose with the preceding jamo under NFKC.
    marks.update(chr(c) for c in range(0x1160, 0x1200))
    return frozenset(marks)


@functools.cache
def _combining_class() -> str:
    return "[" + re.escape("".join(sorted(_marks()))) + "]"


@functools.cache
def _cluster_re() -> re.Pattern[str]:
    return re.compile(r"." + _combining_class() + "*", re.S)


@functools.cache
def _ascii_table(casefold: bool, leetspeak: bool) -> dict[int, str]:
    table = {}
    for code in range(128):
        char = chr(code).lower() if casefold else chr(code)
        if leetspeak:
            char = LEET_CHARS.get(char, char)
        if char != chr(code):
            table[code] = char
    return table


@functools.cache
def _ascii_bytes(casefold: bool, leetspeak: bool) -> bytes:
    table = _ascii_table(casefold, leetspeak)
    return bytes(ord(table.get(i, chr(i))) if i < 128 else i for i in range(256))


def _shape(char: str) -> str:
    if char == "?":
        return "?"
    return "a" if char.isalnum() else "." if char in SEPARATOR_CHARS else " "


# Letters and digits read 'a', separators '.', other ASCII ' ', and any other
# non-ASCII character '?' (a letter or not; the non-ASCII separators are mapped
# to '.' first). The middle of a split word then shows as ".a.a", ".a..a" or
# ".a...a" (or with '?' for letters), which a bytes pattern starting with a
# literal spots ten times faster than the full Unicode pattern scans; the full
# pattern then runs only where the shape says.
_SHAPE_BYTES = "".join(_shape(chr(i)) for i in range(128)).encode() + b"?" * 128
_NON_ASCII_SEPARATOR_RE = re.compile("[" + "".join(c for c in SEPARATOR_CHARS if c > "\x7f") + "]")
_SPLIT_SHAPE_RE = re.compile(rb"\.[a?]\.{1,3}[a?](?!a)")
# Shapes at least this long are searched with numpy first (see _split_candidates).
SHAPE_VECTORISE_FROM = 2048


@functools.cache
def _char_table(homoglyphs: bool, leetspeak: bool) -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(c): None for c in invisible_chars()}
    table.update({ord(c): None for c in _EXTRA_INVISIBLE})
    if homoglyphs:
        table.update(homoglyph_table())
    if leetspeak:
        table.update({ord(k): v for k, v in LEET_CHARS.items()})
    return table


class _Folder:
    """Folds characters and short clusters under one set of options, with a cache."""

    _CACHE_LIMIT = 50_000

    def __init__(self, casefold: bool, nfkc: bool, leetspeak: bool, homoglyphs: bool) -> None:
        self.casefold, self.nfkc = casefold, nfkc
        self.ascii_table = _ascii_table(casefold, leetspeak)
        self.ascii_bytes = _ascii_bytes(casefold, leetspeak)
        self.table = _char_table(homoglyphs, leetspeak)
        self.cache: dict[str, str] = {}
        # Every character seen by fold_chars, as a str.translate table, and the
        # ones that do not fold to exactly one character.
        self.char_map: dict[int, str] = dict(self.ascii_table)
        self.seen: set[str] = {chr(i) for i in range(128)}
        self.uneven: set[str] = set()

    def fold(self, cluster: str) -> str:
        """Return the folded form of a base character with its combining marks."""
        folded = self.cache.get(cluster)
        if folded is None:
            folded = cluster.translate(self.table)
            if self.nfkc:
                folded = unicodedata.normalize("NFKC", folded)
            if self.casefold:
                folded = folded.casefold()
            # Folding again: NFKC and casefold can produce look-alikes or
            # invisible characters the first pass did not see.
            folded = folded.translate(self.table)
            if len(self.cache) < self._CACHE_LIMIT:
                self.cache[cluster] = folded
        return folded

    def aligned(self, text: str) -> bool:
        """Return whether fold_chars can fold `text`: no combining marks, and each character
        folds to exactly one (the table learns the characters it has not seen yet)."""
        others = non_ascii_chars(text)
        if not _marks().isdisjoint(others):
            return False
        missing = set(others).difference(self.seen)
        if missing:
            if len(self.seen) + len(missing) > self._CACHE_LIMIT:
                return False
            for char in missing:
                folded = self.fold(char)
                self.char_map[ord(char)] = folded
                if len(folded) != 1:
                    self.uneven.add(char)
            self.seen.update(missing)
        return self.uneven.isdisjoint(others)

    def fold_chars(self, text: str) -> str:
        """Return `text` (for which aligned() is true) folded character by character: ASCII
        as UTF-8 bytes, each non-ASCII run with one str.translate."""
        raw = text.encode("utf-8", "surrogatepass").translate(self.ascii_bytes)
        folded = raw.decode("utf-8", "surrogatepass")
        return _NON_ASCII_RUN_RE.sub(self._fold_run, folded)

    def _fold_run(self, run: re.Match[str]) -> str:
        return run.group().translate(self.char_map)


def non_ascii_chars(text: str) -> str:
    """Return the non-ASCII characters of `text`, in order."""
    # UTF-8 keeps ASCII as single bytes below 0x80 and every byte of any other
    # character above it: deleting the first leaves whole characters.
    raw = text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES)
    return raw.decode("utf-8", "surrogatepass")


@functools.cache
def _folder(casefold: bool, nfkc: bool, leetspeak: bool, homoglyphs: bool) -> _Folder:
    return _Folder(casefold, nfkc, leetspeak, homoglyphs)


def _fold_mixed(text: str, folder: _Folder) -> tuple[str, np.ndarray, np.ndarray]:
    parts: list[str] = []
    offsets = _Offsets()
    cluster_re = _cluster_re()
    pos = 0
    for run_start, run_end in _non_ascii_runs(text):
        # The ASCII character before the run goes with it: a combining mark
        # must stay with its base letter.
        first = run_start - 1 if run_start > pos else run_start
        _add_ascii(text, pos, first, folder, parts, offsets)
        if _marks().isdisjoint(text[first:run_end]):
            # No combining marks (the usual case): every character is a cluster.
            for at in range(first, run_end):
                folded = folder.fold(text[at])
                parts.append(folded)
                offsets.add(at, at + 1, len(folded))
        else:
            for cluster in cluster_re.finditer(text, first, run_end):
                folded = folder.fold(cluster.group())
                parts.append(folded)
                offsets.add(cluster.start(), cluster.end(), len(folded))
        pos = run_end
    _add_ascii(text, pos, len(text), folder, parts, offsets)
    return ("".join(parts), *offsets.arrays())


class _Offsets:
    """Collects each output character's original span; long ASCII stretches as numpy ranges."""

    _RANGE_FROM = 256

    def __init__(self) -> None:
        self.chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, start: int, end: int, count: int) -> None:
        """Record `count` output characters that all came from original [start, end)."""
        self.starts.extend([start] * count)
        self.ends.extend([end] * count)

    def add_identity(self, start: int, end: int) -> None:
        """Record output characters that map one to one onto original [start, end)."""
        if end - start < self._RANGE_FROM:
            self.starts.extend(range(start, end))
            self.ends.extend(range(start + 1, end + 1))
            return
        self._flush()
        self.chunks.append((np.arange(start, end), np.arange(start + 1, end + 1)))

    def _flush(self) -> None:
        if self.starts:
            self.chunks.append((np.array(self.starts, np.int64), np.array(self.ends, np.int64)))
            self.starts, self.ends = [], []

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the start and end arrays, one entry per output character."""
        self._flush()
        if len(self.chunks) == 1:
            return self.chunks[0]
        if not self.chunks:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return tuple(np.concatenate(c).astype(np.int64) for c in zip(*self.chunks, strict=True))


def _non_ascii_runs(text: str) -> list[tuple[int, int]]:
    if len(text) < 4096:
        return [m.span() for m in _NON_ASCII_RUN_RE.finditer(text)]
    # Long texts: numpy finds the runs ten times faster than the regex scans.
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    edges = np.diff(np.concatenate(([0], (codes > 127).view(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()
    return list(zip(starts, ends, strict=True))


def _add_ascii(text: str, start: int, end: int, folder, parts: list, offsets: _Offsets) -> None:
    if start < end:
        parts.append(_fold_ascii(text[start:end], folder))
        offsets.add_identity(start, end)


def _fold_ascii(text: str, folder: _Folder) -> str:
    return text.encode("ascii").translate(folder.ascii_bytes).decode("ascii")


def _text_shape(text: str) -> bytes:
    # str.translate with a dict is slow on long texts; bytes.translate is not.
    if not text.isascii() and _NON_ASCII_SEPARATOR_RE.search(non_ascii_chars(text)):
        text = _NON_ASCII_SEPARATOR_RE.sub(".", text)
    return text.encode("ascii", "replace").translate(_SHAPE_BYTES)


def _split_candidates(shape: bytes) -> list[int]:
    """Return, in order, every position at which _SPLIT_SHAPE_RE matches `shape`."""
    if len(shape) < SHAPE_VECTORISE_FROM:
        found, pos = [], 0
        while (candidate := _SPLIT_SHAPE_RE.search(shape, pos)) is not None:
            found.append(pos := candidate.start())
            pos += 1
        return found
    # Long shapes: the regex would stop at every separator. A match holds two
    # letters ('a', or '?' for a non-ASCII character) each with a separator
    # before it and no ASCII letter after it, two to four places apart with
    # only separators between: numpy finds such pairs, the regex confirms.
    codes = np.frombuffer(shape + b" ", dtype=np.uint8)
    strict = codes == ord("a")
    letter = strict | (codes == ord("?")) if b"?" in shape else strict
    single = np.flatnonzero(letter[1:-1] & (codes[:-2] == ord(".")) & ~strict[2:]) + 1
    gaps = np.diff(single)
    firsts = single[:-1][(gaps >= 2) & (gaps <= 4)] - 1
    return [at for at in firsts.tolist() if _SPLIT_SHAPE_RE.match(shape, at)]


def _split_words(text: str, candidates: list[int] | None = None) -> list[re.Match[str]]:
    # `candidates`: _split_candidates of the text's shape, when the caller has them.
    if candidates is None:
        candidates = _split_candidates(_text_shape(text))
    found: list[re.Match[str]] = []
    done = pos = 0
    for at in candidates:
        if at < pos:
            continue
        match = _split_word_at(text, max(done, at - 3), at + 2)
        if match is None:
            pos = at + 1  # candidates may overlap
        else:
            found.append(match)
            done = pos = match.end()
    return found


def _split_word_at(text: str, lo: int, hi: int) -> re.Match[str] | None:
    # The split word's first letter is one to three separators before the
    # candidate's second letter, or is that letter itself.
    for start in range(lo, hi):
        match = _SPLIT_WORD_RE.match(text, start)
        if match:
            return match
    return None


def _join_split_words(
    text: str, candidates: list[int] | None = None
) -> tuple[str, np.ndarray | None]:
    matches = _split_words(text, candidates)
    if not matches:
        return text, None
    drops = [
        match.start() + offset
        for match in matches
        for offset, char in enumerate(match.group())
        if char in SEPARATOR_CHARS
    ]
    pieces = [text[a + 1 : b] for a, b in itertools.pairwise([-1, *drops, len(text)])]
    keep = np.ones(len(text), dtype=bool)
    keep[drops] = False
    return "".join(pieces), np.flatnonzero(keep)


def normalize(text: str, options: MatchOptions) -> NormalizedText:
    """Normalise `text` under `options`, keeping a map back to the original spans."""
    folder = _folder(options.casefold, options.nfkc, options.leetspeak, options.homoglyphs)
    if text.isascii():
        return _normalize_ascii(text, folder, options)
    if len(text) < ALIGNED_BELOW and folder.aligned(text):
        # No combining marks and every character folds to one: C-level
        # translations, and the output stays aligned with the input.
        return _finish(text, folder.fold_chars(text), None, None, options)
    return _finish(text, *_fold_mixed(text, folder), options)


def normalize_aligned(text: str, options: MatchOptions) -> NormalizedText:
    """Normalise `text`, which folds one character for one (see _Folder.aligned), of any
    length; the same result as normalize()."""
    folder = _folder(options.casefold, options.nfkc, options.leetspeak, options.homoglyphs)
    if text.isascii():
        return _normalize_ascii(text, folder, options)
    return _finish(text, folder.fold_chars(text), None, None, options)


def _finish(text: str, folded: str, starts, ends, options: MatchOptions) -> NormalizedText:
    # The steps after per-character folding: split words, then leetspeak symbols.
    if options.ignore_separators:
        folded, kept = _join_split_words(folded)
        if kept is not None:
            starts, ends = (kept, kept + 1) if starts is None else (starts[kept], ends[kept])
    if options.leetspeak:
        folded = _fold_symbols(folded)
    return NormalizedText(text, folded, starts, ends)


def _normalize_ascii(text: str, folder: _Folder, options: MatchOptions) -> NormalizedText:
    # The common case, kept to a few C-level calls on bytes: most prompts are
    # short ASCII, where per-call overhead is most of the cost.
    raw = text.encode("ascii").translate(folder.ascii_bytes)
    folded = raw.decode("ascii")
    starts = ends = None
    if candidates := _split_shape(raw, options):
        folded, kept = _join_split_words(folded, candidates)
        if kept is not None:
            starts, ends = kept, kept + 1
    if _has_symbols(raw, options):
        folded = _fold_symbols(folded)
    return NormalizedText(text, folded, starts, ends)


def fold_ascii_plain(text: str, options: MatchOptions) -> str | None:
    """Return normalize(text).text for ASCII `text` when normalising only folds characters one
    for one (no split word to join, no leetspeak symbol), so spans need no map; else None."""
    raw = text.encode("ascii").translate(_ascii_bytes(options.casefold, options.leetspeak))
    if _split_shape(raw, options) or _has_symbols(raw, options):
        return None
    return raw.decode("ascii")


def _split_shape(raw: bytes, options: MatchOptions) -> list[int]:
    # Where folded ASCII bytes may hold a split word, when separators are joined.
    if options.ignore_separators:
        return _split_candidates(raw.translate(_SHAPE_BYTES))
    return []


def _has_symbols(raw: bytes, options: MatchOptions) -> bool:
    # Whether folded ASCII bytes hold a leetspeak symbol that may need folding.
    return options.leetspeak and (
        b"@" in raw or b"$" in raw or b"!" in raw or b"|" in raw or b"+" in raw
    )


def _fold_symbols(text: str) -> str:
    # The `in` tests are C-level scans, much faster than the regex on long texts.
    if not any(symbol in text for symbol in LEET_SYMBOLS) or _SYMBOL_RE.search(text) is None:
        return text
    return _SYMBOL_RE.sub(lambda m: LEET_SYMBOLS[m.group()], text)


def normalize_term(term: str, options: MatchOptions) -> str:
    """Normalise a keyword term with the same pipeline as the text it is matched against."""
    return normalize(term, options).text
