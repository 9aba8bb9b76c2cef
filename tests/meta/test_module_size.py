"""No Python module passes 400 lines (migrations excepted): past that, it becomes a package."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400
SKIPPED = {"migrations", "var", "node_modules"}


def modules() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*.py")
        if not any(part.startswith(".") or part in SKIPPED for part in path.relative_to(ROOT).parts)
    ]


def test_modules_are_found():
    assert ROOT / "moderation" / "engine" / "normalize" / "pipeline.py" in modules()


def test_no_module_passes_the_limit():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules()
        if (lines := len(path.read_text().splitlines())) > LIMIT
    }
    assert long == {}, f"split these into packages (over {LIMIT} lines): {long}"
