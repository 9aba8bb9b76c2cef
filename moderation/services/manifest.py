"""Reading an uploaded sample archive: a zip (or bare file) with a CSV or JSONL manifest.

Guarantees: nothing is extracted to disk; member names that escape the archive
(`..`, absolute paths, backslashes) are never opened; each member is read with a
byte cap, so a zip bomb costs at most the cap; every row comes back either as a
parsed `Row` or with a reason a person can act on.
"""

import csv
import io
import json
import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from kernel.errors import ApplicationError

MAX_ARCHIVE_BYTES = 200 * 2**20
MAX_MEMBER_BYTES = 10 * 2**20
MAX_TOTAL_UNCOMPRESSED = 1 * 2**30
MAX_COMPRESSION_RATIO = 200
MAX_ROWS = 10_000
COLUMNS = ("id", "prompt", "image", "expected_action", "expected_categories", "tags", "notes")
REQUIRED = ("id", "expected_action")
MANIFEST_NAMES = ("manifest.csv", "manifest.jsonl")
_LIST_SPLIT = re.compile(r"[;|,]")


@dataclass
class Row:
    """One manifest row, its fields as text or lists, and its 1-based line in the manifest."""

    number: int
    fields: dict = field(default_factory=dict)
    error: str = ""


class Archive:
    """Members of an uploaded zip, read only by safe names and with a byte cap."""

    def __init__(self, data: bytes, file_name: str):
        if len(data) > MAX_ARCHIVE_BYTES:
            raise ApplicationError(
                f"{file_name} is {len(data) / 2**20:.0f} MiB; an import takes at most "
                f"{MAX_ARCHIVE_BYTES // 2**20} MiB. Split it into several archives."
            )
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise ApplicationError(f"{file_name} is not a readable zip archive.") from None
        self.members = {info.filename: info for info in self.zip.infolist() if not info.is_dir()}
        declared = sum(info.file_size for info in self.members.values())
        if declared > MAX_TOTAL_UNCOMPRESSED:
            raise ApplicationError(
                f"{file_name} unpacks to {declared / 2**30:.1f} GiB; at most "
                f"{MAX_TOTAL_UNCOMPRESSED // 2**30} GiB is accepted."
            )

    def manifest(self) -> tuple[str, bytes]:
        """The manifest's name and bytes; the archive must hold exactly one at its root."""
        found = [name for name in MANIFEST_NAMES if name in self.members]
        if len(found) != 1:
            raise ApplicationError(
                "The archive needs exactly one manifest at its root: manifest.csv or "
                f"manifest.jsonl (found {', '.join(found) or 'neither'})."
            )
        return found[0], self.read(found[0])

    def read(self, name: str) -> bytes:
        """A member's bytes; raises ValueError with a reason when the name or size is refused."""
        clean = safe_member_name(name)
        info = self.members.get(clean)
        if info is None:
            raise ValueError(f"the archive holds no file {name!r}")
        if info.file_size > MAX_MEMBER_BYTES:
            raise ValueError(
                f"{name} is {info.file_size / 2**20:.1f} MiB unpacked; at most "
                f"{MAX_MEMBER_BYTES // 2**20} MiB per file"
            )
        if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
            raise ValueError(
                f"{name} is compressed {info.file_size // info.compress_size}:1, a zip bomb"
            )
        with self.zip.open(info) as handle:
            data = handle.read(MAX_MEMBER_BYTES + 1)  # declared sizes can lie
        if len(data) > MAX_MEMBER_BYTES:
            raise ValueError(f"{name} unpacks to more than {MAX_MEMBER_BYTES // 2**20} MiB")
        return data


def safe_member_name(name: str) -> str:
    """`name` as a relative path inside the archive; ValueError when it could escape it."""
    if not name or "\\" in name or name.startswith("/") or "\x00" in name:
        raise ValueError(f"the image path {name!r} is not a relative path inside the archive")
    clean = posixpath.normpath(name)
    if clean.startswith("../") or clean == ".." or "/../" in f"/{clean}/":
        raise ValueError(f"the image path {name!r} points outside the archive")
    return clean


def parse_manifest(name: str, data: bytes) -> list[Row]:
    """Rows of a CSV or JSONL manifest; a missing or unknown column refuses the whole file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError(f"{name} is not UTF-8 text.") from None
    rows = _csv_rows(name, text) if name.endswith(".csv") else _jsonl_rows(text)
    if len(rows) > MAX_ROWS:
        raise ApplicationError(
            f"{name} has {len(rows):,} rows; an import takes at most {MAX_ROWS:,}. Split it."
        )
    return rows


def _check_header(name: str, columns) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    unknown = [c for c in columns if c not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
        raise ApplicationError(f"{name}: {'; '.join(parts)}. The columns are {', '.join(COLUMNS)}.")


def _csv_rows(name: str, text: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    _check_header(name, [c.strip() for c in reader.fieldnames or []])
    rows = []
    for record in reader:
        number = reader.line_num
        record = {(k or "").strip(): v for k, v in record.items()}
        if None in record.values() or "" in record and record[""]:
            rows.append(Row(number, error="the row's number of fields differs from the header"))
            continue
        rows.append(Row(number, fields=_normalise(record)))
    return rows


def _jsonl_rows(text: str) -> list[Row]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            rows.append(Row(number, error=f"not valid JSON ({error.msg})"))
            continue
        if not isinstance(record, dict):
            rows.append(Row(number, error="each line must be a JSON object"))
            continue
        problem = _record_problem(record)
        rows.append(Row(number, error=problem) if problem else Row(number, _normalise(record)))
    return rows


def _record_problem(record: dict) -> str:
    missing = [c for c in REQUIRED if c not in record]
    unknown = [c for c in record if c not in COLUMNS]
    if missing:
        return f"missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    if unknown:
        return f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
    return ""


def _normalise(record: dict) -> dict:
    def text(key):
        value = record.get(key)
        return "" if value is None else str(value).strip()

    def items(key):
        value = record.get(key) or []
        if isinstance(value, str):
            value = _LIST_SPLIT.split(value)
        return [str(v).strip() for v in value if str(v).strip()]

    return {
        "id": text("id"),
        "prompt": text("prompt"),
        "image": text("image"),
        "expected_action": text("expected_action").lower(),
        "expected_categories": items("expected_categories"),
        "tags": items("tags"),
        "notes": text("notes"),
    }
