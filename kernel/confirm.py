"""The words of the one confirmation page (templates/confirm.html) that every destructive
action shows before it acts: the view says what, the page says it the same way everywhere."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page asks, what will happen, the button that does it, and where
    Cancel goes; the page's form posts back to the page's own URL."""

    title: str
    question: str
    consequence: str
    button: str
    cancel_url: str
    hidden: dict[str, object] = field(default_factory=dict)  # posted back with the form
    notice: str = ""  # a partial shown above the consequence (the policy pages' stale notice)
    testid: str = "confirm"  # the submit button's data-testid
