"""What the agent serves with and hands its observers: the active bundle, served decisions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from moderation.engine.compiled import CompiledBundle
from moderation.engine.decision import Decision
from moderation.engine.images import load_image
from moderation.engine.inputs import Item
from moderation.engine.recording import Memo
from moderation.fleet.refusal import Rejection


class NoActiveBundle(RuntimeError):
    """check() was called before any bundle was verified and activated."""


@dataclass(frozen=True)
class Active:
    """The bundle being served and what proves it: its ETag and signatures."""

    compiled: CompiledBundle
    etag: str
    signatures: str
    activated_at: float

    @property
    def version(self) -> int | None:
        return self.compiled.bundle.policy.version

    @property
    def sha256(self) -> str:
        return self.compiled.sha256

    @property
    def failure_mode(self) -> str:
        """What the bundle tells clients to do when no answer comes: "open" or "closed"."""
        return self.compiled.bundle.failure_mode


@dataclass(frozen=True)
class Shadow:
    """The candidate judged beside the enforced bundle on a share (`rate`) of requests."""

    compiled: CompiledBundle
    rate: float
    activated_at: float

    @property
    def version(self) -> int | None:
        return self.compiled.bundle.policy.version

    @property
    def sha256(self) -> str:
        return self.compiled.sha256


@dataclass(frozen=True)
class Served:
    """One decision the agent answered, as observers see it (after the caller got it)."""

    active: Active
    decision: Decision
    item: Item
    request_id: str | None
    # The encoded image as the caller sent it (its sha256 goes in the decision log), or None
    # when the caller passed a decoded image or none.
    image_bytes: bytes | None = None
    # The model outputs the enforced run computed (while a shadow is evaluated), which the
    # shadow's run reuses (moderation.engine.recording); None when not recorded.
    memo: Memo | None = None


class ServedBatch(Sequence[Served]):
    """The decisions of one engine call as observers see them; a `Served` is built on access.

    Serving pays for one of these per batch, not for a `Served` per decision: the decision
    log reads the columns (`decisions`) and builds a `Served` only for what it keeps.
    The columns are the agent's own, as long as `decisions` (or None), and are not changed
    after the batch is handed out.
    """

    __slots__ = ("active", "decisions", "items", "request_ids", "encoded", "memos")

    def __init__(
        self,
        active: Active,
        decisions: Sequence[Decision],
        items: Sequence[Item],
        request_ids: Sequence[str | None] | None = None,
        encoded: Sequence[bytes | None] | None = None,
        memos: Sequence[Memo | None] | None = None,
    ) -> None:
        self.active, self.decisions, self.items = active, decisions, items
        self.request_ids, self.encoded, self.memos = request_ids, encoded, memos

    def __len__(self) -> int:
        return len(self.decisions)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self.served(i) for i in range(*index.indices(len(self)))]
        return self.served(range(len(self))[index])

    def __iter__(self):
        return (self.served(i) for i in range(len(self.decisions)))

    def served(self, i: int, *, memo: bool = True) -> Served:
        """The `Served` of decision `i`; without the shadow's model outputs when not `memo`."""
        rid = self.request_ids[i] if self.request_ids is not None else None
        raw = self.encoded[i] if self.encoded is not None else None
        kept = self.memos[i] if memo and self.memos is not None else None
        return Served(self.active, self.decisions[i], self.items[i], rid, raw, kept)


Observer = Callable[[Sequence[Served]], None]


@dataclass(frozen=True)
class PollResult:
    """What one poll did: whether the active bundle changed and whether the poll failed."""

    changed: bool = False
    failed: bool = False
    refused: Rejection | None = None
    shadow_changed: bool = False
    shadow_refused: Rejection | None = None


def decoded(items: Sequence[Item]) -> list[Item]:
    """The items with encoded images decoded (the engine's load_image refuses bombs)."""
    return [
        Item(it.prompt, load_image(it.image))
        if isinstance(it.image, bytes | bytearray | memoryview)
        else it
        for it in items
    ]
