"""Separators: single letters split by separators (``s.e.x``, ``s e x``,
``s-e-x``; with any_separators also ``n*u_d/e``, ``n, u, d, e``) are joined
back into the word they spell; with one_letter_words, a split word next to a
one-letter word is read both ways (``a n.u.d.e``: "anude" and "a nude")."""

from __future__ import annotations

import functools
import itertools
import re

import numpy as np

from moderation.engine.match_options import MatchOptions
from moderation.engine.normalize.leetspeak import LEET_SYMBOLS, MORE_LEET_SYMBOLS
from moderation.engine.normalize.unicode import non_ascii_chars

# Separators between single letters. Commas and semicolons are not among
# them: "a, b, c" is a list, not a spelled-out word.
SEPARATOR_CHARS = " \t\n\r\f\v.-_*·•~/\\|'`^=:\u00a0\u3000"
# Joins the texts of a batch (textbatch.JOIN_CHAR) and the readings of a split
# word (READING_MARK): never a separator, so no split word spans two of them.
_NEVER_SEPARATORS = "\x00\x02"
# Shapes at least this long are searched with numpy first (see split_candidates).
SHAPE_VECTORISE_FROM = 2048


class Splitter:
    """What separates the single letters of a split word: a character class and a longest run.

    The shape of a text is one byte per character: letters and digits read
    'a', separators '.', other ASCII ' ', and any other non-ASCII character
    '?' (a letter or not; the non-ASCII separators are mapped to '.' first).
    The middle of a split word then shows as ".a.a", ".a..a" (or with '?' for
    letters), which a bytes pattern starting with a literal spots ten times
    faster than the full Unicode pattern scans; the full pattern then runs
    only where the shape says.
    """

    def __init__(
        self,
        separator: str,
        max_run: int,
        is_separator,
        non_ascii_separator: str,
        letters: str = "",
    ):
        self.max_run = max_run
        # `letters`: leetspeak symbols that stand for a letter of a split word
        # ("n-@-k-€-d", "$.u.i.c.i.d.e"); symbol folding reads them afterwards.
        self.letters = letters
        self.word_re = re.compile(_word_pattern(separator, max_run, letters))
        self.is_separator = is_separator
        self.shape_re = re.compile(rb"\.[a?]\.{1,%d}[a?](?!a)" % max_run)
        shapes = [self._shape(chr(i)) for i in range(128)]
        self.ascii_shape_bytes = "".join(shapes).encode() + b"?" * 128
        # Non-ASCII texts are encoded with '?' for each non-ASCII character.
        shapes[ord("?")] = "?"
        self.mixed_shape_bytes = "".join(shapes).encode() + b"?" * 128
        self.non_ascii_separator_re = _one_char_re(non_ascii_separator)

    def _shape(self, char: str) -> str:
        # A symbol letter reads '?' (a letter maybe), like a non-ASCII character:
        # "x!" still ends a split word at 'x', "n-@-k" is one.
        if char in self.letters:
            return "?"
        return "a" if char.isalnum() else "." if self.is_separator(char) else " "

    def is_unit(self, char: str) -> bool:
        """Return whether `char` is one of a split word's letters (not a separator)."""
        return char.isalnum() or char in self.letters


def _word_pattern(separator: str, max_run: int, letters: str) -> str:
    # At least three single letters joined by separator runs: two letters
    # ("e.g.", "i.e.") are too often ordinary text.
    gap = f"(?:{separator}){{1,{max_run}}}"
    if not letters:
        return rf"(?<![^\W_])[^\W_](?:{gap}[^\W_](?![^\W_])){{2,}}"
    # With symbol letters, two of the letters at least are letters or digits:
    # "@-$-!" and "a-@-$" are decoration, not a word.
    symbol = "[" + re.escape(letters) + "]"
    unit = rf"(?:[^\W_]|{symbol})"
    two = rf"(?=(?:{symbol}{gap})*[^\W_]{gap}(?:{symbol}{gap})*[^\W_](?![^\W_]))"
    return rf"(?<![^\W_]){two}{unit}(?:{gap}{unit}(?![^\W_])){{2,}}"


def _strict_separator(char: str) -> bool:
    return char in SEPARATOR_CHARS


def _any_separator(char: str) -> bool:
    return not char.isalnum() and char not in _NOT_ANY_SEPARATORS


# Leetspeak symbols are letters in disguise ("n@k€d"), so they do not count as
# separators (those already among SEPARATOR_CHARS, such as '|', still do).
_LEET_NOT_SEPARATORS = "".join(
    sorted(set(LEET_SYMBOLS).union(MORE_LEET_SYMBOLS).difference(SEPARATOR_CHARS))
)
_NOT_ANY_SEPARATORS = _NEVER_SEPARATORS + _LEET_NOT_SEPARATORS


