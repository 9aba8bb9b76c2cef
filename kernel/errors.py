"""The application error that domain code raises and the API turns into a 4xx."""


class ApplicationError(Exception):
    """A refusal a person can act on: the message says what was wrong and how to fix it."""

    status_code = 400

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """The request is valid but collides with the current state (a stale save, a duplicate)."""

    status_code = 409
