"""Example images from a zip beside the YAML, matched to the YAML by the sha256 of their bytes."""

import hashlib
import io
import zipfile
from dataclasses import dataclass

from kernel.uploads import MAX_IMAGE_BYTES
from policy_admin.policy_yaml.problems import Problem

MAX_ZIP_BYTES = 200 * 2**20
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_UNCOMPRESSED = 500 * 2**20
MAX_RATIO = 100  # images barely compress; a far higher ratio is a zip bomb


@dataclass(frozen=True)
class ZipImage:
    filename: str
    data: bytes


def zip_images(data: bytes, problems: list[Problem]) -> dict[str, ZipImage]:
    """Images of the zip by sha256 of their content; every refused entry becomes a Problem.

    Nothing is extracted to disk: entries are read in memory, each bounded by
    the per-image limit even when its header lies about its size.
    """
    if len(data) > MAX_ZIP_BYTES:
        problems.append(
            Problem(
                "zip",
                f"{len(data) / 2**20:.0f} MB; a zip of example images may "
                f"be at most {MAX_ZIP_BYTES // 2**20} MB",
            )
        )
        return {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [e for e in archive.infolist() if not e.is_dir()]
    except (zipfile.BadZipFile, OSError) as error:
        problems.append(Problem("zip", f"not a readable zip file ({error})"))
        return {}
    if not _sizes_ok(entries, problems):
        return {}
    found: dict[str, ZipImage] = {}
    for entry in entries:
        payload = _read(archive, entry, problems)
        if payload is not None:
            name = entry.filename.rsplit("/", 1)[-1]
            found.setdefault(hashlib.sha256(payload).hexdigest(), ZipImage(name, payload))
    return found


def _sizes_ok(entries, problems: list[Problem]) -> bool:
    if len(entries) > MAX_ZIP_ENTRIES:
        problems.append(Problem("zip", f"{len(entries):,} files; at most {MAX_ZIP_ENTRIES:,}"))
        return False
    total = sum(e.file_size for e in entries)
    if total > MAX_ZIP_UNCOMPRESSED:
        problems.append(
            Problem(
                "zip",
                f"unpacks to {total / 2**20:.0f} MB; at most {MAX_ZIP_UNCOMPRESSED // 2**20} MB",
            )
        )
        return False
    bad = [_entry_problem(e) for e in entries]
    problems.extend(p for p in bad if p)
    return not any(bad)


def _entry_problem(entry: zipfile.ZipInfo) -> Problem | None:
    name = entry.filename
    where = f"zip:{name}"
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        return Problem(where, "a path outside the archive (absolute or with ..); refused")
    if entry.file_size > MAX_IMAGE_BYTES:
        return Problem(
            where,
            f"{entry.file_size / 2**20:.1f} MB; an example image may be at "
            f"most {MAX_IMAGE_BYTES // 2**20} MB",
        )
    if entry.compress_size and entry.file_size / entry.compress_size > MAX_RATIO:
        return Problem(where, "compressed more than 100:1, like a zip bomb; refused")
    return None


def _read(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, problems) -> bytes | None:
    try:
        with archive.open(entry) as handle:
            payload = handle.read(MAX_IMAGE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as error:
        problems.append(Problem(f"zip:{entry.filename}", f"cannot be read ({error})"))
        return None
    if len(payload) > MAX_IMAGE_BYTES:
        problems.append(Problem(f"zip:{entry.filename}", "larger than its header says; refused"))
        return None
    return payload
