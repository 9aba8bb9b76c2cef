"""The category threshold table's rows: a catalogue category, the policy's setting, the floor."""

from dataclasses import dataclass, field

from policy_admin.forms.policies import ThresholdForm
from policy_admin.models import CategoryThreshold
from policy_admin.selectors import catalogue


@dataclass
class ThresholdRow:
    """One row of the table: a category and the policy's threshold for it, if any."""

    entry: object
    threshold: CategoryThreshold | None
    form: ThresholdForm
    floors: list = field(default_factory=list)
    stale: str = ""

    @property
    def key(self) -> str:
        return f"{self.entry.id.replace('/', '-')}-{self.threshold.pk if self.threshold else 'new'}"

    @property
    def applies_choices(self):
        allowed = {"both", self.entry.applies_to} if self.entry.applies_to != "both" else None
        field_choices = self.form.fields["applies_to"].choices
        return [(v, label) for v, label in field_choices if allowed is None or v in allowed]

    @property
    def levels(self) -> list[tuple]:
        return [
            (self.form["review_at"], "review_at", "Review at"),
            (self.form["block_at"], "block_at", "Block at"),
        ]

    @property
    def bands(self) -> tuple[str, str, str]:
        """Widths in percent of the allow, review and block bands of the ladder bar."""
        review, block = (_score(self.form[name].value()) for name in ("review_at", "block_at"))
        low, high = min(review, block), max(review, block)
        return tuple(f"{width * 100:.1f}" for width in (low, high - low, 1 - high))


def row_form(entry, threshold: CategoryThreshold | None, revision: int) -> ThresholdForm:
    source = threshold or entry
    initial = {
        "threshold": threshold.pk if threshold else None,
        "category": entry.id,
        "applies_to": source.applies_to,
        "review_at": source.review_at,
        "block_at": source.block_at,
        "enabled": threshold.enabled if threshold else True,
        "revision": revision,
    }
    return ThresholdForm(initial=initial)


def threshold_rows(policy, thresholds, floor: dict, bound: ThresholdRow | None = None) -> list:
    """Groups per catalogue category: its floor entries and its rows (an unset row when none)."""
    groups = []
    for entry in catalogue.categories():
        floors = floors_for(entry, floor)
        mine = [t for t in thresholds if t.category == entry.id] or [None]
        rows = [ThresholdRow(entry, t, row_form(entry, t, policy.revision), floors) for t in mine]
        if bound is not None:
            rows = [bound if r.key == bound.key else r for r in rows]
        groups.append({"entry": entry, "floors": floors, "rows": rows})
    return groups


def _score(value) -> float:
    try:
        return min(max(float(value), 0.0), 1.0)
    except (TypeError, ValueError):
        return 0.0


def floors_for(entry, floor: dict) -> list:
    return [f for f in floor["categories"] if f.category == entry.id]
