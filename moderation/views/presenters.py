"""Shaping a stored run result for the live console: highlights, groups, and what changed."""

from dataclasses import dataclass, field

from moderation.views.image_text import ImageTextView, image_text_rules, image_text_view

KIND_ORDER = ("keyword", "embedding", "concept", "classifier", "category", "condition")


@dataclass
class Segment:
    text: str
    term: str = ""  # the keyword term this span matched, when highlighted


@dataclass
class DecisionView:
    """One judged input (the prompt with one image, or the prompt alone)."""

    index: int
    action: str
    image: str | None
    prompt_segments: list[Segment]
    rules: list[dict]
    fired: list[dict]
    timings: dict
    calibrated: bool
    changes: list[str] = field(default_factory=list)
    previous_action: str | None = None
    image_text: ImageTextView | None = None  # what the OCR read, when a rule read image text
    image_url: str | None = None
    # rule_id -> the nearest training samples of a classifier (live console only)
    neighbours: dict = field(default_factory=dict)


def highlight(prompt: str, rules: list[dict]) -> list[Segment]:
    """The prompt cut into plain and matched segments, from every keyword rule's spans."""
    on_image = {id(r) for r in image_text_rules(rules)}
    spans = sorted(
        (m["span"][0], m["span"][1], m["term"])
        for r in rules
        if r["kind"] == "keyword" and id(r) not in on_image
        for m in r["explanation"].get("matches", [])
    )
    return split(prompt, spans)


def split(text: str, spans: list[tuple[int, int, str]]) -> list[Segment]:
    """`text` cut into plain segments and the (start, end, term) spans, sorted by start."""
    prompt = text
    segments, cursor = [], 0
    for start, end, term in spans:
        if start < cursor:  # overlapping matches: the first one wins the characters
            continue
        if start > cursor:
            segments.append(Segment(prompt[cursor:start]))
        segments.append(Segment(prompt[start:end], term))
        cursor = end
    if cursor < len(prompt):
        segments.append(Segment(prompt[cursor:]))
    return segments


def decisions(run) -> list[DecisionView]:
    """The run's decisions ready to show, compared with the run it re-ran when there is one."""
    if not run.result:
        return []
    before = _previous(run)
    views = []
    for index, (decision, item) in enumerate(
        zip(run.result["decisions"], run.result["inputs"], strict=True)
    ):
        view = decision_view(
            decision, prompt=item["prompt"] or "", image=item["image"], index=index
        )
        if before is not None and index < len(before):
            view.previous_action = before[index]["action"]
            view.changes = _changes(before[index], decision)
        views.append(view)
    return views


def decision_view(decision: dict, *, prompt: str, image: str | None, index: int = 0):
    """One stored decision (Decision.as_dict()) shaped for the explanation partial."""
    rules = sorted(decision["results"], key=_rule_order)
    return DecisionView(
        index=index,
        action=decision["action"],
        image=image,
        prompt_segments=highlight(prompt, rules),
        rules=rules,
        fired=[r for r in rules if r["fired"]],
        timings=decision["timings_ms"],
        calibrated=decision.get("calibrated", True),
        image_text=image_text_view(rules, split),
    )


def _rule_order(rule: dict):
    return (not rule["fired"], KIND_ORDER.index(rule["kind"]), rule["rule_name"], rule["modality"])


def _previous(run):
    if run.rerun_of is None or not run.rerun_of.result:
        return None
    return run.rerun_of.result["decisions"]


def _changes(old: dict, new: dict) -> list[str]:
    """Sentences naming the rules whose verdict moved between two decisions of one input."""

    def key(rule):
        return (rule["rule_id"], rule["modality"])

    was = {key(r): r for r in old["results"]}
    sentences = []
    for rule in new["results"]:
        prior = was.pop(key(rule), None)
        if prior is None:
            if rule["fired"]:
                sentences.append(f"new rule {rule['rule_name']} fired ({rule['action']})")
        elif prior["fired"] != rule["fired"] or prior["action"] != rule["action"]:
            state = f"now fires ({rule['action']})" if rule["fired"] else "no longer fires"
            sentences.append(f"{rule['rule_name']} {state}")
    for rule in was.values():
        if rule["fired"]:
            sentences.append(f"{rule['rule_name']} was removed (it fired {rule['action']})")
    return sentences
