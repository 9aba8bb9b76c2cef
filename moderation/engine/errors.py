"""Errors the engine raises; each message says what was wrong and how to fix it."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the evaluation engine raises on purpose."""


class BundleError(EngineError):
    """A bundle (or data meant for one) is malformed; the message names the field path."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


class InputError(EngineError):
    """A prompt or image handed to the engine cannot be evaluated as given."""


class CatalogueError(EngineError):
    """The category catalogue file is malformed; the message names the field path."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


class ModelOutputError(EngineError):
    """A model returned something the engine cannot use (wrong shape, NaN, out of range)."""
