"""Keyword terms from pasted text or files: cleaned, deduplicated, every problem reported."""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from kernel.errors import ApplicationError
from moderation.engine.normalize import MatchOptions, normalize_term

MAX_TERMS_PER_SET = 200_000
MAX_TERM_LENGTH = 200
MAX_TERMS_FILE_BYTES = 20 * 2**20
MAX_REPORTED_PROBLEMS = 200


@dataclass(frozen=True)
class TermProblem:
    line: int
    term: str
    reason: str

    def __str__(self) -> str:
        shown = self.term if len(self.term) <= 40 else self.term[:40] + "…"
        return (
            f"line {self.line}: {self.reason} ({shown!r})"
            if self.term
            else (f"line {self.line}: {self.reason}")
        )


@dataclass(frozen=True)
class TermDuplicate:
    """A term dropped because it reads as a term kept before it (after the set's folding)."""

    line: int
    term: str
    kept: str
    # The line of the kept term; None when the set held it before this import.
    kept_line: int | None = None

    def __str__(self) -> str:
        same = "the same term as" if self.term == self.kept else "reads as"
        return f"line {self.line}: \u201c{self.term}\u201d {same} \u201c{self.kept}\u201d"


@dataclass
class TermsReport:
    """The clean terms, and what was dropped: duplicates (each naming the term kept), problems."""

    terms: list[str] = field(default_factory=list)
    duplicates: int = 0
    # The first MAX_REPORTED_PROBLEMS duplicates, each with the term it duplicates.
    duplicate_terms: list[TermDuplicate] = field(default_factory=list)
    problems: list[TermProblem] = field(default_factory=list)
    problem_count: int = 0

    def summary(self) -> str:
        parts = [f"{len(self.terms):,} terms"]
        if self.duplicates:
            parts.append(f"{self.duplicates:,} duplicates removed")
        if self.problem_count:
            parts.append(f"{self.problem_count:,} lines refused")
        return ", ".join(parts)


def terms_from_text(text: str) -> list[tuple[int, str]]:
    """Numbered lines of pasted text or a TXT file (one term per line)."""
    return list(enumerate(text.lstrip("\ufeff").splitlines(), start=1))


def terms_from_file(data: bytes, *, filename: str, column: str = "") -> list[tuple[int, str]]:
    """Numbered terms of an uploaded TXT (one per line) or CSV file (one column)."""
    if len(data) > MAX_TERMS_FILE_BYTES:
        raise ApplicationError(
            f"{filename} is {len(data) / 2**20:.1f} MB; a terms file may be at most "
            f"{MAX_TERMS_FILE_BYTES // 2**20} MB. Split it into several imports."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApplicationError(
            f"{filename} is not UTF-8 text (byte {exc.start} cannot be read). "
            "Save it as UTF-8 and upload it again."
        ) from None
    if filename.lower().endswith(".csv"):
        return _csv_column(text, filename=filename, column=column)
    return terms_from_text(text)


def _csv_column(text: str, *, filename: str, column: str) -> list[tuple[int, str]]:
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    if column:
        if column not in header:
            raise ApplicationError(
                f"{filename} has no column named {column!r}; its columns are "
                f"{', '.join(repr(h) for h in header) or 'none'}."
            )
        index = header.index(column)
        start = 2
    else:  # no column named: the first column, and the first row is a term too
        index, start = 0, 1
        rows = csv.reader(io.StringIO(text))
    return [(n, row[index] if index < len(row) else "") for n, row in enumerate(rows, start=start)]


def terms_clean(
    lines: Iterable[tuple[int, str]],
    *,
    existing: Iterable[str] = (),
    casefold: bool = True,
    options: MatchOptions | None = None,
) -> TermsReport:
    """Clean numbered raw terms, appended after `existing`, without duplicates.

    Duplicates (each naming the term it duplicates) are judged as the matcher
    will see them: after NFKC and, when the set folds case, case folding
    ("Sex" and "sex" are one term). With the set's `options`, the engine's own
    folding decides instead ("$ex" and "sex" are one term with leetspeak), and
    a term that folds to nothing or to one letter is refused: it would match
    almost every text.
    """
    report = TermsReport(terms=list(existing))
    key_of = (
        (lambda t: normalize_term(t, options).strip()) if options else (lambda t: _key(t, casefold))
    )
    seen: dict[str, tuple[str, int | None]] = {key_of(t): (t, None) for t in report.terms}
    for line, raw in lines:
        term, reason = _clean_one(raw)
        if reason:
            _refuse(report, TermProblem(line, raw.strip(), reason))
            continue
        key = key_of(term)
        if options is not None and len(key.replace(" ", "")) <= 1 and key != _key(term, True):
            folded = f"a single letter \u201c{key.strip()}\u201d" if key.strip() else "nothing"
            reason = (
                f"\u201c{term}\u201d folds to {folded} with this set's options; a one-letter "
                "term would match almost every text. Remove it or write it out."
            )
            _refuse(report, TermProblem(line, term, reason))
            continue
        if key in seen:
            report.duplicates += 1
            if len(report.duplicate_terms) < MAX_REPORTED_PROBLEMS:
                report.duplicate_terms.append(TermDuplicate(line, term, *seen[key]))
            continue
        seen[key] = (term, line)
        report.terms.append(term)
    if len(report.terms) > MAX_TERMS_PER_SET:
        raise ApplicationError(
            f"A keyword set holds at most {MAX_TERMS_PER_SET:,} terms; this would make it "
            f"{len(report.terms):,}. Split the list into several keyword sets."
        )
    return report


# Unicode category Cc is exactly these ranges; a regex scan is ~10x a per-character loop.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _clean_one(raw: str) -> tuple[str | None, str]:
    if _CONTROL.search(raw):
        return None, "control character"
    term = " ".join(raw.split())
    if not term:
        return None, "whitespace only" if raw else "empty term"
    if not term.isascii() and any(unicodedata.category(c) == "Cf" for c in term):
        return None, "invisible formatting character (zero-width or direction mark)"
    if len(term) > MAX_TERM_LENGTH:
        return None, f"longer than {MAX_TERM_LENGTH} characters"
    return unicodedata.normalize("NFC", term), ""


def _key(term: str, casefold: bool) -> str:
    folded = unicodedata.normalize("NFKC", term)
    return folded.casefold() if casefold else folded


def _refuse(report: TermsReport, problem: TermProblem) -> None:
    report.problem_count += 1
    if len(report.problems) < MAX_REPORTED_PROBLEMS:
        report.problems.append(problem)