_NON_ASCII_SEPARATORS = "".join(c for c in SEPARATOR_CHARS if c > "\x7f")
_STRICT_SEPARATOR = "[" + re.escape(SEPARATOR_CHARS) + "]"
# Any character but a letter or digit (punctuation, symbols, spaces), in runs
# of up to five ("n*u_d/e", "n, u, d, e", "n . - u"): longer runs are
# layout rather than a spelled-out word.
_NOT_ANY = re.escape(_NOT_ANY_SEPARATORS)
_ANY_SEPARATOR = rf"(?![{_NOT_ANY}])[\W_]"
_ANY_NON_ASCII = rf"[?]|(?![{_NOT_ANY}])[^\w\x00-\x7f]"


def _one_char_re(pattern: str) -> re.Pattern[str]:
    """Compile `pattern`, which matches one character, '?' or non-ASCII, for fast scans."""
    if any(re.match(pattern, chr(i)) for i in range(128) if chr(i) != "?"):
        raise ValueError(f"{pattern!r} matches ASCII other than '?'")
    # The leading class lets the regex skip ASCII at C speed (five times faster
    # on prompts than trying `pattern` at each character); the lookbehind then
    # tests the character just taken.
    return re.compile(rf"[?\x80-\U0010ffff](?<=(?:{pattern}))")


# The separators named above, in runs of one to three.
STRICT = Splitter(_STRICT_SEPARATOR, 3, _strict_separator, f"[{_NON_ASCII_SEPARATORS}]")
ANY = Splitter(_ANY_SEPARATOR, 5, _any_separator, _ANY_NON_ASCII)
SPLIT_WORD_RE = STRICT.word_re
SPLIT_SHAPE_RE = STRICT.shape_re


def splitter_for(options: MatchOptions) -> Splitter:
    """Return the splitter the options ask for: its separators, and the leetspeak symbols
    that count as letters of a split word when symbols are folded."""
    return _splitter(options.any_separators, options.leetspeak, options.leet_symbols)


@functools.cache
def _splitter(any_separators: bool, leetspeak: bool, leet_symbols: bool) -> Splitter:
    plain = ANY if any_separators else STRICT
    symbols = set(LEET_SYMBOLS if leetspeak else ()) | set(
        MORE_LEET_SYMBOLS if leet_symbols else ()
    )
    letters = "".join(sorted(symbols.difference(SEPARATOR_CHARS)))
    if not letters:
        return plain
    if any_separators:
        return Splitter(_ANY_SEPARATOR, 5, _any_separator, _ANY_NON_ASCII, letters)
    return Splitter(_STRICT_SEPARATOR, 3, _strict_separator, f"[{_NON_ASCII_SEPARATORS}]", letters)


def text_shape(text: str, splitter: Splitter = STRICT) -> bytes:
    """Return the shape of `text`, one byte per character (see Splitter)."""
    # str.translate with a dict is slow on long texts; bytes.translate is not.
    if text.isascii():
        return text.encode("ascii").translate(splitter.ascii_shape_bytes)
    # '?' stands for every non-ASCII character once encoded: a '?' that is a
    # separator becomes '.' first, with the non-ASCII separators. The search
    # looks at the non-ASCII characters only, much faster on long texts.
    separators = splitter.non_ascii_separator_re
    if separators.search(non_ascii_chars(text)) or (splitter.is_separator("?") and "?" in text):
        text = separators.sub(".", text)
    return text.encode("ascii", "replace").translate(splitter.mixed_shape_bytes)


def split_shape(raw: bytes, options: MatchOptions) -> list[int]:
    """Return where folded ASCII bytes may hold a split word, when separators are joined."""
    if options.ignore_separators:
        splitter = splitter_for(options)
        return split_candidates(raw.translate(splitter.ascii_shape_bytes), splitter)
    return []


def split_candidates(shape: bytes, splitter: Splitter = STRICT) -> list[int]:
    """Return, in order, every position at which the splitter's shape_re matches `shape`."""
    shape_re = splitter.shape_re
    if len(shape) < SHAPE_VECTORISE_FROM:
        found, pos = [], 0
        while (candidate := shape_re.search(shape, pos)) is not None:
            found.append(pos := candidate.start())
            pos += 1
        return found
    # Long shapes: the regex would stop at every separator. A match holds two
    # letters ('a', or '?' for a non-ASCII character) each with a separator
    # before it and no ASCII letter after it, two to max_run + 1 places apart
    # with only separators between: numpy finds such pairs, the regex confirms.
    codes = np.frombuffer(shape + b" ", dtype=np.uint8)
    strict = codes == ord("a")
    letter = strict | (codes == ord("?")) if b"?" in shape else strict
    single = np.flatnonzero(letter[1:-1] & (codes[:-2] == ord(".")) & ~strict[2:]) + 1
    gaps = np.diff(single)
    firsts = single[:-1][(gaps >= 2) & (gaps <= splitter.max_run + 1)] - 1
    return [at for at in firsts.tolist() if shape_re.match(shape, at)]


