"""Problems found in a policy YAML: each one names where it is and what to do."""

from dataclasses import dataclass

from kernel.errors import ApplicationError

MAX_LISTED_PROBLEMS = 1000


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the YAML (or the zip beside it), at a path like rules.keywords[2]."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def as_dict(self) -> dict:
        return {"path": self.path, "message": self.message}


class PolicyYamlError(ApplicationError):
    """The YAML was refused; `extra["problems"]` lists every problem found, with its path."""

    def __init__(self, problems: list[Problem]):
        listed = problems[:MAX_LISTED_PROBLEMS]
        if len(problems) > len(listed):
            more = len(problems) - len(listed)
            listed.append(Problem("", f"… and {more:,} more problems not listed."))
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        first = f" The first: {problems[0]}." if problems else ""
        super().__init__(
            f"The policy YAML has {count:,} {noun}; nothing was imported.{first} "
            "Fix them all (each names its place in the file) and import again.",
            extra={"problems": [p.as_dict() for p in listed]},
        )
        self.problems = listed


def join(path: str, key: str | int) -> str:
    """`rules` + `keywords` -> `rules.keywords`; `rules.keywords` + 2 -> `rules.keywords[2]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key