def split_words(
    text: str, candidates: list[int] | None = None, splitter: Splitter = STRICT
) -> list[re.Match[str]]:
    """Return the splitter's word_re matches of `text`, as finditer would, but found from the
    candidates of its shape (`candidates`: split_candidates of it, when the caller has them)."""
    if candidates is None:
        candidates = split_candidates(text_shape(text, splitter), splitter)
    found: list[re.Match[str]] = []
    done = pos = 0
    for at in candidates:
        if at < pos:
            continue
        match = _split_word_at(text, max(done, at - splitter.max_run), at + 2, splitter)
        if match is None:
            pos = at + 1  # candidates may overlap
        else:
            found.append(match)
            done = pos = match.end()
    return found


def _split_word_at(text: str, lo: int, hi: int, splitter: Splitter) -> re.Match[str] | None:
    # The split word's first letter is one to max_run separators before the
    # candidate's second letter, or is that letter itself.
    for start in range(lo, hi):
        match = splitter.word_re.match(text, start)
        if match:
            return match
    return None


def join_split_words(
    text: str,
    candidates: list[int] | None = None,
    splitter: Splitter = STRICT,
    readings: bool = False,
) -> tuple[str, np.ndarray | None]:
    """Return `text` with its split words joined, and per output character the index of
    `text` it came from (None when nothing was joined). With `readings`, a split word next
    to a one-letter word is followed by its second reading (see two_readings)."""
    matches = split_words(text, candidates, splitter)
    if not matches:
        return text, None
    if readings:
        words = [two_readings(text, match, splitter) for match in matches]
        if any(word is not None for word in words):
            return _join_with_readings(text, matches, words, splitter)
    drops = [
        match.start() + offset
        for match in matches
        for offset, char in enumerate(match.group())
        if not splitter.is_unit(char)
    ]
    pieces = [text[a + 1 : b] for a, b in itertools.pairwise([-1, *drops, len(text)])]
    keep = np.ones(len(text), dtype=bool)
    keep[drops] = False
    return "".join(pieces), np.flatnonzero(keep)


# Stands between the two readings of a split word: not a word character, not a
# separator, and in no term (terms refuse control characters).
READING_MARK = "\x02"


def two_readings(
    text: str, match: re.Match[str], splitter: Splitter = STRICT
) -> tuple[str, list[int]] | None:
    """Return the split word `match` read both ways, when its first or last letter may be
    a one-letter word ("a n.u.d.e", "n u d e a"): the letters joined, then after
    READING_MARK each reading with the one-letter words apart ("anude" READING_MARK
    "a nude"), with the index of `text` each character came from; None when there is one
    reading only."""
    letters = [at for at in range(match.start(), match.end()) if splitter.is_unit(text[at])]
    # A one-letter word is set apart by a space, and leaves three letters or more.
    lead = _has_space(text, letters[0], letters[1])
    trail = _has_space(text, letters[-2], letters[-1])
    splits = [(1, 0)] * lead + [(0, 1)] * trail + [(1, 1)] * (lead and trail)
    splits = [(a, b) for a, b in splits if len(letters) - a - b >= 3]
    if not splits:
        return None
    indices = list(letters)
    for first, last in splits:
        middle = letters[first : len(letters) - last]
        indices.append(letters[0] + 1)  # READING_MARK, at the first separator
        indices += [letters[0], letters[0] + 1] * first + middle
        indices += [letters[-2] + 1, letters[-1]] * last
    chars = [text[at] for at in indices]
    for at in range(len(letters), len(indices)):
        if not splitter.is_unit(text[indices[at]]):
            # The separator before and after a one-letter word reads as a space.
            chars[at] = " "
    mark = len(letters)
    for first, last in splits:
        chars[mark] = READING_MARK
        mark += 1 + 2 * first + len(letters) - first - last + 2 * last
    return "".join(chars), indices


def _has_space(text: str, before: int, after: int) -> bool:
    return any(char.isspace() for char in text[before + 1 : after])


def _join_with_readings(
    text: str, matches: list, words: list, splitter: Splitter
) -> tuple[str, np.ndarray]:
    pieces: list[str] = []
    indices: list[np.ndarray] = []
    pos = 0
    for match, word in zip(matches, words, strict=True):
        pieces.append(text[pos : match.start()])
        indices.append(np.arange(pos, match.start()))
        if word is None:
            kept = [at for at in range(match.start(), match.end()) if splitter.is_unit(text[at])]
            word = ("".join(text[at] for at in kept), kept)
        pieces.append(word[0])
        indices.append(np.array(word[1], dtype=np.int64))
        pos = match.end()
    pieces.append(text[pos:])
    indices.append(np.arange(pos, len(text)))
    return "".join(pieces), np.concatenate(indices).astype(np.int64)
